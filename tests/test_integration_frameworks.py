"""The LangChain, LlamaIndex and OpenAI Agents SDK integrations, each driven by its real library:
a LangChain chain with message history, a LlamaIndex agent memory flushing into memgrid, and an
Agents SDK `Runner` (with a scripted model: no LLM here) keeping its session in memgrid."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memgrid import Memory
from tests.conftest import hashing_config


@pytest.fixture
def mem(tmp_path: Path, model_home: Path) -> Iterator[Memory]:
    m = Memory(config=hashing_config(model_home, tmp_path / "mem.db"))
    yield m
    m.close()


# -- LangChain


def test_langchain_retriever_returns_documents_best_first(mem: Memory) -> None:
    pytest.importorskip("langchain_core")
    from memgrid.integrations.langchain import MemgridRetriever

    mem.add("I live in Lyon", user_id="alice", timestamp="2023-01-05")
    mem.add("I moved to Berlin last month", user_id="alice", timestamp="2024-03-01")
    mem.add("My cat is called Miso", user_id="alice")
    mem.add("I live in Oslo", user_id="bob")
    docs = MemgridRetriever(memory=mem, user_id="alice", k=2).invoke("where does alice live?")
    assert len(docs) == 2 and "Berlin" in docs[0].page_content
    lyon = next(d for d in docs if "Lyon" in d.page_content)
    assert lyon.metadata["superseded_by"] == docs[0].id and lyon.metadata["valid_to"]
    assert all(d.metadata["user_id"] == "alice" for d in docs)
    assert asyncio.run(MemgridRetriever(memory=mem, user_id="bob").ainvoke("live"))[0].page_content \
        == "I live in Oslo"


def test_langchain_history_round_trips_and_runs_in_a_chain(mem: Memory) -> None:
    pytest.importorskip("langchain_core")
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage
    from langchain_core.runnables import RunnableLambda
    from langchain_core.runnables.history import RunnableWithMessageHistory

    from memgrid.integrations.langchain import MemgridChatMessageHistory

    history = MemgridChatMessageHistory(mem, user_id="alice", session_id="chat-1")
    sent = [SystemMessage("be brief"), HumanMessage("ok"), HumanMessage("ok"),
            AIMessage("", tool_calls=[{"name": "lookup", "args": {"q": "tea"}, "id": "c1"}]),
            ToolMessage("green tea", tool_call_id="c1"), AIMessage("You like green tea.")]
    history.add_messages(sent)
    assert history.messages == sent  # repeats, tool calls and ids kept exactly
    assert MemgridChatMessageHistory(mem, "alice", "chat-2").messages == []
    history.clear()
    assert history.messages == []

    def reply(messages: list[Any]) -> AIMessage:
        said = [m.content for m in messages if m.type == "human"]
        return AIMessage(f"you said {len(said)} things, first: {said[0]}")

    chain = RunnableWithMessageHistory(RunnableLambda(reply),
                                       lambda sid: MemgridChatMessageHistory(mem, "alice", sid))
    config = {"configurable": {"session_id": "chat-3"}}
    chain.invoke([HumanMessage("I adopted a dog named Rex")], config=config)  # type: ignore[arg-type]
    out = chain.invoke([HumanMessage("what is my dog called?")], config=config)  # type: ignore[arg-type]
    assert out.content == "you said 2 things, first: I adopted a dog named Rex"
    # the user's turns are memgrid memories too: searchable from any session
    assert "Rex" in mem.search("dog name", user_id="alice")[0].memory.text


# -- LlamaIndex


def test_llamaindex_block_stores_flushed_turns_and_recalls_them(mem: Memory) -> None:
    pytest.importorskip("llama_index.core")
    from llama_index.core.base.llms.types import ChatMessage
    from llama_index.core.memory import Memory as AgentMemory

    from memgrid.integrations.llamaindex import MemgridMemoryBlock

    block = MemgridMemoryBlock(memory=mem, user_id="alice", session_id="li-1", token_budget=200)
    agent_memory = AgentMemory.from_defaults(session_id="li-1", memory_blocks=[block], token_limit=40,
                                             chat_history_token_ratio=0.5, token_flush_size=10,
                                             tokenizer_fn=str.split)  # offline: no tiktoken download
    turns = [("user", "My sister Ana lives in Porto and teaches piano"), ("assistant", "Noted."),
             ("user", "I am allergic to shellfish"), ("assistant", "I will remember that."),
             ("user", "Book a table for Friday"), ("assistant", "Which restaurant?")]
    for role, text in turns:
        agent_memory.put(ChatMessage(role=role, content=text))
    stored = [r.text for r in mem.list(user_id="alice").items]
    assert stored[0] == "My sister Ana lives in Porto and teaches piano"  # flushed out of the window
    assert all(r.session_id == "li-1" for r in mem.list(user_id="alice").items)
    agent_memory.put(ChatMessage(role="user", content="where does my sister live?"))
    system = agent_memory.get()[0]
    assert system.role == "system" and "<memgrid>" in str(system.content)
    assert "Porto" in str(system.content)
    assert asyncio.run(block.aget([ChatMessage(role="user", content="")])) == ""


# -- OpenAI Agents SDK


def _scripted_model() -> Any:
    from agents.items import ModelResponse
    from agents.models.interface import Model
    from agents.usage import Usage
    from openai.types.responses import ResponseOutputMessage, ResponseOutputText

    class Scripted(Model):
        """Answers with how many user messages it was given, and the first of them."""

        async def get_response(self, system_instructions: Any, input: Any, *args: Any,
                               **kwargs: Any) -> ModelResponse:
            users = [i["content"] for i in input if isinstance(i, dict) and i.get("role") == "user"]
            text = f"{len(users)} user messages; first: {users[0]}"
            message = ResponseOutputMessage(id="m1", type="message", role="assistant", status="completed",
                                            content=[ResponseOutputText(type="output_text", text=text,
                                                                        annotations=[])])
            return ModelResponse(output=[message], usage=Usage(), response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    return Scripted()


def test_openai_agents_runner_keeps_its_session_in_memgrid(mem: Memory) -> None:
    pytest.importorskip("agents")
    from agents import Agent, RunConfig, Runner
    from agents.memory import Session

    from memgrid.integrations.openai_agents import MemgridSession

    session = MemgridSession("run-1", mem, user_id="alice")
    assert isinstance(session, Session)
    agent = Agent(name="helper", instructions="answer briefly", model=_scripted_model())
    offline = RunConfig(tracing_disabled=True)
    Runner.run_sync(agent, "I work at Acme as a nurse", session=session, run_config=offline)
    result = Runner.run_sync(agent, "where do I work?", session=session, run_config=offline)
    assert result.final_output == "2 user messages; first: I work at Acme as a nurse"

    async def inspect() -> None:
        items = await session.get_items()
        assert [i.get("role") for i in items] == ["user", "assistant", "user", "assistant"]
        assert (await session.get_items(limit=1))[0]["content"][0]["text"].startswith("2 user")
        popped = await session.pop_item()
        assert popped is not None and popped["role"] == "assistant"
        assert len(await session.get_items()) == 3
        await session.add_items([{"role": "user", "content": "ok"}, {"role": "user", "content": "ok"}])
        assert len(await session.get_items()) == 5  # a repeated message is a second item
        # the user's turns are memgrid memories: searchable outside the session
        assert any("Acme" in h.memory.text for h in mem.search("where does alice work", user_id="alice"))
        other = MemgridSession("run-2", mem, user_id="alice")
        assert await other.get_items() == []
        await session.clear_session()
        assert await session.get_items() == [] and await session.pop_item() is None

    asyncio.run(inspect())
