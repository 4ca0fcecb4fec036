from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memgrid.read.timeparse import resolve, strip, vague_time

REF = datetime(2023, 5, 17, 15, 0, tzinfo=UTC).timestamp()  # a Wednesday


def day(y: int, m: int, d: int) -> float:
    return datetime(y, m, d, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(("query", "start", "end"), [
    ("what did I do yesterday?", day(2023, 5, 16), day(2023, 5, 17)),
    ("anything today", day(2023, 5, 17), day(2023, 5, 18)),
    ("what happened last week", day(2023, 5, 8), day(2023, 5, 15)),
    ("plans for next month", day(2023, 6, 1), day(2023, 7, 1)),
    ("what did Caroline do in July 2023?", day(2023, 7, 1), day(2023, 8, 1)),
    ("when was the party on 8 May 2023", day(2023, 5, 8), day(2023, 5, 9)),
    ("what about May 3rd", day(2023, 5, 3), day(2023, 5, 4)),
    ("what did we discuss last Saturday", day(2023, 5, 13), day(2023, 5, 14)),
    ("events in 2022", day(2022, 1, 1), day(2023, 1, 1)),
    ("meeting on 2023-04-02", day(2023, 4, 2), day(2023, 4, 3)),
    ("trips in December", day(2022, 12, 1), day(2023, 1, 1)),
    ("I'll come over tomorrow", day(2023, 5, 18), day(2023, 5, 19)),
    ("joined a group last Tues", day(2023, 5, 16), day(2023, 5, 17)),
    ("won it last Fri.", day(2023, 5, 12), day(2023, 5, 13)),
])
def test_resolves_common_expressions(query: str, start: float, end: float) -> None:
    assert resolve(query, REF) == (start, end)


def test_ago_is_a_window_around_the_day() -> None:
    start, end = resolve("I saw her two weeks ago", REF) or (0, 0)
    assert start <= day(2023, 5, 3) < end


def test_impossible_day_falls_back_to_its_month() -> None:
    assert resolve("31 February 2023", REF) == (day(2023, 2, 1), day(2023, 3, 1))


@pytest.mark.parametrize("query", ["where does alice live?", "may I ask you", "call me at 5"])
def test_no_time_expression_gives_none(query: str) -> None:
    assert resolve(query, REF) is None


def test_strip_removes_every_time_expression_and_keeps_the_rest() -> None:
    assert strip("What did Nate do in April 2022 and last week?") == "What did Nate do and ?"
    assert strip("İstanbul trip on 8 May") == "i̇stanbul trip on"  # lower() grew: spans from lowercase
    assert strip("where does alice live?") == "where does alice live?"


@pytest.mark.parametrize(("text", "vague"), [
    ("we went camping two weekends ago", True), ("I saw it the other day", True),
    ("Recently I started pottery", True), ("see you!", False), ("when I last sat down to paint", False),
])
def test_vague_time_is_what_resolve_leaves(text: str, vague: bool) -> None:
    assert vague_time(text) is vague
    assert resolve(text, REF) is None
