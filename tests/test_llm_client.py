"""The LLM client and answers, against a scripted OpenAI-compatible endpoint: structured output,
bounded retries, refusals, the cache, token accounting; answers cite ids and say "I don't know";
and nothing on the zero-LLM path makes a client."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from memgrid import InvalidInputError, Memory, NoModelError
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


def test_the_packaged_model_is_named_by_its_size() -> None:
    """`--llm-base-url local --llm-model 0.5b` runs (and reports) the 0.5B; nothing starts here."""
    for model, local, size in ((None, "1.5b", "1.5b"), ("0.5b", "1.5b", "0.5b"), ("1.5b", "0.5b", "1.5b"),
                               (None, "0.5b", "0.5b")):
        config = LLMConfig(base_url="local", model=model, local_model=local)  # type: ignore[arg-type]
        assert config.packaged_model == size
        assert LLMClient(config).model_name == f"qwen2.5-coder-{size}-instruct-q4_k_m"
    assert LLMClient(LLMConfig(base_url="http://x/v1", model="gpt-4o-mini")).model_name == "gpt-4o-mini"
    with pytest.raises(InvalidInputError, match=r"0\.5b or 1\.5b"):  # not silently the 1.5B
        LLMClient(LLMConfig(base_url="local", model="3b")).model_name  # noqa: B018


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
    with pytest.raises(NoModelError, match="set MEMGRID_LLM_BASE_URL"):
        mem.answer("where?", user_id="ana")
    mem.close()


@dataclass
class Team:
    """A server with a model, an admin, and users alice and bob (keys for both)."""

    service: Any
    http: Any
    admin: Any
    alice: Any
    bob: Any
    bob_id: str
    bob_key: str


@contextmanager
def team_server(tmp_path: Path, model_home: Path, url: str) -> Iterator[Team]:
    from fastapi.testclient import TestClient

    from memgrid import Client
    from memgrid.server.app import create_app
    from memgrid.server.service import open_service

    config = hashing_config(model_home, tmp_path / "s.db")
    config.llm = LLMConfig(base_url=url, model="scripted")
    service = open_service(config)
    _, _, admin_key = service.access.create_tenant("acme")
    with TestClient(create_app(service)) as http:
        admin = Client("http://testserver", admin_key, http=http)
        alice_p, bob_p = admin.create_principal("user", "alice"), admin.create_principal("user", "bob")
        alice = Client("http://testserver", admin.create_key(alice_p.id).secret or "", http=http)
        bob_key = admin.create_key(bob_p.id).secret or ""
        bob = Client("http://testserver", bob_key, http=http)
        yield Team(service, http, admin, alice, bob, bob_p.id, bob_key)
    service.memory.close()


def _grounded(body: dict[str, Any]) -> str:
    """Answers with every numbered memory it was shown, so a test sees what reached the model."""
    prompt = body["messages"][-1]["content"]
    shown = [line for line in prompt.splitlines() if line[:1].isdigit()]
    if not shown:
        return json.dumps({"answer": "I don't know", "citations": []})
    return json.dumps({"answer": " | ".join(shown), "citations": list(range(1, len(shown) + 1))})


@pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument with the TestClient")
def test_answer_over_rest_client_and_mcp_keeps_the_sharing_rule(tmp_path: Path, model_home: Path) -> None:
    import asyncio

    from fastapi.testclient import TestClient
    from mcp import Client as MCPClient

    from memgrid import Client, NoModelError
    from memgrid.server.app import create_app
    from memgrid.server.mcp import build_mcp
    from memgrid.server.service import open_service

    with scripted_llm(_grounded) as llm, team_server(tmp_path, model_home, llm.url) as team:
        service, http, admin, alice, bob = team.service, team.http, team.admin, team.alice, team.bob
        bob_p_id, bob_key = team.bob_id, team.bob_key
        [shared] = alice.add("The offsite is in Lisbon", visibility="shared", session_id="offsite")
        alice.add("My salary is 90k and the offsite worries me")
        out = alice.answer("where is the offsite?")
        assert "Lisbon" in out.text and "salary" in out.text and len(out.citations) == 2
        assert bob.answer("where is the offsite?").text == "I don't know"  # nothing readable
        alice.grant(bob_p_id, resource="session", value="offsite")
        out = bob.answer("where is the offsite?")
        assert "Lisbon" in out.text and "salary" not in out.text and out.citations == [shared.id]
        assert "salary" not in llm.last_prompt()  # alice's private memory never reached the model
        assert any(e.action == "memory.answer" for e in admin.audit())
        bad = http.post("/v1/answer", json={"question": "q", "token_budget": 5},
                        headers={"Authorization": f"Bearer {bob_key}"})
        assert bad.status_code == 422

        async def over_mcp() -> str:
            async with MCPClient(build_mcp(service, bob_key)) as mcp:
                result = await mcp.call_tool("answer", {"question": "where is the offsite?"})
                return str(result.content[0].text)  # type: ignore[union-attr]

        assert json.loads(asyncio.run(over_mcp()))["citations"] == [shared.id]
    # a server without a model says so: 501, NoModelError in the client
    plain = open_service(hashing_config(model_home, tmp_path / "plain.db"))
    _, _, key = plain.access.create_tenant("solo")
    with TestClient(create_app(plain)) as http, pytest.raises(NoModelError, match="501"):
        Client("http://testserver", key, http=http).answer("anything?")
    plain.memory.close()


def test_cli_answer(tmp_path: Path, model_home: Path) -> None:
    from typer.testing import CliRunner

    from memgrid.cli.main import app

    db = str(tmp_path / "cli.db")
    runner = CliRunner(env={"MEMGRID_HOME": str(model_home), "MEMGRID_LLM_BASE_URL": ""})
    assert runner.invoke(app, ["add", "I moved to Denver last week", "--user", "ana", "--db", db,
                               "--embedder", "hashing"]).exit_code == 0
    missing = runner.invoke(app, ["answer", "where does ana live?", "--user", "ana", "--db", db])
    assert missing.exit_code == 2 and "MEMGRID_LLM_BASE_URL" in missing.output
    with scripted_llm(_grounded) as llm:
        done = runner.invoke(app, ["answer", "where does ana live?", "--user", "ana", "--db", db, "--json",
                                   "--llm-base-url", llm.url, "--llm-model", "scripted"])
        assert done.exit_code == 0, done.output
        out = json.loads(done.stdout)
        assert "Denver" in out["text"] and len(out["citations"]) == 1 and out["model"] == "scripted"


def test_deep_search_splits_the_question_and_the_model_orders_the_top(tmp_path: Path,
                                                                      model_home: Path) -> None:
    from memgrid.llm.deep import REWRITE_SYSTEM

    def reply(body: dict[str, Any]) -> str:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        if system == REWRITE_SYSTEM:
            return json.dumps({"queries": ["who is Ana's sister", "where does Marta live"]})
        shown = user.split("Memories:\n")[1].splitlines()
        wanted = [int(line.split(".")[0]) for line in shown if "Marta" in line]
        return json.dumps({"relevant": [*wanted[::-1], 999]})  # 999: no such candidate

    with scripted_llm(reply) as llm:
        mem = _memory(tmp_path, model_home, llm.url)
        mem.add("My sister is called Marta", user_id="ana")
        mem.add("Marta moved to Porto last year", user_id="ana")
        for i in range(30):
            mem.add(f"Note {i} about the garden and the weather", user_id="ana")
        plain = mem.search("where does my sister live?", user_id="ana", limit=5)
        deep = mem.search("where does my sister live?", user_id="ana", limit=5, deep=True)
        assert len(deep) == 5 and {h.memory.text for h in deep[:2]} == {
            "My sister is called Marta", "Marta moved to Porto last year"}
        assert deep[0].memory.text == "Marta moved to Porto last year"  # the model's order
        assert llm.requests[0]["messages"][0]["content"] == REWRITE_SYSTEM
        assert len(plain) == 5
        mem.close()
    with pytest.raises(NoModelError):
        _memory(tmp_path / "n", model_home, None).search("q", user_id="ana", deep=True)


@pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument with the TestClient")
def test_deep_search_over_rest_keeps_the_sharing_rule(tmp_path: Path, model_home: Path) -> None:

    from memgrid.llm.deep import REWRITE_SYSTEM

    def reply(body: dict[str, Any]) -> str:
        if body["messages"][0]["content"] == REWRITE_SYSTEM:
            return json.dumps({"queries": ["offsite city", "salary"]})
        shown = body["messages"][-1]["content"].split("Memories:\n")[1].splitlines()
        return json.dumps({"relevant": list(range(len(shown), 0, -1))})

    with scripted_llm(reply) as llm, team_server(tmp_path, model_home, llm.url) as team:
        alice, bob = team.alice, team.bob
        alice.add("The offsite is in Lisbon", visibility="shared", session_id="offsite")
        alice.add("My salary is 90k")
        alice.grant(team.bob_id, resource="session", value="offsite")
        assert len(alice.search("offsite and salary", deep=True)) == 2
        assert [h.memory.text for h in bob.search("offsite and salary", deep=True)] == [
            "The offsite is in Lisbon"]
        # bob's rerank (the rewrite was the same prompt as alice's: the cache answered it)
        last = json.dumps(llm.requests[-1])
        assert "Lisbon" in last and "salary is" not in last


def test_deep_search_falls_back_when_the_model_fails(tmp_path: Path, model_home: Path) -> None:
    with scripted_llm(lambda body: "not json") as llm:
        mem = _memory(tmp_path, model_home, llm.url)
        for text in ("My sister is called Marta", "Marta moved to Porto", "The garden needs water"):
            mem.add(text, user_id="ana")
        plain = mem.search("where does Marta live?", user_id="ana", limit=3)
        deep = mem.search("where does Marta live?", user_id="ana", limit=3, deep=True)
        assert [h.memory.id for h in deep] == [h.memory.id for h in plain]  # the plain ranking stands
        assert mem.llm.usage.failed == 2  # the rewrite and the rerank
        mem.close()
