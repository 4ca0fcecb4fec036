"""What ships: the wheel and sdist build and pass `twine check`, the wheel alone imports and runs
(typed, with every subpackage), and the container files pass their checkers; the container's
start-up script creates the first tenant once and serves."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _run(*args: str | Path, **kw: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=600, **kw)  # type: ignore[call-overload]
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
    return done  # type: ignore[no-any-return]


def test_wheel_and_sdist_build_check_and_import_alone(tmp_path: Path) -> None:
    source = tmp_path / "src"  # a copy: building writes egg-info and build/ beside the sources
    skip = shutil.ignore_patterns(".venv", ".git", "site", "build", "*.egg-info", "__pycache__",
                                  ".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis")
    shutil.copytree(ROOT, source, ignore=skip)
    dist = tmp_path / "dist"
    _run(sys.executable, "-m", "build", "--no-isolation", "--sdist", "--wheel", "--outdir", dist, source)
    wheel = next(dist.glob("memgrid-*.whl"))
    sdist = next(dist.glob("memgrid-*.tar.gz"))
    _run(BIN / "twine", "check", "--strict", wheel, sdist)
    import memgrid

    assert wheel.name.startswith(f"memgrid-{memgrid.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("memgrid/py.typed", "memgrid/integrations/langgraph.py", "memgrid/server/app.py",
                   "memgrid/cli/main.py", "memgrid/server/console/static/index.html",
                   "memgrid/server/console/static/console.js", "memgrid/server/console/static/console.css",
                   "memgrid/server/console/static/vendor/cytoscape.min.js",
                   "memgrid/server/console/static/vendor/cytoscape.LICENSE"):
        assert needed in names, needed
    assert not [n for n in names if n.startswith("tests/")]
    # the wheel's own files, not this checkout's: installed apart, imported with the dependencies
    # already in this environment
    target = tmp_path / "installed"
    _run(sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target", target, wheel)
    probe = ("import memgrid, memgrid.cli.main, memgrid.integrations.langgraph; "
             "print(memgrid.__file__, memgrid.__version__)")
    out = _run(sys.executable, "-c", probe, env={**os.environ, "PYTHONPATH": str(target)}, cwd=tmp_path)
    location, version = out.stdout.split()
    assert location.startswith(str(target)) and version == memgrid.__version__


def test_dockerfile_passes_hadolint() -> None:
    _run(BIN / "hadolint", "--failure-threshold", "info", ROOT / "Dockerfile")
    text = (ROOT / "Dockerfile").read_text()
    assert "HEALTHCHECK" in text and "\nUSER " in text  # non-root, with a health check
    for line in text.splitlines():  # everything it copies is in the repository
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source).exists(), source


def test_compose_file_follows_the_compose_spec() -> None:
    _run(BIN / "check-jsonschema", "--builtin-schema", "vendor.compose-spec", ROOT / "compose.yaml")
    import yaml

    compose = yaml.safe_load((ROOT / "compose.yaml").read_text())
    service = compose["services"]["memgrid"]
    assert service["depends_on"]["db"]["condition"] == "service_healthy"
    assert service["environment"]["MEMGRID_DB"].startswith("postgresql://")
    assert service["ports"] == ["127.0.0.1:8420:8420"]  # not open to the network by default


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """The image's entrypoint, as the container runs it; returns once /healthz answers."""
    proc = subprocess.Popen(["sh", str(ROOT / "docker" / "entrypoint.sh")], env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{env['MEMGRID_PORT']}/healthz"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                if answer.status == 200:
                    return proc, url
        except OSError:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(0.5)
    proc.kill()
    raise AssertionError("the server did not answer /healthz")


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    out, _ = proc.communicate(timeout=60)
    return out


def test_entrypoint_creates_the_tenant_once_then_serves(tmp_path: Path, model_home: Path) -> None:
    db = tmp_path / "team.db"
    env = {**os.environ, "PATH": f"{BIN}:{os.environ['PATH']}", "MEMGRID_HOME": str(model_home),
           "MEMGRID_DB": str(db), "MEMGRID_TENANT": "acme", "MEMGRID_PORT": str(_free_port())}
    proc, _ = _start(env)
    first = _stop(proc)
    assert first.count("admin API key (store it now): mg_") == 1
    key = first.split("admin API key (store it now): ")[1].split()[0]
    tenant_id = first.split("tenant ")[1].split(",")[0]
    proc, url = _start({**env, "MEMGRID_PORT": str(_free_port())})
    try:
        request = urllib.request.Request(url.replace("/healthz", "/v1/admin/tenant"),
                                         headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert json.loads(answer.read())["tenant_id"] == tenant_id  # the first start's key works
    finally:
        second = _stop(proc)
    assert "admin API key" not in second and "tenant 'acme' exists" in second
    missing = subprocess.run(["sh", str(ROOT / "docker" / "entrypoint.sh")], capture_output=True, text=True,
                             env={k: v for k, v in env.items() if k != "MEMGRID_DB"}, timeout=60)
    assert missing.returncode != 0 and "set MEMGRID_DB" in missing.stderr
