"""MemgridStore against LangGraph itself: the same operations give the same answers as LangGraph's
reference InMemoryStore, and a compiled graph reads and writes memgrid through it."""

from __future__ import annotations

import asyncio
import operator
from pathlib import Path
from typing import Annotated, Any, TypedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from memgrid import Memory
from tests.conftest import hashing_config

langgraph = pytest.importorskip("langgraph")
from langgraph.graph import END, START, StateGraph  # noqa: E402
from langgraph.runtime import Runtime  # noqa: E402
from langgraph.store.memory import InMemoryStore  # noqa: E402

from memgrid.integrations.langgraph import MemgridStore  # noqa: E402

SPACES = [("users", "alice"), ("users", "bob"), ("users", "alice", "notes"), ("docs",)]
KEYS = ["k1", "k2", "k3"]
VALUES = st.fixed_dictionaries({"text": st.sampled_from(["likes tea", "lives in Lyon", "plays chess"]),
                                "n": st.integers(0, 3)}, optional={"tag": st.sampled_from(["a", "b"])})
OPS = st.lists(st.one_of(
    st.tuples(st.just("put"), st.sampled_from(SPACES), st.sampled_from(KEYS), VALUES),
    st.tuples(st.just("delete"), st.sampled_from(SPACES), st.sampled_from(KEYS), st.none()),
), max_size=12)
FILTERS = [None, {"n": 1}, {"n": {"$gte": 2}}, {"tag": "a"}, {"n": {"$ne": 0}, "tag": {"$eq": "b"}}]


def _open(tmp_path: Path, model_home: Path, name: str) -> Memory:
    return Memory(config=hashing_config(model_home, tmp_path / name))


def _items(found: list[Any]) -> list[tuple[Any, ...]]:
    return sorted((i.namespace, i.key, sorted(i.value.items())) for i in found)


@settings(max_examples=25, deadline=None)
@given(ops=OPS)
def test_same_answers_as_langgraphs_in_memory_store(tmp_path_factory: pytest.TempPathFactory,
                                                    ops: list[tuple[Any, ...]]) -> None:
    home = tmp_path_factory.mktemp("lg")
    mem = _open(home, home, "store.db")
    ours, theirs = MemgridStore(mem, user_id="u1"), InMemoryStore()
    try:
        for verb, space, key, value in ops:
            for store in (ours, theirs):
                store.put(space, key, value) if verb == "put" else store.delete(space, key)
        # namespaces that hold items, as LangGraph's PostgresStore lists them (the in-memory store
        # also lists emptied ones): the reference is rebuilt from the live items
        reference = InMemoryStore()
        for item in theirs.search((), limit=1000):
            reference.put(item.namespace, item.key, item.value)
        for kwargs in [{}, {"prefix": ("users",)}, {"suffix": ("notes",)}, {"max_depth": 1},
                       {"prefix": ("users", "*")}, {"limit": 2, "offset": 1}]:
            assert ours.list_namespaces(**kwargs) == reference.list_namespaces(**kwargs), kwargs
        for space in SPACES:
            for key in KEYS:
                a, b = ours.get(space, key), theirs.get(space, key)
                assert (a and a.value) == (b and b.value), (space, key)
        for prefix in [(), ("users",), ("users", "alice"), ("docs",), ("nobody",)]:
            for wanted in FILTERS:
                assert _items(ours.search(prefix, filter=wanted, limit=50)) == \
                    _items(theirs.search(prefix, filter=wanted, limit=50)), (prefix, wanted)
    finally:
        mem.close()


def test_query_search_ranks_by_meaning_and_pages(tmp_path: Path, model_home: Path) -> None:
    mem = _open(tmp_path, model_home, "q.db")
    store = MemgridStore(mem, user_id="alice", index={"fields": ["text"]})
    ns = ("memories", "alice")
    store.put(ns, "a", {"text": "Alice is allergic to peanuts", "source": "chat"})
    store.put(ns, "b", {"text": "Alice works as a nurse in Lyon", "source": "chat"})
    store.put(ns, "c", {"text": "Alice's cat is called Miso", "source": "form"})
    store.put(("other",), "d", {"text": "peanuts are legumes"})
    hits = store.search(ns, query="what is alice allergic to?", limit=2)
    assert hits[0].key == "a" and hits[0].score is not None
    assert all(h.namespace == ns for h in store.search(ns, query="peanuts", limit=10))
    assert [h.key for h in store.search(ns, query="cat", filter={"source": "form"})] == ["c"]
    first, second = (store.search(ns, query="alice", limit=1, offset=i) for i in (0, 1))
    assert first[0].key != second[0].key
    store.put(ns, "a", {"text": "Alice is no longer allergic to anything"})
    assert store.get(ns, "a").value["text"].startswith("Alice is no longer")  # type: ignore[union-attr]
    assert store.get(ns, "a").updated_at >= store.get(ns, "a").created_at  # type: ignore[union-attr]
    # the items are memgrid memories: the SDK finds and erases them
    assert any("nurse" in h.memory.text for h in mem.search("nurse", user_id="alice"))
    assert mem.erase(user_id="alice") == 4  # every namespace of the store's user
    assert store.search(ns) == []
    store.put(ns, "z", {"n": 1})
    with pytest.raises(ValueError, match="unsupported filter operator"):
        store.search(ns, filter={"n": {"$in": [1]}})
    mem.close()


def test_async_methods(tmp_path: Path, model_home: Path) -> None:
    mem = _open(tmp_path, model_home, "a.db")
    store = MemgridStore(mem, user_id="alice")

    async def run() -> None:
        await store.aput(("prefs",), "drink", {"text": "green tea, no sugar"})
        assert (await store.aget(("prefs",), "drink")).value == {"text": "green tea, no sugar"}  # type: ignore[union-attr]
        assert [i.key for i in await store.asearch(("prefs",), query="tea")] == ["drink"]
        await store.adelete(("prefs",), "drink")
        assert await store.aget(("prefs",), "drink") is None

    asyncio.run(run())
    mem.close()


class State(TypedDict):
    user: str
    said: str
    recalled: Annotated[list[str], operator.add]


def remember(state: State, runtime: Runtime[Any]) -> dict[str, Any]:
    assert runtime.store is not None
    space = ("memories", state["user"])
    recalled = [i.value["text"] for i in runtime.store.search(space, query=state["said"], limit=3)]
    if state["said"].startswith("remember:"):
        runtime.store.put(space, str(len(runtime.store.search(space, limit=100))),
                          {"text": state["said"].removeprefix("remember:").strip()})
    return {"recalled": recalled}


def test_a_compiled_graph_remembers_across_threads(tmp_path: Path, model_home: Path) -> None:
    mem = _open(tmp_path, model_home, "graph.db")
    builder = StateGraph(State)
    builder.add_node("remember", remember)
    builder.add_edge(START, "remember")
    builder.add_edge("remember", END)
    graph = builder.compile(store=MemgridStore(mem, user_id="app"))
    graph.invoke({"user": "dana", "said": "remember: my dentist is Dr. Okafor", "recalled": []})
    graph.invoke({"user": "sam", "said": "remember: my dentist is Dr. Ruiz", "recalled": []})
    out = graph.invoke({"user": "dana", "said": "who is my dentist?", "recalled": []})
    assert out["recalled"] == ["my dentist is Dr. Okafor"]  # sam's namespace stays out
    mem.close()
