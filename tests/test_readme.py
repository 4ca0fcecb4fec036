"""Every snippet in the README and the docs runs as written: each Python block is executed (one
that uses `Client` against a real `memgrid serve`, its placeholders filled in); the one-shot
`memgrid` shell lines are run; every other `memgrid` command line (servers, benchmarks) names a
verb and options that exist. The docs site itself is built with `mkdocs --strict` by .ci/run."""

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
DOCS = sorted((ROOT / "docs").rglob("*.md"))
PAGES = (README, *DOCS)
ONE_SHOT = {"add", "search", "context", "list", "users", "stats", "profile", "export"}
pytestmark = pytest.mark.slow


def blocks(language: str, files: tuple[Path, ...] = PAGES) -> list[tuple[str, str]]:
    pattern = re.compile(rf"^```{language}\n(.*?)^```", flags=re.S | re.M)
    return [(f"{f.relative_to(ROOT)}#{i}", block) for f in files
            for i, block in enumerate(pattern.findall(f.read_text()))]


def _home(tmp_path: Path, model_home: Path) -> Path:
    """A fresh memgrid home that shares the run's distilled static model."""
    home = tmp_path / "home"
    home.mkdir()
    (model_home / "models").mkdir(exist_ok=True)
    (home / "models").symlink_to(model_home / "models", target_is_directory=True)
    return home


@pytest.mark.parametrize(("where", "snippet"), blocks("python"), ids=[w for w, _ in blocks("python")])
def test_every_python_snippet_runs(where: str, snippet: str, tmp_path: Path, model_home: Path) -> None:
    env = {**os.environ, "MEMGRID_HOME": str(_home(tmp_path, model_home))}
    server = None
    if "Client(" in snippet:
        db = str(tmp_path / "team.db")
        made = subprocess.run([sys.executable, "-m", "memgrid", "admin", "create-tenant", "acme", "--db", db,
                               "--json"], env=env, capture_output=True, text=True, check=True)
        key = json.loads(made.stdout)["api_key"]
        server = ServerProcess(db, "hashing", env)
        server.start()
        snippet = snippet.replace("http://127.0.0.1:8420", server.url).replace("mg_...admin key...", key)
    try:
        done = subprocess.run([sys.executable, "-c", snippet], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=600)
    finally:
        if server is not None:
            server.stop()
    assert done.returncode == 0, (where, done.stderr[-3000:])
    if "compat.mem0" in snippet:
        assert "sci-fi" in done.stdout


def _memgrid_lines() -> list[tuple[str, list[str]]]:
    found = []
    for where, block in blocks("sh"):
        for line in block.replace("\\\n", " ").splitlines():
            line = line.split("#")[0]
            if "bin/memgrid " in line:
                command = line.split("bin/memgrid ", 1)[1].split("&&")[0].split(";")[0]
                found.append((where, shlex.split(command)))
    return found


def test_one_shot_shell_lines_run(tmp_path: Path, model_home: Path) -> None:
    env = {**os.environ, "MEMGRID_HOME": str(_home(tmp_path, model_home))}
    ran = 0
    for where, words in _memgrid_lines():
        local = not any(w.startswith(("postgresql://", "$")) for w in words)
        if local and (words[0] in ONE_SHOT or words[:2] == ["admin", "create-tenant"]):
            cwd = tmp_path / re.sub(r"\W", "_", where)  # each block from an empty folder
            cwd.mkdir(exist_ok=True)
            done = subprocess.run([sys.executable, "-m", "memgrid", *words], cwd=cwd, env=env,
                                  capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, (where, words, done.stderr[-2000:])
            ran += 1
    assert ran >= 3
    assert "Denver" in subprocess.run([sys.executable, "-m", "memgrid", "search", "Denver", "--user", "alice",
                                       "--db", "quickstart.db"], cwd=tmp_path / "docs_getting_started_md_1",
                                      env=env, capture_output=True,
                                      text=True).stdout


def test_every_shell_command_names_real_verbs_and_options() -> None:
    runner = CliRunner()
    checked = 0
    for where, words in _memgrid_lines():
        verbs = [w for w in words[:2] if not w.startswith("-")][:2]
        found = runner.invoke(app, [*verbs[:1], "--help"])
        if found.exit_code != 0 or "Commands" in found.output:  # a group: bench, admin
            found = runner.invoke(app, [*verbs, "--help"])
        assert found.exit_code == 0, (where, words, found.output)
        for option in (w.split("=")[0] for w in words if w.startswith("--")):
            assert option in found.output, (where, option)
        checked += 1
    assert checked >= 8
