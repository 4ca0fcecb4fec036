"""Bad input as a class: hypothesis throws wrong types, huge and negative numbers, lone
surrogates, NUL and deep JSON at every public SDK method; only memgrid's own errors may come
out, and nothing stored may change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memgrid import MemgridError, Memory
from tests.conftest import hashing_config

deep: Any = {"a": 1}
for _ in range(40):
    deep = {"n": deep}

junk = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=20),
    st.sampled_from(["\ud800", "a\x00b", "", "   ", "x" * 300, "seq:-99999999999999999999",
                     "c2VxOi05OTk5OTk5OTk5OTk5OTk5OTk5OQ==", "robot"]),
    st.just(deep), st.just({"kind": 5}), st.just({"role": 1}), st.just({"speaker": {}}),
    st.just({"tags": "x"}), st.just([{"role": "robot", "content": "hi"}]), st.just({1, 2}),
    st.lists(st.integers(), max_size=3), st.just(object()),
)

CALLS = {
    "add": ["data", "user_id", "agent_id", "session_id", "visibility", "timestamp", "metadata", "kind",
            "source", "idempotency_key"],
    "search": ["query", "user_id", "filters", "limit", "reference_time", "as_of", "include_archived"],
    "context": ["query", "user_id", "filters", "token_budget"],
    "list": ["user_id", "filters", "cursor", "limit"],
    "get": ["memory_id"], "history": ["memory_id"], "chain": ["memory_id"], "delete": ["memory_id"],
    "related": ["memory_id", "limit"],
    "update": ["memory_id", "text", "metadata", "importance", "event_time"],
    "erase": ["user_id", "agent_id", "session_id", "all_owners"],
    "profile": ["user_id"], "stats": ["user_id"], "consolidate": ["user_id", "agent_id"],
    "archive_cold": ["user_id", "threshold", "half_life_days", "now"], "import_records": ["records"],
    "find_id": ["prefix"],
}
POSITIONAL = {"data", "query", "memory_id", "records", "prefix"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(method=st.sampled_from(sorted(CALLS)), data=st.data())
def test_bad_arguments_raise_memgrid_errors_and_change_nothing(tmp_path: Path, model_home: Path,
                                                               method: str, data: st.DataObject) -> None:
    with Memory(config=hashing_config(model_home, tmp_path / "fuzz.db")) as mem:
        if not mem.list(user_id="alice").items:
            mem.add(["I live in Denver", "we met at the offsite"], user_id="alice", session_id="s")
        before = [r.model_dump() for r in mem.export()]
        names = data.draw(st.lists(st.sampled_from(CALLS[method]), unique=True, min_size=1))
        args = {n: data.draw(junk, label=n) for n in names}
        positional = [args.pop(n) for n in list(args) if n in POSITIONAL]
        raised = False
        try:
            getattr(mem, method)(*positional, **args)
        except MemgridError:
            raised = True
        except TypeError as exc:  # a missing or doubled required argument is Python's, not input
            assert "argument" in str(exc) and ("required" in str(exc) or "multiple" in str(exc)), exc
            raised = True
        writes = ("add", "update", "delete", "erase", "consolidate", "archive_cold", "import_records")
        if raised or method not in writes:
            assert [r.model_dump() for r in mem.export()] == before, (method, args)
