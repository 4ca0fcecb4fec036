"""Lifecycle on both backends: supersession, as_of, time mentions, archive — never losing text."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from memgrid import InvalidInputError, Memory
from memgrid.write.facts import extract_fact


def ts(day: int, month: int = 5) -> str:
    return datetime(2023, month, day, 12, tzinfo=UTC).isoformat()


@pytest.mark.parametrize(("text", "key", "value"), [
    ("I moved to Denver last week", "me|residence", "denver"),
    ("I just moved back to New York City!", "me|residence", "new york city"),
    ("I'm now working at Acme Corp", "me|employer", "acme corp"),
    ("I'm now a nurse at the clinic", "me|job title", "nurse"),
    ("my girlfriend is Maria", "me|partner", "maria"),
    ("My favorite color is now green.", "me|favourite color", "green"),
    ("I have two dogs now", "me|number of dogs", "2"),
])
def test_fact_patterns(text: str, key: str, value: str) -> None:
    fact = extract_fact(text, "me")
    assert fact is not None and (fact.key, fact.value) == (key, value)


@pytest.mark.parametrize("text", ["My sister moved to Paris", "I live in a small flat", "Where do you live?"])
def test_no_fact_where_none_is_stated(text: str) -> None:
    assert extract_fact(text, "me") is None


def test_new_fact_supersedes_old_without_deleting_it(mem: Memory) -> None:
    [old] = mem.add("I live in Denver", user_id="alice", timestamp=ts(1))
    mem.add("We went hiking in the mountains", user_id="alice", timestamp=ts(2))
    [new] = mem.add("I moved to Austin, Texas", user_id="alice", timestamp=ts(10))
    old_now = mem.get(old.id)
    assert old_now.superseded_by == new.id and old_now.valid_to == mem.get(new.id).event_time
    assert mem.get(new.id).supersedes == old.id and mem.get(new.id).valid_to is None
    assert [r.text for r in mem.chain(old.id)] == ["I live in Denver", "I moved to Austin, Texas"]
    assert [h.event for h in mem.history(old.id)] == ["ADD", "UPDATE"]
    assert old_now.text == "I live in Denver"  # the evidence is intact
    hits = mem.search("where does alice live", user_id="alice", limit=3)
    assert hits[0].memory.id == new.id
    assert any("superseded" in h.explain for h in hits if h.memory.id == old.id)
    then = mem.search("where does alice live", user_id="alice", as_of=ts(5), limit=3)
    assert [h.memory.id for h in then if h.memory.fact_key] == [old.id]


def test_other_people_and_other_attributes_do_not_supersede(mem: Memory) -> None:
    [home] = mem.add("I live in Denver", user_id="alice", timestamp=ts(1))
    mem.add("I'm now working at Google", user_id="alice", timestamp=ts(2))
    mem.add([{"content": "I moved to Paris", "speaker": "Bob"}], user_id="alice", timestamp=ts(3))
    mem.add("I live in Boston", user_id="carol", timestamp=ts(4))
    assert mem.get(home.id).superseded_by is None


def test_profile_lists_current_facts(mem: Memory) -> None:
    mem.add("I live in Denver", user_id="u", timestamp=ts(1))
    mem.add("I moved to Austin", user_id="u", timestamp=ts(2))
    mem.add("I'm now working at Acme", user_id="u", timestamp=ts(3))
    profile = mem.profile(user_id="u")
    assert {k: v.text for k, v in profile.items()} == {
        "self|employer": "I'm now working at Acme", "self|residence": "I moved to Austin"}


def test_batch_chains_and_late_arrivals(mem: Memory) -> None:
    added = mem.add([{"content": "I live in Lyon", "timestamp": ts(1)},
                     {"content": "I moved to Nice", "timestamp": ts(5)},
                     {"content": "I moved to Paris", "timestamp": ts(9)}], user_id="u")
    assert [mem.get(a.id).superseded_by for a in added] == [added[1].id, added[2].id, None]
    [late] = mem.add("I live in Lille", user_id="u", timestamp=ts(3))  # an old statement, imported late
    assert mem.get(late.id).superseded_by == added[2].id
    assert mem.get(added[2].id).superseded_by is None


def test_time_mentions_make_past_events_findable_by_date(mem: Memory) -> None:
    [event] = mem.add("I went to the pottery class yesterday", user_id="u", timestamp=ts(8))
    mem.add("The weather is nice", user_id="u", timestamp=ts(8))
    got = mem.get(event.id)
    assert got.mentioned_from is not None and got.mentioned_from.day == 7
    hits = mem.search("what did I do on 7 May 2023?", user_id="u", limit=2, reference_time=ts(20))
    assert hits[0].memory.id == event.id and "time" in hits[0].explain


def test_archive_moves_cold_memories_out_of_default_search_only(mem: Memory) -> None:
    [cold] = mem.add("note about the old project kickoff", user_id="u", timestamp=ts(1, 1))
    [warm] = mem.add("note about the new project launch", user_id="u", timestamp=ts(1, 5))
    mem.update(warm.id, importance=1.0)
    assert mem.archive_cold(user_id="u", threshold=0.2, now=ts(3, 5), half_life_days=10) == 1
    assert mem.get(cold.id).archived and not mem.get(warm.id).archived
    assert [h.memory.id for h in mem.search("project note", user_id="u")] == [warm.id]
    assert {h.memory.id for h in mem.search("project note", user_id="u", include_archived=True)} == {
        cold.id, warm.id}
    assert {r.id for r in mem.list(user_id="u").items} == {cold.id, warm.id}
    assert mem.erase(user_id="u") == 2  # erase still removes everything, archived included
    with pytest.raises(InvalidInputError):
        mem.archive_cold(threshold=2.0)


def test_lifecycle_never_deletes_verbatim_text(mem: Memory) -> None:
    texts = ["I live in Rome", "I moved to Milan", "I'm now working at Fiat", "I'm now working at Ducati",
             "lunch was pasta"]
    for day, text in enumerate(texts, start=1):
        mem.add(text, user_id="u", timestamp=ts(day, 1))
    mem.archive_cold(user_id="u", threshold=0.9, now=ts(1, 12))
    assert sorted(r.text for r in mem.export(user_id="u")) == sorted(texts)


def test_knowledge_update_bench_smoke(tmp_path, model_home) -> None:  # type: ignore[no-untyped-def]
    from memgrid.bench.knowledge_update import run_knowledge_update

    out = tmp_path / "ku.json"
    results = run_knowledge_update(users=4, sessions=4, embedder="hashing", home=model_home,
                                   data=tmp_path / "none", json_out=out, log=lambda *_: None)
    on, off = results["memgrid"], results["memgrid-no-supersession"]
    splits = ("tuned", "held-out", "fresh", "blind")
    assert sum(off[s]["predicted"] for s in splits) == 0
    assert sum(on[s]["predicted"] for s in splits) > 0
    for split in splits:
        assert 0.0 <= on[split]["link_precision"] <= 1.0
        assert on[split]["questions"] == off[split]["questions"]
    # two more users phrased only from the fresh split, two from the blind one
    assert on["fresh"]["expected"] > 0 and on["blind"]["expected"] > 0
    # four controls a user: the four users, then two of the fresh and two of the blind phrasings
    assert on["controls"] == 32 and 0.0 <= on["false_supersession_rate"] <= 1.0
    assert out.exists()


def test_consolidation_builds_session_units_incrementally(mem: Memory) -> None:
    mem.add(["we booked the cabin by the lake", "bring the canoe paddles"], user_id="u", session_id="trip")
    mem.add(["the quarterly report is due", "ask Dana for the numbers"], user_id="u", session_id="work")
    first = mem.consolidate(user_id="u")
    assert (first.sessions, first.created, first.updated, first.unchanged) == (2, 2, 0, 0)
    again = mem.consolidate(user_id="u")
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    mem.add("and the life jackets", user_id="u", session_id="trip")
    third = mem.consolidate(user_id="u")
    assert (third.created, third.updated, third.unchanged) == (0, 1, 1)
    unit = mem.get(third.units[0])
    assert unit.kind == "session" and unit.provenance.method == "derived"
    assert "life jackets" in unit.text and len(unit.provenance.source_ids) == 3
    current = {r.id for r in mem.list(user_id="u", filters={"kind": "session"}).items}
    replaced = [u for u in first.units if u not in current]
    assert len(current) == 2 and len(replaced) == 1
    assert [h.event for h in mem.history(replaced[0])] == ["ADD", "DELETE"]


def test_session_units_rank_sessions_but_are_not_hits(mem: Memory) -> None:
    mem.add(["we booked the cabin", "bring the canoe paddles"], user_id="u", session_id="trip")
    mem.add(["the cabin report is due"], user_id="u", session_id="work")
    mem.consolidate(user_id="u")
    hits = mem.search("cabin canoe", user_id="u", limit=10)
    assert all(h.memory.kind == "message" for h in hits)
    assert hits[0].memory.session_id == "trip" and "session_unit" in hits[0].explain
    units = mem.search("cabin canoe", user_id="u", filters={"kind": "session"})
    assert [h.memory.session_id for h in units][:1] == ["trip"]
    derived = [m for m in mem.export(user_id="u") if m.provenance.method == "derived"]
    assert len(derived) >= 2  # two session units (and any topic the three turns form)
    assert mem.erase(user_id="u") == 3 + len(derived)


def test_session_unit_is_private_if_any_turn_is(mem: Memory) -> None:
    mem.add("shared plan", user_id="u", session_id="s", visibility="shared")
    mem.add("private worry", user_id="u", session_id="s")
    [unit_id] = mem.consolidate(user_id="u").units
    assert mem.get(unit_id).visibility == "private"
