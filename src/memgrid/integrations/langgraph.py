"""LangGraph long-term memory on memgrid: `MemgridStore` is a LangGraph `BaseStore`.

    from langgraph.graph import StateGraph
    from memgrid.integrations.langgraph import MemgridStore

    store = MemgridStore(Memory(path="agent.db"), user_id="alice")
    graph = builder.compile(store=store)      # nodes get `store` and call store.search(...)

Each item is one memgrid memory (kind "document") of the store's user, so it is searchable with
memgrid's hybrid recall, exported, erased and shared like any other memory. Namespaces and keys
live in the memory's metadata. Semantics follow LangGraph's `InMemoryStore` (the tests compare
the two operation by operation): put replaces, put with `None` deletes, search without a query
lists in insertion order, filters match the value's fields (`$eq`, `$ne`, `$gt`, `$gte`, `$lt`,
`$lte`). Differences: every item is embedded by memgrid's own embedder (an `index` config's
`embed` is not used; its `fields` choose the text), TTLs are not supported, and
`list_namespaces` lists namespaces that hold items (as LangGraph's PostgresStore does; the
in-memory one also keeps emptied namespaces).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from langgraph.store.base import (
    BaseStore,
    GetOp,
    IndexConfig,
    Item,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    Result,
    SearchItem,
    SearchOp,
)

from memgrid.memory import Memory
from memgrid.models import MemoryRecord

KIND = "document"
_NS = "lg_namespace"  # the namespace as a JSON list: an exact match in one metadata filter
_KEY = "lg_key"
_VALUE = "lg_value"
_LEVEL = "lg_ns{}"  # one key per namespace label, so a prefix is an equality filter too
_SEARCH_DEPTH = 1000  # memgrid's largest search page: filters on values are applied after it


class MemgridStore(BaseStore):
    """A LangGraph store whose items are memories of one memgrid user (or agent)."""

    supports_ttl = False

    def __init__(self, memory: Memory | None = None, *, user_id: str | None = "langgraph",
                 agent_id: str | None = None, index: IndexConfig | None = None) -> None:
        self.memory = memory or Memory()
        self.user_id = user_id
        self.agent_id = agent_id
        self.fields = list((index or {}).get("fields") or ["$"])

    # -- LangGraph's two entry points; get/put/search/... in BaseStore call them

    def batch(self, ops: Iterable[Op]) -> list[Result]:
        return [self._run(op) for op in ops]

    async def abatch(self, ops: Iterable[Op]) -> list[Result]:
        return await asyncio.to_thread(self.batch, list(ops))

    def _run(self, op: Op) -> Result:
        if isinstance(op, GetOp):
            return self._get(op.namespace, op.key)
        if isinstance(op, PutOp):
            self._put(op)
            return None
        if isinstance(op, SearchOp):
            return self._search(op)
        if isinstance(op, ListNamespacesOp):
            return self._list_namespaces(op)
        raise ValueError(f"unknown LangGraph store operation {type(op).__name__}")

    # -- operations

    def _get(self, namespace: tuple[str, ...], key: str) -> Item | None:
        record = self._find(namespace, key)
        return None if record is None else _item(record)

    def _put(self, op: PutOp) -> None:
        record = self._find(op.namespace, op.key)
        if op.value is None:
            if record is not None:
                self.memory.delete(record.id)
            return
        value = dict(op.value)
        metadata = {_NS: _ns_text(op.namespace), _KEY: op.key, _VALUE: value,
                    **{_LEVEL.format(i): label for i, label in enumerate(op.namespace)}}
        fields = self.fields if op.index is None else (op.index or ["$"])
        text = _text(value, fields)
        if record is not None:
            self.memory.update(record.id, text=text, metadata=metadata)
            return
        # the namespace and key are the item's identity, not its words: the same value under two
        # keys is two items (memgrid would otherwise keep one copy of an exact repeat)
        self.memory.add({"role": "system", "content": text}, user_id=self.user_id,
                        agent_id=self.agent_id, kind=KIND, metadata=metadata,
                        idempotency_key=f"langgraph-{uuid.uuid4().hex}")

    def _search(self, op: SearchOp) -> list[SearchItem]:
        wanted = max(op.offset, 0) + max(op.limit, 0)
        if wanted == 0:
            return []
        prefix = {_LEVEL.format(i): label for i, label in enumerate(op.namespace_prefix)}
        if op.query:
            hits = self.memory.search(op.query, user_id=self.user_id, agent_id=self.agent_id,
                                      filters=self._filters(prefix),
                                      limit=min(_SEARCH_DEPTH, wanted if not op.filter else _SEARCH_DEPTH))
            scored = [(h.score, h.memory) for h in hits if _matches(h.memory, op.filter)]
            return [_item(r, score) for score, r in scored[op.offset:wanted]]
        found: list[SearchItem] = []
        for record in self._records(prefix):
            if _matches(record, op.filter):
                found.append(_item(record, None))
                if len(found) >= wanted:
                    break
        return found[op.offset:wanted]

    def _list_namespaces(self, op: ListNamespacesOp) -> list[tuple[str, ...]]:
        spaces = {_namespace(r) for r in self._records({})}
        chosen = [ns for ns in spaces if all(_condition(c, ns) for c in op.match_conditions or ())]
        if op.max_depth is not None:
            chosen = [ns[:op.max_depth] for ns in chosen]
        return sorted(set(chosen))[op.offset:op.offset + op.limit]

    # -- helpers

    def _filters(self, metadata: dict[str, Any]) -> dict[str, Any]:
        return {"kind": KIND, "metadata": metadata} if metadata else {"kind": KIND}

    def _find(self, namespace: tuple[str, ...], key: str) -> MemoryRecord | None:
        page = self.memory.list(user_id=self.user_id, agent_id=self.agent_id, limit=1,
                                filters=self._filters({_NS: _ns_text(namespace), _KEY: key}))
        return page.items[0] if page.items else None

    def _records(self, metadata: dict[str, Any]) -> Iterator[MemoryRecord]:
        cursor = None
        while True:
            page = self.memory.list(user_id=self.user_id, agent_id=self.agent_id, cursor=cursor,
                                    filters=self._filters(metadata), limit=500)
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor


def _ns_text(namespace: tuple[str, ...]) -> str:
    return json.dumps(list(namespace), ensure_ascii=False)


def _namespace(record: MemoryRecord) -> tuple[str, ...]:
    return tuple(json.loads(record.metadata[_NS]))


def _item(record: MemoryRecord, score: float | None = None) -> SearchItem:
    return SearchItem(namespace=_namespace(record), key=record.metadata[_KEY],
                      value=record.metadata[_VALUE], created_at=record.created_at,
                      updated_at=record.updated_at, score=score)


def _text(value: dict[str, Any], fields: list[str]) -> str:
    """The words memgrid indexes: the chosen fields (LangGraph's `index.fields` paths, with
    `$` for the whole value), strings as they are and anything else as JSON."""
    parts = []
    for path in fields:
        found = value if path == "$" else _path(value, path)
        if found is not None:
            parts.append(found if isinstance(found, str) else json.dumps(found, ensure_ascii=False))
    return "\n".join(parts) or json.dumps(value, ensure_ascii=False)


def _path(value: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _matches(record: MemoryRecord, filters: dict[str, Any] | None) -> bool:
    value = record.metadata[_VALUE]
    return all(_compare(value.get(key), wanted) for key, wanted in (filters or {}).items())


def _compare(found: Any, wanted: Any) -> bool:
    if isinstance(wanted, dict):
        if any(k.startswith("$") for k in wanted):
            return all(_operator(found, op, operand) for op, operand in wanted.items())
        return isinstance(found, dict) and all(_compare(found.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list | tuple):
        return (isinstance(found, list | tuple) and len(found) == len(wanted)
                and all(_compare(f, w) for f, w in zip(found, wanted, strict=True)))
    return bool(found == wanted)


def _operator(found: Any, op: str, operand: Any) -> bool:
    if op == "$eq":
        return bool(found == operand)
    if op == "$ne":
        return bool(found != operand)
    if op not in ("$gt", "$gte", "$lt", "$lte"):
        raise ValueError(f"unsupported filter operator {op!r}: use $eq, $ne, $gt, $gte, $lt or $lte")
    try:
        a, b = float(found), float(operand)
    except (TypeError, ValueError):
        return False
    return {"$gt": a > b, "$gte": a >= b, "$lt": a < b, "$lte": a <= b}[op]


def _condition(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    path = tuple(condition.path)
    if len(namespace) < len(path):
        return False
    start = 0 if condition.match_type == "prefix" else len(namespace) - len(path)
    labels = namespace[start:start + len(path)]
    return all(p in ("*", n) for p, n in zip(path, labels, strict=True))
