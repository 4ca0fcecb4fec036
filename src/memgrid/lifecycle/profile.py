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
