"""The LLM client and answers, against a scripted OpenAI-compatible endpoint: structured output,
bounded retries, refusals, the cache, token accounting; answers cite ids and say "I don't know";
and nothing on the zero-LLM path makes a client."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from memgrid import InvalidInputError, Memory
from memgrid.config import LLMConfig
from memgrid.llm.client import LLMClient, LLMError
from tests.conftest import hashing_config
from tests.scripted_llm import scripted_llm


class Pair(BaseModel):
    name: str
    count: int


def _client(url: str, **kw: Any) -> LLMClient:
    return LLMClient(LLMConfig(base_url=url, model="scripted", **kw))


def test_structured_output_cache_and_usage() -> None:
    with scripted_llm(lambda body: json.dumps({"name": "tea", "count": 2})) as llm:
        client = _client(llm.url, api_key="sk-test")
        ask = [{"role": "user", "content": "how many teas?"}]
        pair, call = client.structured(ask, Pair, task="count")
        assert pair == Pair(name="tea", count=2) and not call.cached
        again, cached = client.structured(ask, Pair, task="count")
        assert again == pair and cached.cached and len(llm.requests) == 1  # the cache answered
        body = llm.requests[0]
        assert body["temperature"] == 0 and body["model"] == "scripted"
        assert body["response_format"]["json_schema"]["schema"]["required"] == ["name", "count"]
        assert llm.headers[0]["Authorization"] == "Bearer sk-test"
        assert client.usage.calls == 2 and client.usage.cached == 1
        assert client.usage.prompt_tokens == 10 and client.usage.completion_tokens == 5
        assert client.usage.by_task["count"]["calls"] == 2


def test_output_that_breaks_the_schema_is_asked_again_then_refused() -> None:
    answers = iter(["not json at all", "```json\n{\"name\": \"x\", \"count\": 3}\n```"])
    with scripted_llm(lambda body: next(answers)) as llm:
        pair, _ = _client(llm.url).structured([{"role": "user", "content": "q"}], Pair)
        assert pair.count == 3 and len(llm.requests) == 2
        assert "That was not valid" in llm.requests[1]["messages"][-1]["content"]
    with scripted_llm(lambda body: json.dumps({"name": "x"})) as llm:
        with pytest.raises(LLMError, match="never fit Pair after 2 tries"):
            _client(llm.url, max_retries=1).structured([{"role": "user", "content": "q"}], Pair)
        assert len(llm.requests) == 2


def test_server_errors_are_retried_and_refusals_are_not() -> None:
    answers = iter([(503, "busy"), (200, json.dumps({"name": "a", "count": 1}))])
    with scripted_llm(lambda body: next(answers)) as llm:
        assert _client(llm.url).structured([{"role": "user", "content": "q"}], Pair)[0].count == 1
        assert len(llm.requests) == 2
    with scripted_llm(lambda body: (400, "model not found")) as llm:
        with pytest.raises(LLMError, match=r"refused the request .*400.*model not found"):
            _client(llm.url).complete([{"role": "user", "content": "q"}])
        assert len(llm.requests) == 1
    with pytest.raises(LLMError, match="failed 1 times"):  # nothing listens there
        _client("http://127.0.0.1:9/v1", max_retries=0, timeout=2).complete([{"role": "user",
                                                                             "content": "q"}])


def _memory(tmp_path: Path, model_home: Path, url: str | None) -> Memory:
    config = hashing_config(model_home, tmp_path / "mem.db")
    config.llm = LLMConfig(base_url=url, model="scripted")
    return Memory(config=config)


def test_answer_cites_memory_ids_and_says_when_it_does_not_know(tmp_path: Path, model_home: Path) -> None:
    def reply(body: dict[str, Any]) -> str:
        prompt = body["messages"][-1]["content"]
        if "salary" in prompt:
            return json.dumps({"answer": "I don't know.", "citations": [1]})
        number = next(line.split(".")[0] for line in prompt.splitlines() if "Berlin" in line)
        return json.dumps({"answer": "Berlin", "citations": [int(number), 99]})

    with scripted_llm(reply) as llm:
        mem = _memory(tmp_path, model_home, llm.url)
        mem.add("I live in Lyon", user_id="ana", timestamp="2023-01-05")
        berlin = mem.add("I moved to Berlin last month", user_id="ana", timestamp="2024-03-01")[0]
        mem.add("I live in Oslo", user_id="ben")
        out = mem.answer("where does ana live now?", user_id="ana", token_budget=500)
        assert out.text == "Berlin" and out.known and out.citations == [berlin.id]  # 99: no such memory
        assert out.context_tokens > 0 and out.model == "scripted" and out.prompt_tokens == 20
        prompt = llm.last_prompt()
        assert "Oslo" not in prompt  # only ana's memories reach the model
        assert "[was true until 2024-03-01]" in prompt  # the replaced fact is marked for the model
        assert "Today is" in prompt
        unknown = mem.answer("what is ana's salary?", user_id="ana")
        assert unknown.text == "I don't know" and not unknown.known and unknown.citations == []
        calls = len(llm.requests)
        empty = mem.answer("anything?", user_id="nobody")
        assert empty.text == "I don't know" and len(llm.requests) == calls  # no memory, no call
        with pytest.raises(InvalidInputError, match="token_budget"):
            mem.answer("q", user_id="ana", token_budget=10)
        mem.close()


def test_the_zero_llm_path_makes_no_client(tmp_path: Path, model_home: Path) -> None:
    mem = _memory(tmp_path, model_home, None)
    mem.add("I moved to Denver", user_id="ana")
    mem.search("where?", user_id="ana")
    mem.context("where?", user_id="ana")
    assert mem._llm is None
    with pytest.raises(InvalidInputError, match="set MEMGRID_LLM_BASE_URL"):
        mem.answer("where?", user_id="ana")
    mem.close()
