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
