"""Times a user meets in the first hour: undated replies, day ranges said ahead of time, dates
before 1970, and archiving that follows the user's own clock."""

from __future__ import annotations

from datetime import UTC, datetime

from memgrid import Memory
from memgrid.read.timeparse import resolve


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_an_undated_message_takes_the_time_of_the_one_before_it(mem: Memory) -> None:
    question, reply, later = mem.add([
        {"content": "can you book the dentist?", "timestamp": "2023-05-08T10:00:00"},
        {"role": "assistant", "content": "booked for Friday"},
        {"content": "thanks", "timestamp": "2023-05-09T09:00:00"}], user_id="u")
    assert reply.event_time == question.event_time
    assert later.event_time is not None and later.event_time.day == 9


def test_a_day_range_said_ahead_means_the_coming_one_and_covers_its_last_day(mem: Memory) -> None:
    [plan] = mem.add("The offsite moved to Lisbon, June 2-4", user_id="u", timestamp="2023-12-10")
    assert plan.mentioned_from == datetime(2024, 6, 2, tzinfo=UTC)
    assert plan.mentioned_to == datetime(2024, 6, 5, tzinfo=UTC)  # the whole 4th, exclusive end
    [past] = mem.add("we were in Porto 2 to 4 November", user_id="u", timestamp="2023-12-10")
    assert past.mentioned_from == datetime(2023, 11, 2, tzinfo=UTC)
    # a question asks about what happened: a day without a year is the last one
    assert resolve("what did we do on June 2?", at("2023-12-10T00:00:00")) == (
        at("2023-06-02T00:00:00"), at("2023-06-03T00:00:00"))


def test_dates_before_1970_are_accepted(mem: Memory) -> None:
    [born] = mem.add("my grandmother was born in Cork", user_id="u", timestamp=-86400 * 365 * 20)
    [moved] = mem.add("she moved to Galway", user_id="u", timestamp="1961-04-01")
    assert born.event_time is not None and born.event_time.year == 1950
    assert moved.event_time == datetime(1961, 4, 1, tzinfo=UTC)
    assert {h.memory.id for h in mem.search("grandmother Cork", user_id="u")} >= {born.id}


def test_archiving_follows_the_users_clock_and_never_empties_their_memory(mem: Memory) -> None:
    mem.add([{"content": f"2023 note {i} about kites", "timestamp": f"2023-05-{1 + i % 28:02d}"}
             for i in range(60)], user_id="old")
    # a conversation from 2023 is not cold because the wall clock is in 2026
    assert mem.archive_cold(user_id="old", threshold=0.05) == 0
    # even when everything is cold by the caller's clock, the most retained stay searchable
    archived = mem.archive_cold(user_id="old", threshold=0.99, now="2030-01-01")
    assert archived == 60 - 6 and mem.search("kites", user_id="old")


def test_a_recall_counts_before_archiving_without_another_write(mem: Memory) -> None:
    first, second = mem.add([{"content": "the spare key is under the blue pot", "timestamp": "2023-01-01"},
                             {"content": "lunch was soup", "timestamp": "2023-01-01"}], user_id="k")
    mem.search("where is the spare key", user_id="k", limit=1)  # a recall, buffered
    assert mem.archive_cold(user_id="k", threshold=0.5, now="2023-03-01", half_life_days=10) == 1
    assert not mem.get(first.id).archived and mem.get(second.id).archived
