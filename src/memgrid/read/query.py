"""Query understanding without an LLM: terms for BM25, names for the entity channel, a time range."""

from __future__ import annotations

from dataclasses import dataclass

from memgrid.read.timeparse import TimeRange, resolve
from memgrid.text import entities, keywords


@dataclass(slots=True)
class QueryPlan:
    text: str
    terms: list[str]
    names: list[str]
    time_range: TimeRange | None
    reference_time: float


def plan_query(text: str, reference_time: float) -> QueryPlan:
    names = entities(text)
    # entity channel matches single tokens too, so "Caroline's" -> "caroline"
    name_terms = list(dict.fromkeys(w.lower().split("'")[0] for n in names for w in n.split()))
    return QueryPlan(
        text=text,
        terms=keywords(text, limit=32),
        names=name_terms,
        time_range=resolve(text, reference_time),
        reference_time=reference_time,
    )
