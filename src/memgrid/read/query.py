"""Query understanding without an LLM: terms for BM25, names for the entity channel, a time range."""

from __future__ import annotations

import re
from dataclasses import dataclass

from memgrid.read.timeparse import TimeRange, resolve, strip
from memgrid.text import entities, keywords

_ASKS_WHEN = re.compile(r"^\W*(when|since when|how long|what (date|year|month|day|time))\b|\bhow long ago\b",
                        re.IGNORECASE)


@dataclass(slots=True)
class QueryPlan:
    text: str
    terms: list[str]
    names: list[str]
    time_range: TimeRange | None
    reference_time: float
    semantic_text: str  # what the dense channels embed: the text without the time it names
    asks_when: bool  # the answer is a date or a duration


def plan_query(text: str, reference_time: float) -> QueryPlan:
    names = entities(text)
    # entity channel matches single tokens too, so "Caroline's" -> "caroline"
    name_terms = list(dict.fromkeys(w.lower().split("'")[0] for n in names for w in n.split()))
    time_range = resolve(text, reference_time)
    # the time channel filters by the range; in the vector the date words only pull toward
    # short turns whose indexed text is mostly their date prefix ("[3 May 2022] Nate: Bye!")
    semantic = strip(text) if time_range is not None else text
    return QueryPlan(
        text=text,
        terms=keywords(text, limit=32),  # BM25 keeps them: dated questions match the date prefix
        names=name_terms,
        time_range=time_range,
        reference_time=reference_time,
        semantic_text=semantic or text,
        asks_when=_ASKS_WHEN.search(text) is not None,
    )
