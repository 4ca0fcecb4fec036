"""The real local model (Qwen2.5-Coder-0.5B from its PyPI packages, llama.cpp through its HTTP
server) on the client, answer, extraction and judge paths, and `memgrid llm serve`. The 0.5B
model is small: these tests check the plumbing and the guarantees (valid output, ids that exist,
evidence kept), not the quality of its judgement, which the benchmarks measure with the 1.5B."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import BaseModel

from memgrid import Memory
from memgrid.config import LLMConfig
from memgrid.llm.client import LLMClient
from tests.conftest import hashing_config

pytest.importorskip("xllamacpp")
pytestmark = pytest.mark.slow
# fixed days: the prompt (and so a temperature-0 answer) must not change with the day the suite runs
ADDED, ASKED = "2024-05-01T10:00:00", "2024-05-02T09:00:00"


@pytest.fixture(scope="module")
def local_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from memgrid.llm.local import LocalServer

    models = tmp_path_factory.mktemp("models")
    server = LocalServer("0.5b", models, context=4096)
    assert (models / "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf").stat().st_size == 491_400_064
    yield server.base_url
    del server


class City(BaseModel):
    city: str


def test_structured_output_from_the_real_model(local_url: str) -> None:
    client = LLMClient(LLMConfig(base_url=local_url, model="local"))
    ask = [{"role": "user", "content": "Which city does this sentence name? 'Next spring we move to Porto.'"}]
    out, call = client.structured(ask, City)
    assert "porto" in out.city.lower()
    assert call.prompt_tokens > 10 and call.completion_tokens > 0 and call.ms > 0
    assert client.structured(ask, City)[1].cached


def _memory(tmp_path: Path, model_home: Path, url: str) -> Memory:
    config = hashing_config(model_home, tmp_path / "mem.db")
    config.llm = LLMConfig(base_url=url, model="local")
    return Memory(config=config)


def test_answer_from_the_real_model(local_url: str, tmp_path: Path, model_home: Path) -> None:
    mem = _memory(tmp_path, model_home, local_url)
    ids = {r.id for text in ("I live in Lyon", "My cat is called Miso", "I play the cello")
           for r in mem.add(text, user_id="ana", timestamp=ADDED)}
    out = mem.answer("What is my cat called?", user_id="ana", reference_time=ASKED)
    assert "Miso" in out.text and out.known
    assert set(out.citations) <= ids  # only memories it was shown
    assert out.context_tokens > 0 and out.prompt_tokens > out.context_tokens
    unknown = mem.answer("What is my salary?", user_id="ana", reference_time=ASKED)
    assert not unknown.known and unknown.citations == []
    mem.close()


def test_extraction_and_judge_with_the_real_model(local_url: str, tmp_path: Path, model_home: Path) -> None:
    mem = _memory(tmp_path, model_home, local_url)
    first = mem.add([{"role": "user", "content": "I live in Lyon and I work at Acme as a nurse."},
                     {"role": "assistant", "content": "Great! I work at OpenAI myself."}],
                    user_id="ana", timestamp="2024-01-10T09:00:00", infer=True)
    assert first.facts and all(f.source_ids == [first[0].id] for f in first.facts)
    assert not any("OpenAI" in f.text for f in first.facts)  # the assistant's turn is never read
    facts = mem.list(user_id="ana", filters={"kind": "fact"}).items
    assert facts and all(f.provenance.method == "extracted" for f in facts)
    moved = mem.add("I moved to Berlin last month.", user_id="ana", timestamp="2024-03-20T09:00:00",
                    infer=True)
    for event in moved.facts:  # whatever the small model decided, it landed consistently
        assert event.event in ("ADD", "UPDATE", "DELETE", "NOOP")
        if event.event == "UPDATE":
            old = mem.get(event.target or "")
            assert old.superseded_by == event.id and old.valid_to is not None
        if event.event == "DELETE":
            assert mem.get(event.target or "").valid_to is not None
    total = len(mem.list(user_id="ana").items)
    assert total == 3 + len(facts) + sum(e.event in ("ADD", "UPDATE") for e in moved.facts)  # none removed
    mem.close()


def test_background_extraction_with_the_real_model(local_url: str, tmp_path: Path, model_home: Path) -> None:
    config = hashing_config(model_home, tmp_path / "mem.db", extraction_worker=False)
    config.llm = LLMConfig(base_url=local_url, model="local")
    mem = Memory(config=config)
    added = mem.add([{"role": "user", "content": "I live in Lyon and I work at Acme as a nurse."}],
                    user_id="ana", timestamp="2024-01-10T09:00:00", infer=True, background=True)
    assert added.queued and mem.list(user_id="ana", filters={"kind": "fact"}).items == []
    status = mem.drain_extractions()  # the real model, through llama.cpp's HTTP server
    assert (status.pending, status.running, status.done, status.failed) == (0, 0, 1, 0), status
    facts = mem.list(user_id="ana", filters={"kind": "fact"}).items
    assert facts and all(list(f.provenance.source_ids) == [added[0].id] for f in facts)
    mem.close()


def test_local_runs_in_process_and_llm_serve_serves(tmp_path: Path, model_home: Path) -> None:
    """`MEMGRID_LLM_BASE_URL=local`: the model starts inside the process on first use."""
    config = hashing_config(model_home, tmp_path / "mem.db")
    config.llm = LLMConfig(base_url="local", local_model="0.5b", context_tokens=2048)
    mem = Memory(config=config)
    mem.add("My cat is called Miso", user_id="ana", timestamp=ADDED)
    assert "Miso" in mem.answer("What is my cat called?", user_id="ana", reference_time=ASKED).text
    mem.close()
    port = 18000 + os.getpid() % 1000
    served = subprocess.Popen([sys.executable, "-m", "memgrid", "llm", "serve", "--model", "0.5b",
                               "--port", str(port), "--context", "2048"],
                              env={**os.environ, "MEMGRID_HOME": str(model_home)},
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                reply = httpx.post(f"http://127.0.0.1:{port}/v1/chat/completions", timeout=60, json={
                    "model": "local", "max_tokens": 8, "messages": [{"role": "user", "content": "Say hi"}]})
                if reply.status_code != 503:  # 503 while the model loads
                    break
            except httpx.HTTPError:
                assert served.poll() is None, served.stderr.read() if served.stderr else ""
            time.sleep(0.5)
        assert reply.status_code == 200 and reply.json()["choices"][0]["message"]["content"]
    finally:
        served.terminate()
        served.wait(timeout=30)
