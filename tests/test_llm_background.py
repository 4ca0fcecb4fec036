"""Background fact extraction: `add(infer=True, background=True)` returns before the model runs,
a worker drains the durable queue, a crash loses nothing queued, and failures are kept, retried
and reported."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from memgrid import InvalidInputError, Memory, NoModelError
from memgrid.config import LLMConfig
from memgrid.llm.background import ExtractionWorker, WorkerPolicy
from tests.conftest import hashing_config
from tests.scripted_llm import scripted_llm
from tests.test_llm_extraction import judge, model


def _memory(tmp_path: Path, model_home: Path, url: str | None, **kw: Any) -> Memory:
    config = hashing_config(model_home, tmp_path / "mem.db", **kw)
    config.llm = LLMConfig(base_url=url, model="scripted", max_retries=0)
    return Memory(config=config)


def _wait(until: Any, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not until():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_background_add_returns_before_the_model_and_the_worker_extracts(tmp_path: Path,
                                                                        model_home: Path) -> None:
    gate = threading.Event()
    reply = model(judge)

    def slow(body: dict[str, Any]) -> str:
        gate.wait(20)
        return reply(body)

    with scripted_llm(slow) as llm:
        mem = _memory(tmp_path, model_home, llm.url)
        turns = [{"role": "user", "content": "I live in Lyon and work at Acme."},
                 {"role": "assistant", "content": "Noted!"}]
        added = mem.add(turns, user_id="dana", infer=True, background=True, timestamp="2024-01-10")
        assert added.queued and added.facts == [] and len(added) == 2  # the turns are stored now
        status = mem.extraction_status(user_id="dana")
        assert status.pending + status.running == 1 and status.done == 0
        assert mem.list(user_id="dana", filters={"kind": "fact"}).items == []
        gate.set()
        _wait(lambda: mem.extraction_status(user_id="dana").done == 1)
        facts = mem.list(user_id="dana", filters={"kind": "fact"}).items
        assert sorted(f.text for f in facts) == ["The user lives in Lyon.", "The user works at Acme."]
        assert all(list(f.provenance.source_ids) == [added[0].id] for f in facts)
        # a repeat stores nothing, so nothing is queued
        again = mem.add(turns, user_id="dana", infer=True, background=True, timestamp="2024-01-10")
        assert not again.queued
        mem.close()


def test_bad_calls_are_refused_before_anything_is_stored(tmp_path: Path, model_home: Path) -> None:
    mem = _memory(tmp_path, model_home, None)
    with pytest.raises(InvalidInputError, match="infer=True"):
        mem.add("I live in Lyon", user_id="dana", background=True)
    with pytest.raises(NoModelError):
        mem.add("I live in Lyon", user_id="dana", infer=True, background=True)
    with pytest.raises(InvalidInputError, match="background must be"):
        mem.add("I live in Lyon", user_id="dana", infer=True, background="yes")  # type: ignore[arg-type]
    with pytest.raises(NoModelError):
        mem.drain_extractions()
    assert mem.list(user_id="dana").items == []
    assert mem.extraction_status().pending == 0
    mem.close()


def test_a_failing_model_is_retried_then_reported_and_the_turns_stay(tmp_path: Path,
                                                                     model_home: Path) -> None:
    with scripted_llm(lambda body: (400, "no such model")) as llm:
        mem = _memory(tmp_path, model_home, llm.url, extraction_worker=False)
        added = mem.add("I live in Lyon", user_id="dana", infer=True, background=True)
        status = mem.drain_extractions()
        assert (status.pending, status.failed) == (1, 0)  # waits before its next attempt
        [error] = status.errors
        assert error.state == "pending" and error.attempts == 1 and "no such model" in error.error
        assert mem.drain_extractions().pending == 1  # not due yet: nothing ran
        assert len(llm.requests) == 1
        # a worker that retries at once gives up after its third attempt
        other = mem.add("I work at Acme", user_id="dana", infer=True, background=True)
        worker = ExtractionWorker(mem, WorkerPolicy(retry_after_s=0.0, max_attempts=3))
        assert worker.drain() == 3
        status = mem.extraction_status(user_id="dana")
        assert (status.pending, status.failed) == (1, 1)
        assert (status.errors[0].state, status.errors[0].attempts) == ("failed", 3)
        assert [m.id for m in mem.list(user_id="dana").items] == [added[0].id, other[0].id]
        mem.erase(user_id="dana")  # erasing a user drops their jobs too
        assert mem.extraction_status(user_id="dana") == mem.extraction_status() \
            and mem.extraction_status().pending + mem.extraction_status().failed == 0
        mem.close()


CHILD = """
import sys
from pathlib import Path
from memgrid import Memory
from memgrid.config import LLMConfig
from tests.conftest import hashing_config
config = hashing_config(Path(sys.argv[1]), Path(sys.argv[2]), extraction_lease_s=1.0)
config.llm = LLMConfig(base_url=sys.argv[3], model="scripted", max_retries=0, timeout=60)
mem = Memory(config=config)
added = mem.add("I moved to Berlin", user_id="dana", infer=True, background=True)
print(added[0].id, flush=True)
sys.stdin.read()
"""


def test_a_crash_loses_no_queued_work(tmp_path: Path, model_home: Path) -> None:
    """The worker is killed while the model works on a job; the next process resumes it."""
    claimed = threading.Event()

    def hang(body: dict[str, Any]) -> str:
        claimed.set()
        time.sleep(30)
        return json.dumps({"facts": []})

    db = tmp_path / "mem.db"
    with scripted_llm(hang) as stuck:
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(model_home), str(db), stuck.url],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                 cwd=Path(__file__).parent.parent)
        try:
            turn = (child.stdout.readline() if child.stdout else "").strip()
            assert claimed.wait(20), "the child's worker never called the model"
        finally:
            os.kill(child.pid, signal.SIGKILL)
            child.wait()
    assert turn
    with scripted_llm(model(judge)) as llm:
        mem = _memory(tmp_path, model_home, llm.url)  # opening a store with due work resumes it
        _wait(lambda: mem.extraction_status().done == 1)
        [fact] = mem.list(user_id="dana", filters={"kind": "fact"}).items
        assert fact.text == "The user lives in Berlin." and list(fact.provenance.source_ids) == [turn]
        mem.close()


def test_rest_client_and_mcp_queue_extraction_and_tell_progress(tmp_path: Path, model_home: Path) -> None:
    import asyncio

    from mcp import Client as MCPClient

    from memgrid import PermissionDeniedError
    from memgrid.server.mcp import build_mcp
    from tests.test_llm_client import team_server

    with scripted_llm(model(judge)) as llm, team_server(tmp_path, model_home, llm.url) as team:
        added = team.alice.add("I live in Lyon", infer=True)
        assert added.queued and len(added) == 1  # the request does not wait for the model
        _wait(lambda: team.alice.extraction_status().done == 1)
        [fact] = team.alice.list(kind="fact").items
        assert fact.text == "The user lives in Lyon." and list(fact.provenance.source_ids) == [added[0].id]
        assert team.bob.extraction_status().done == 0  # bob sees his own progress only
        with pytest.raises(PermissionDeniedError):
            team.bob.extraction_status(user_id="alice")
        assert team.admin.extraction_status().done == 1  # the admin: the whole tenant
        assert team.admin.extraction_status(user_id="bob").done == 0
        plain = team.alice.add("just a note")
        assert not plain.queued
        assert any(e.action == "extraction.status" for e in team.admin.audit())

        async def over_mcp() -> None:
            async with MCPClient(build_mcp(team.service, team.bob_key)) as mcp:
                result = await mcp.call_tool("remember", {"text": "I moved to Berlin", "infer": True})
                assert not result.is_error, result

        asyncio.run(over_mcp())
        _wait(lambda: team.bob.extraction_status().done == 1)
        assert [f.text for f in team.bob.list(kind="fact").items] == ["The user lives in Berlin."]
        bad = team.http.post("/v1/memories", json={"text": "x", "infer": "sure"},
                             headers={"Authorization": f"Bearer {team.bob_key}"})
        assert bad.status_code == 422


def test_cli_queues_and_drains(tmp_path: Path, model_home: Path) -> None:
    from typer.testing import CliRunner

    from memgrid.cli.main import app

    db = str(tmp_path / "cli.db")
    runner = CliRunner(env={"MEMGRID_HOME": str(model_home), "MEMGRID_LLM_BASE_URL": ""})
    refused = runner.invoke(app, ["add", "I live in Lyon", "--user", "ana", "--db", db, "--embedder",
                                  "hashing", "--infer", "--background"])
    assert refused.exit_code == 2 and "MEMGRID_LLM_BASE_URL" in refused.output
    with scripted_llm(model(judge)) as llm:
        opts = ["--llm-base-url", llm.url, "--llm-model", "scripted"]
        queued = runner.invoke(app, ["add", "I live in Lyon", "--user", "ana", "--db", db, "--embedder",
                                     "hashing", "--infer", "--background", *opts])
        assert queued.exit_code == 0 and "queued" in queued.output and llm.requests == []
        status = runner.invoke(app, ["extract", "status", "--db", db, "--json"])
        assert json.loads(status.stdout)["pending"] == 1
        drained = runner.invoke(app, ["extract", "drain", "--db", db, "--json", *opts])
        assert drained.exit_code == 0, drained.output
        assert json.loads(drained.stdout)["done"] == 1
        listed = runner.invoke(app, ["list", "--user", "ana", "--db", db, "--json"])
        assert "The user lives in Lyon." in listed.stdout
        now = runner.invoke(app, ["add", "I moved to Berlin", "--user", "ana", "--db", db, "--infer", *opts])
        assert now.exit_code == 0 and "UPDATE The user lives in Berlin." in now.output
    lonely = runner.invoke(app, ["add", "x", "--user", "ana", "--db", db, "--background"])
    assert lonely.exit_code == 2 and "infer=True" in lonely.output
