"""Retrieval channels. Each returns seqs ranked best-first with its raw score."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from memgrid.models import Scope
from memgrid.read.query import QueryPlan
from memgrid.storage.base import Store
from memgrid.validation import Filters

Ranked = list[tuple[int, float]]


def dense(store: Store, scope: Scope, filters: Filters, vector: np.ndarray, k: int) -> Ranked:
    return store.dense_search(scope, filters, vector, k)


def bm25(store: Store, scope: Scope, filters: Filters, plan: QueryPlan, k: int) -> Ranked:
    return store.text_search(scope, filters, plan.terms, k, column="index_text")


def entity(store: Store, scope: Scope, filters: Filters, plan: QueryPlan, k: int) -> Ranked:
    """Memories that name what the query names (people, places, titles)."""
    return store.text_search(scope, filters, plan.names, k, column="entities")


def time_scoped(store: Store, scope: Scope, filters: Filters, plan: QueryPlan,
                vector: np.ndarray, k: int) -> Ranked:
    """Dense search restricted to the time range the query names ('in May 2023', 'last week')."""
    if plan.time_range is None:
        return []
    start, end = plan.time_range
    after = start if filters.event_after is None else max(start, filters.event_after)
    before = end if filters.event_before is None else min(end, filters.event_before)
    if after > before:
        return []
    return store.dense_search(scope, replace(filters, event_after=after, event_before=before), vector, k)
