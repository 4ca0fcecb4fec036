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
    # said in the range, or talking about it ("last Saturday" said on Monday)
    return store.dense_search(scope, replace(filters, time_range=plan.time_range), vector, k)


def derived_units(store: Store, scope: Scope, filters: Filters, plan: QueryPlan, k: int,
                  kind: str) -> Ranked:
    """BM25 over consolidated units (session transcripts, topic summaries): groups of memories
    that together hold the question's words, even when no single memory does."""
    units = replace(filters, kinds=(kind,), exclude_kinds=())
    return store.text_search(scope, units, plan.terms, k, column="index_text")
