"""The real embedders (integration): MiniLM from its PyPI package, the static model distilled
from it, and the OpenAI-compatible client against a local stub server."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import numpy as np
import pytest

from memgrid import EmbedderConfig, MemgridConfig, Memory
from memgrid.embedders import create_embedder
from memgrid.errors import EmbedderError

pytestmark = pytest.mark.slow


def _similarity_ok(provider: str, home: Path) -> None:
    emb = create_embedder(EmbedderConfig(provider=provider), home)  # type: ignore[arg-type]
    v = emb.embed(["I adopted a puppy", "We got a new dog", "Quarterly tax filing deadline"])
    assert v.shape == (3, emb.dims) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-3)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.1


def test_minilm_embeds_offline(model_home: Path) -> None:
    _similarity_ok("minilm", model_home)


def test_static_model_is_distilled_once_and_cached(model_home: Path) -> None:
    _similarity_ok("static", model_home)
    assert (model_home / "models" / "minilm-l6-v2-static-256" / "config.json").exists()


def test_cache_returns_identical_vectors(model_home: Path) -> None:
    emb = create_embedder(EmbedderConfig(provider="static"), model_home)
    a = emb.embed(["same text", "other text"])
    b = emb.embed(["other text", "same text"])
    assert np.array_equal(a[0], b[1]) and np.array_equal(a[1], b[0])


def test_default_memory_recalls_paraphrase(tmp_path: Path, static_memory_config: MemgridConfig) -> None:
    config = static_memory_config.model_copy(update={"path": tmp_path / "m.db"})
    with Memory(config=config) as mem:
        mem.add(["I adopted a golden retriever last spring", "My favourite band is Radiohead",
                 "Tax documents are due in April"], user_id="alice")
        hits = mem.search("which pet did I adopt?", user_id="alice", limit=1)
        assert hits[0].memory.text.startswith("I adopted")


class _Handler(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        assert self.headers["Authorization"] == "Bearer sk-test"
        data = [{"index": i, "embedding": [float(len(t)), 1.0, 0.0]} for i, t in enumerate(body["input"])]
        payload = json.dumps({"data": list(reversed(data)), "model": body["model"]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: object) -> None:
        pass


def test_openai_compatible_endpoint(model_home: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/v1"
        emb = create_embedder(EmbedderConfig(provider="openai", model="stub", base_url=url,
                                             api_key="sk-test"), model_home)
        assert emb.dims == 3
        v = emb.embed(["a", "abcd"])
        assert v[0] @ v[1] < 0.99  # order restored from 'index', rows normalised
        assert np.isclose(v[1][0] / v[1][1], 4.0)
    finally:
        server.shutdown()
    with pytest.raises(EmbedderError, match="failed"):
        create_embedder(EmbedderConfig(provider="openai", model="stub", base_url=url), model_home)
