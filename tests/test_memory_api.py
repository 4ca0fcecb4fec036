"""Every verb of the facade against real SQLite/FTS5/usearch (hashing embedder for speed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from memgrid import InvalidInputError, Memory, NotFoundError, StorageError
from memgrid.models import Scope
from memgrid.validation import Filters
from tests.conftest import hashing_config


def test_add_get_roundtrip_keeps_everything(mem: Memory) -> None:
    [record] = mem.add("I moved to Denver last week", user_id="alice", agent_id="planner",
                       metadata={"topic": "home"}, timestamp="2023-05-08T13:56:00")
    got = mem.get(record.id)
    assert got == record
    assert got.text == "I moved to Denver last week"
    assert (got.user_id, got.agent_id, got.tenant_id) == ("alice", "planner", "default")
    assert got.kind == "message" and got.visibility == "private" and got.version == 1
    assert got.event_time is not None and got.event_time.isoformat() == "2023-05-08T13:56:00+00:00"
    assert got.provenance.writer == "alice" and got.provenance.agent_id == "planner"
    assert got.provenance.method == "verbatim"
    assert got.metadata == {"topic": "home"}
    assert "Denver" in got.entities and "denver" in got.keywords


def test_messages_keep_roles_speakers_order_and_times(mem: Memory) -> None:
    added = mem.add([
        {"role": "user", "content": "Let's plan the trip", "timestamp": "2023-05-08T13:56:00"},
        {"role": "assistant", "content": "Where to?"},
        {"role": "user", "speaker": "Alice", "content": "Lisbon, in June"},
    ], user_id="alice", session_id="s1", timestamp="2023-05-08T14:00:00")
    assert [a.role for a in added] == ["user", "assistant", "user"]
    assert [a.position for a in added] == [0, 1, 2]
    assert added[2].speaker == "Alice"
    assert added[0].event_time is not None and added[0].event_time.hour == 13
    assert added[1].event_time is not None and added[1].event_time.hour == 14


def test_concurrent_adds_to_one_session_get_distinct_positions(mem: Memory) -> None:
    """Writers used to read a session's next position before embedding, so two at once took the
    same places. The insert now reads the session's end in its own transaction."""
    from concurrent.futures import ThreadPoolExecutor

    def add(i: int) -> list[int]:
        added = mem.add([f"writer {i} turn {j}" for j in range(3)], user_id="u", session_id="s")
        return [a.position or 0 for a in added]

    with ThreadPoolExecutor(8) as threads:
        returned = list(threads.map(add, range(16)))
    stored = {m.text: m.position for m in mem.list(user_id="u", session_id="s", limit=100).items}
    assert sorted(stored.values()) == list(range(48))
    for i, positions in enumerate(returned):
        assert positions == [stored[f"writer {i} turn {j}"] for j in range(3)]
        assert positions == list(range(positions[0], positions[0] + 3))
    # an import keeps the places it brings (restoring a session, in any order, not appending)
    exported = sorted((r.model_dump(mode="json") for r in mem.export(user_id="u")),
                      key=lambda r: r["position"])
    mem.erase(user_id="u")
    mem.import_records(exported[24:])
    mem.import_records(exported[:24])
    assert {m.text: m.position for m in mem.list(user_id="u", session_id="s", limit=100).items} == stored


def test_exact_duplicates_are_skipped(mem: Memory) -> None:
    msg = {"role": "user", "content": "same words", "timestamp": "2023-01-01T00:00:00"}
    assert len(mem.add([msg, msg], user_id="alice")) == 1
    assert mem.add([msg], user_id="alice") == []
    assert len(mem.add([msg], user_id="bob")) == 1  # another user's memory is not a duplicate


def test_search_ranks_and_explains(mem: Memory) -> None:
    mem.add("I adopted a golden retriever named Max", user_id="alice")
    mem.add("The weather in Paris was rainy", user_id="alice")
    mem.add("My favourite food is ramen", user_id="alice")
    hits = mem.search("what is the name of my dog Max?", user_id="alice", limit=2)
    assert hits[0].memory.text.startswith("I adopted")
    assert "bm25" in hits[0].explain and hits[0].explain["bm25"].rank == 1
    assert hits[0].score >= hits[-1].score
    assert hits[0].evidence == (hits[0].memory.id,)


def test_the_reply_to_a_matching_question_is_found(mem: Memory) -> None:
    """The answer often shares no words with the question asked later; the turn that asked does."""
    mem.add([
        {"role": "user", "speaker": "Maria", "content": "How often do you and your kids work out together?"},
        {"role": "assistant", "speaker": "John", "content": "Three times a week; it keeps us on track."},
        {"role": "user", "speaker": "Maria", "content": "I baked cookies for the shelter yesterday."},
        {"role": "assistant", "speaker": "John", "content": "My kids love the park on weekends."},
    ], user_id="alice", session_id="s1")
    hits = mem.search("How often does John work out with his family?", user_id="alice", limit=2)
    assert [h.memory.text for h in hits] == ["Three times a week; it keeps us on track.",
                                              "How often do you and your kids work out together?"]
    assert "neighbor" in hits[0].explain and "question" in hits[1].explain


def test_when_questions_rank_turns_that_say_no_time_lower(mem: Memory) -> None:
    """'tomorrow' is resolved on write, so a 'when' question knows which turns say when."""
    mem.add([{"speaker": "Nate", "content": "Come over and watch the turtles play!"},
             {"speaker": "Joanna", "content": "Alright, see you tomorrow!"}],
            user_id="alice", session_id="s1")
    hits = mem.search("When is Joanna coming to watch the turtles?", user_id="alice", limit=2)
    undated = {h.memory.text: "undated" in h.explain for h in hits}
    assert undated == {"Come over and watch the turtles play!": True, "Alright, see you tomorrow!": False}
    plain = mem.search("Is Joanna coming to watch the turtles?", user_id="alice", limit=2)
    assert not any("undated" in h.explain for h in plain)


def test_turns_two_away_share_a_hits_context(mem: Memory) -> None:
    """A strong hit lifts the turn two away (its elaboration), above the weak turn between."""
    mem.add(["My pottery class made a blue vase", "Nice, blue is my favourite colour.",
             "Fresh tulips from the market", "Lovely."], user_id="alice", session_id="s1")
    mem.add(["The weather was cold and grey", "We watched a long movie at home",
             "Traffic on the bridge was slow"], user_id="alice", session_id="s2")
    hits = mem.search("the vase from pottery class", user_id="alice", limit=3)
    assert [h.memory.text for h in hits] == ["My pottery class made a blue vase",
                                            "Fresh tulips from the market",
                                            "Nice, blue is my favourite colour."]
    assert "neighbor" in hits[1].explain


def test_neighbours_are_turns_of_the_same_session(mem: Memory) -> None:
    turns = mem.add(["one", "two", "three"], user_id="alice", session_id="s1")
    mem.add(["other session"], user_id="alice", session_id="s2")
    loose = mem.add(["a fact on its own", "another fact"], user_id="alice")  # no session
    seq = {r.id: mem.store.get("default", r.id).seq for r in [*turns, *loose]}
    alice = Scope(tenant_id="default", user_id="alice")
    near = mem.store.neighbors([seq[turns[1].id], seq[loose[0].id]], 2, alice, Filters.everything())
    assert {a: [(n.seq, n.offset, n.placement.text) for n in ns] for a, ns in near.items()} == {
        seq[turns[1].id]: [(seq[turns[0].id], -1, "one"), (seq[turns[2].id], 1, "three")]}


def test_neighbours_the_caller_may_not_read_are_left_out(mem: Memory) -> None:
    turns = mem.add([{"speaker": "Ann", "content": "one"}, {"speaker": "Bo", "content": "two"},
                     {"speaker": "Ann", "content": "three"}], user_id="alice", session_id="s1")
    seq = [mem.store.get("default", r.id).seq for r in turns]
    only_ann = Filters(speakers=("Ann",))
    near = mem.store.neighbors([seq[0]], 2, Scope(tenant_id="default", user_id="alice"), only_ann)
    assert [(n.seq, n.offset) for n in near[seq[0]]] == [(seq[2], 2)]
    assert mem.store.neighbors([seq[0]], 2, Scope(tenant_id="default", user_id="bob"), Filters()) == {}


def test_search_filters(mem: Memory) -> None:
    mem.add("note about apples", user_id="alice", metadata={"topic": "fruit"}, kind="fact")
    mem.add("note about pears", user_id="alice", metadata={"topic": "other"})
    hits = mem.search("note", user_id="alice", filters={"metadata": {"topic": "fruit"}})
    assert [h.memory.text for h in hits] == ["note about apples"]
    hits = mem.search("note", user_id="alice", filters={"kind": "message"})
    assert [h.memory.text for h in hits] == ["note about pears"]


def test_alice_never_sees_bobs_memories(mem: Memory) -> None:
    for i in range(50):
        mem.add(f"bob secret number {i} about the vault", user_id="bob")
    mem.add("alice likes tea", user_id="alice")
    hits = mem.search("secret vault number", user_id="alice", limit=20)
    assert [h.memory.user_id for h in hits] == ["alice"]
    assert all(r.user_id == "alice" for r in mem.list(user_id="alice").items)
    assert "vault" not in mem.context("vault secret", user_id="alice")


def test_session_scope_narrows_search(mem: Memory) -> None:
    mem.add("coffee in session one", user_id="alice", session_id="one")
    mem.add("coffee in session two", user_id="alice", session_id="two")
    hits = mem.search("coffee", user_id="alice", session_id="two")
    assert [h.memory.session_id for h in hits] == ["two"]


def test_list_paginates_with_cursor(mem: Memory) -> None:
    mem.add([f"memory {i}" for i in range(25)], user_id="alice")
    seen, cursor = [], None
    while True:
        page = mem.list(user_id="alice", limit=10, cursor=cursor)
        seen.extend(r.text for r in page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == [f"memory {i}" for i in range(25)]
    with pytest.raises(InvalidInputError, match="cursor"):
        mem.list(user_id="alice", cursor="garbage!")


def test_update_versions_and_history(mem: Memory) -> None:
    [record] = mem.add("I live in Denver", user_id="alice")
    updated = mem.update(record.id, text="I live in Austin", metadata={"source": "fix"})
    assert updated.version == 2 and updated.text == "I live in Austin"
    assert [h.memory.id for h in mem.search("Austin", user_id="alice")] == [record.id]
    assert mem.search("Denver", user_id="alice", filters={"kind": "message"})[0].memory.text == (
        "I live in Austin")  # the hashing embedder still finds it; the text is the new one
    history = mem.history(record.id)
    assert [(h.event, h.version, h.text) for h in history] == [
        ("ADD", 1, "I live in Denver"), ("UPDATE", 2, "I live in Austin")]
    mem.delete(record.id)
    assert [h.event for h in mem.history(record.id)] == ["ADD", "UPDATE", "DELETE"]
    with pytest.raises(NotFoundError):
        mem.get(record.id)
    assert mem.search("Austin", user_id="alice") == []


def test_an_edit_rereads_names_keywords_facts_and_dates(mem: Memory) -> None:
    [record] = mem.add("I live in Denver and met Priya last Friday", user_id="alice",
                       timestamp="2023-05-10")
    assert record.fact_value and "denver" in record.fact_value.lower() and record.mentioned_from
    updated = mem.update(record.id, text="I live in Austin and met Omar")
    assert updated.fact_value and "austin" in updated.fact_value.lower()
    assert "Priya" not in updated.entities and "Omar" in updated.entities
    assert "denver" not in updated.keywords and "austin" in updated.keywords
    assert updated.mentioned_from is None  # no "last Friday" in the new text
    # a removed name no longer finds the memory through its names
    assert mem.search("Priya", user_id="alice", filters={"kind": "message"})[0].explain.get("bm25") is None
    # a new date re-reads the time words against it (and re-embeds the dated text)
    dated = mem.update(record.id, text="I met Omar yesterday", event_time="2023-06-02")
    assert dated.mentioned_from is not None and dated.mentioned_from.day == 1


def test_unknown_ids_raise_not_found(mem: Memory) -> None:
    for call in (mem.get, mem.delete, mem.history):
        with pytest.raises(NotFoundError):
            call("does-not-exist")
    with pytest.raises(NotFoundError):
        mem.update("does-not-exist", text="x")


def test_context_fits_budget_in_time_order_with_ids(mem: Memory) -> None:
    mem.add("trip to Rome in spring", user_id="alice", timestamp="2023-04-01")
    mem.add("trip to Oslo in winter", user_id="alice", timestamp="2022-12-01")
    mem.add("trip to Oslo in winter", user_id="alice", timestamp="2022-12-02")  # same words
    block = mem.context("trip", user_id="alice", token_budget=60)
    lines = block.splitlines()[1:]
    assert len(lines) == 2, block  # the repeat is deduplicated
    assert "2022-12" in lines[0] and "2023-04" in lines[1]
    assert all("(id:" in line for line in lines)
    assert sum(len(line) for line in block.splitlines()) // 4 <= 60


def test_erase_removes_every_trace(tmp_path: Path, model_home: Path) -> None:
    db = tmp_path / "erase.db"
    with Memory(config=hashing_config(model_home, db)) as mem:
        kept = mem.add("alice keeps zanzibarish notes", user_id="alice")
        gone = mem.add([f"bob's xylophonequartz secret {i}" for i in range(30)], user_id="bob")
        mem.update(gone[0].id, text="bob's xylophonequartz secret edited")
        mem.delete(gone[1].id)
        assert mem.erase(user_id="bob") == 29
        assert mem.list(user_id="bob").items == []
        assert mem.search("xylophonequartz secret", user_id="bob") == []
        with pytest.raises(NotFoundError):
            mem.history(gone[0].id)
        with pytest.raises(NotFoundError):
            mem.history(gone[1].id)  # deleted earlier: its history goes too
        store = mem.store
        assert store.vectors is not None and len(store.vectors) == 1
        fts = store.conn.execute(
            "SELECT count(*) FROM memories_fts WHERE memories_fts MATCH 'xylophonequartz'").fetchone()
        assert fts[0] == 0
        assert store.conn.execute("SELECT count(*) FROM history WHERE user_id='bob'").fetchone()[0] == 0
        assert mem.get(kept[0].id).text == "alice keeps zanzibarish notes"
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert b"xylophonequartz" not in raw and b"zanzibarish" in raw


@pytest.mark.parametrize(("data", "kwargs", "message"), [
    ("", {"user_id": "alice"}, "empty"),
    ("x" * 40_000, {"user_id": "alice"}, "limit"),
    ("hello", {}, "user_id or agent_id"),
    ("hello", {"user_id": "al\x07ice"}, "control"),
    ([{"role": "user"}], {"user_id": "alice"}, "content"),
    ([{"content": "hi", "colour": "red"}], {"user_id": "alice"}, "unknown key"),
    ([{"content": "hi", "timestamp": "last tuesday"}], {"user_id": "alice"}, "ISO 8601"),
    ([], {"user_id": "alice"}, "empty"),
    (42, {"user_id": "alice"}, "string"),
    ("hello", {"user_id": "alice", "visibility": "public"}, "visibility"),
    ("hello", {"user_id": "alice", "metadata": {"a b": 1}}, "metadata key"),
])
def test_bad_input_is_rejected_and_changes_nothing(mem: Memory, data: object, kwargs: dict[str, object],
                                                   message: str) -> None:
    mem.add("existing memory", user_id="alice")
    before = mem.export()
    snapshot = [r.model_dump() for r in before]
    with pytest.raises(InvalidInputError, match=message):
        mem.add(data, **kwargs)  # type: ignore[arg-type]
    assert [r.model_dump() for r in mem.export()] == snapshot


def test_a_bad_message_in_a_batch_writes_none_of_it(mem: Memory) -> None:
    with pytest.raises(InvalidInputError, match="message 1"):
        mem.add([{"content": "fine"}, {"content": "  "}], user_id="alice")
    assert mem.list(user_id="alice").items == []


def test_bad_search_input(mem: Memory) -> None:
    with pytest.raises(InvalidInputError):
        mem.search("   ", user_id="alice")
    with pytest.raises(InvalidInputError):
        mem.search("q", user_id="alice", limit=0)
    with pytest.raises(InvalidInputError):
        mem.search("q", user_id="alice", filters={"nope": 1})


def test_foreign_and_corrupt_files_are_refused_untouched(tmp_path: Path, model_home: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StorageError, match="memgrid database"):
        Memory(config=hashing_config(model_home, junk))
    assert junk.read_bytes() == b"this is not sqlite at all" * 100
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE customers (id INTEGER)")
    with pytest.raises(StorageError, match="not a memgrid database"):
        Memory(config=hashing_config(model_home, foreign))
    with sqlite3.connect(foreign) as conn:
        assert [r[0] for r in conn.execute("SELECT name FROM sqlite_master")] == ["customers"]


def test_reopen_with_another_embedder_is_refused(tmp_path: Path, model_home: Path) -> None:
    db = tmp_path / "m.db"
    with Memory(config=hashing_config(model_home, db)) as mem:
        mem.add("hello", user_id="alice")
    config = hashing_config(model_home, db)
    config.embedder.dims = 64
    with pytest.raises(StorageError, match="same embedder"):
        Memory(config=config)


def test_export_import_roundtrip_keeps_ids(tmp_path: Path, model_home: Path, mem: Memory) -> None:
    mem.add([{"content": "one", "timestamp": "2023-01-01"}, {"content": "two"}], user_id="alice",
            session_id="s", metadata={"k": "v"})
    exported = [r.model_dump(mode="json") for r in mem.export(user_id="alice")]
    with Memory(config=hashing_config(model_home, tmp_path / "copy.db")) as other:
        assert other.import_records(exported) == 2
        assert other.import_records(exported) == 0  # idempotent
        copied = [r.model_dump(mode="json") for r in other.export(user_id="alice")]
    for a, b in zip(exported, copied, strict=True):
        assert a["id"] == b["id"] and a["text"] == b["text"] and a["event_time"] == b["event_time"]
        assert b["provenance"] == a["provenance"] and a["metadata"] == b["metadata"]  # frozen


def test_stats(mem: Memory) -> None:
    mem.add(["a one", "b two"], user_id="alice", session_id="s")
    mem.add("c three", user_id="bob")
    stats = mem.stats()
    assert stats.memories == 3 and stats.users == 2 and stats.vectors == 3
    assert mem.stats(user_id="alice").memories == 2
