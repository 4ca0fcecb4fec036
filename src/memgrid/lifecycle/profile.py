"""Core memory: the facts currently true about a user, each the verbatim memory stating it."""

from __future__ import annotations

from memgrid.models import Scope, StoredMemory
from memgrid.storage.base import Store
from memgrid.validation import Filters


def current_facts(store: Store, scope: Scope) -> dict[str, StoredMemory]:
    """fact key ("<subject>|<attribute>") -> the memory holding its current value."""
    facts: dict[str, StoredMemory] = {}
    after: int | None = None
    while rows := store.list_memories(scope, Filters.everything(), after, 1000):
        after = rows[-1].seq
        for m in rows:
            if m.fact_key and m.superseded_by is None:
                facts[m.fact_key] = m
    return dict(sorted(facts.items()))


def fact_chain(store: Store, memory: StoredMemory) -> list[StoredMemory]:
    """A fact's versions across memories, oldest first: what it superseded and what replaced it."""
    older: list[StoredMemory] = []
    cursor = memory
    while cursor.supersedes and (prev := store.get(memory.scope.tenant_id, cursor.supersedes)):
        older.insert(0, prev)
        cursor = prev
    newer: list[StoredMemory] = []
    cursor = memory
    while cursor.superseded_by and (nxt := store.get(memory.scope.tenant_id, cursor.superseded_by)):
        newer.append(nxt)
        cursor = nxt
    return [*older, memory, *newer]
