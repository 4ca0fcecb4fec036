"""Every README snippet runs as written: Python blocks are executed (the server block against a
real `memgrid serve`, its placeholders filled in), and every `memgrid` command line in the shell
blocks of the README and docs/ names a verb and options that exist."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from memgrid.bench.load import ServerProcess
from memgrid.cli.main import app

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
pytestmark = pytest.mark.slow


def blocks(language: str, files: tuple[Path, ...] = (README,)) -> list[str]:
    pattern = re.compile(rf"^```{language}\n(.*?)^```", flags=re.S | re.M)
    return [block for f in files for block in pattern.findall(f.read_text())]


def test_the_embedded_snippet_runs(tmp_path: Path, model_home: Path) -> None:
    [snippet] = [b for b in blocks("python") if "Memory()" in b and "compat" not in b]
    home = tmp_path / "home"
    home.mkdir()
    (home / "models").symlink_to(model_home / "models", target_is_directory=True)  # distilled once
    (model_home / "models").mkdir(exist_ok=True)
    env = {**os.environ, "MEMGRID_HOME": str(home)}
    done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_the_mem0_snippet_runs(tmp_path: Path, model_home: Path) -> None:
    [snippet] = [b for b in blocks("python") if "compat.mem0" in b]
    home = tmp_path / "home"
    home.mkdir()
    (model_home / "models").mkdir(exist_ok=True)
    (home / "models").symlink_to(model_home / "models", target_is_directory=True)
    done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True,
                          env={**os.environ, "MEMGRID_HOME": str(home)}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "sci-fi" in done.stdout


def test_the_server_snippet_runs(tmp_path: Path, model_home: Path) -> None:
    [snippet] = [b for b in blocks("python") if "Client(" in b]
    env = {**os.environ, "MEMGRID_HOME": str(model_home)}
    db = str(tmp_path / "team.db")
    made = subprocess.run([sys.executable, "-m", "memgrid", "admin", "create-tenant", "acme", "--db", db,
                           "--json"], env=env, capture_output=True, text=True, check=True)
    key = json.loads(made.stdout)["api_key"]
    server = ServerProcess(db, "hashing", env)
    server.start()
    try:
        code = snippet.replace("http://127.0.0.1:8420", server.url).replace("mg_...admin key...", key)
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-3000:]
    finally:
        server.stop()


def test_every_shell_command_names_real_verbs_and_options() -> None:
    runner = CliRunner()
    checked = 0
    for block in blocks("sh", (README, *DOCS)):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0]
            if "bin/memgrid " not in line:
                continue
            words = shlex.split(line.split("bin/memgrid ", 1)[1].split("&&")[0].split(";")[0])
            verbs = [w for w in words[:2] if not w.startswith("-")][:2]
            found = runner.invoke(app, [*verbs[:1], "--help"])
            if found.exit_code != 0 or "Commands" in found.output:  # a group: bench, admin
                found = runner.invoke(app, [*verbs, "--help"])
            assert found.exit_code == 0, (line, found.output)
            for option in (w.split("=")[0] for w in words if w.startswith("--")):
                assert option in found.output, (line, option)
            checked += 1
    assert checked >= 8
