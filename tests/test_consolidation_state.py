"""consolidate between runs: nothing new reads nothing, new memories resume from the saved
state, anything else starts over, and every way gives what one run from scratch gives."""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memgrid import Memory
from memgrid.lifecycle.consolidation_state import STATE_NAME
from memgrid.models import Scope
from memgrid.storage.sql import state_key
from tests.conftest import hashing_config

THEMES = {
    "pottery": "clay bowls glaze wheel kiln studio",
    "running": "marathon club tempo hills shoes pace",
    "garden": "tomatoes basil compost seedlings beds watering",
    "guitar": "chords strings practice riffs amp lessons",
    "baking": "sourdough starter oven crust flour proofing",
}


def _batch(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        theme = rng.choice(sorted(THEMES))
        words = THEMES[theme].split()
        out.append(f"{theme} notes: " + " ".join(rng.sample(words, 4)) + f" {rng.randint(0, 99)}")
    return out


def _derived(mem: Memory, user: str | None, agent: str | None = None) -> tuple[list[Any], list[Any]]:
    """The session and topic units as content (ids and seqs differ between users). A topic's
    label is left out: weighed by the keyword counts of when it was last rewritten, it is not
    rewritten when only other topics change, in a run that resumes or starts over alike."""
    texts = {m.id: m.text for m in mem.list(user_id=user, agent_id=agent, limit=1000).items}
    units = []
    for kind in ("session", "topic"):
        found = mem.list(user_id=user, agent_id=agent, filters={"kind": kind}, limit=1000).items
        units.append(sorted((m.text if kind == "session" else m.text.split(" (", 1)[1],
                             tuple(texts[s] for s in m.provenance.source_ids), m.visibility)
                            for m in found))
    return units[0], units[1]


def _spy(mem: Memory, name: str) -> list[tuple[Any, ...]]:
    calls: list[tuple[Any, ...]] = []
    original: Callable[..., Any] = getattr(mem.store, name)

    def spy(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return original(*args, **kwargs)

    setattr(mem.store, name, spy)
    return calls


def _full_scans(listed: list[Any]) -> int:
    """Listings of a whole scope (no session, no cursor): what a run that starts over reads."""
    return sum(1 for c in listed if c[0].session_id is None and c[2] is None)


@pytest.mark.parametrize("max_members", [20, 3])
def test_resumed_and_restarted_runs_match_one_run_from_scratch(mem: Memory, max_members: int) -> None:
    """Two users get the same writes; one consolidates after every step, the other once at the
    end. Steps 1 and 2 update older memories in place (a superseded fact, new metadata and
    date): the run resumes. Step 3 edits a text and deletes a memory: it starts over. Topics of
    3 fill up, so edits also reach topics that are no longer in the saved state."""
    mem.config.topics.max_members = max_members
    rng = random.Random(7)
    steps: list[list[str]] = [_batch(rng, 12) for _ in range(6)]
    steps[0][4] = "pottery notes: I live in Denver near the clay studio"
    steps[1][0] = "pottery notes: I moved to Boston and found a new kiln"  # supersedes step 0's
    ids: dict[str, list[str]] = {"inc": [], "full": []}
    listed = _spy(mem, "list_memories")
    for i, texts in enumerate(steps):
        for user in ids:
            ids[user] += [m.id for m in mem.add(texts, user_id=user, session_id=f"s{i % 4}")]
            if i == 2:
                mem.update(ids[user][1], metadata={"mood": "calm"}, event_time="2024-05-01")
                mem.update(ids[user][13], metadata={"mood": "tired"})
            if i == 3:
                mem.update(ids[user][2], text="pottery notes: clay glaze kiln wheel 5")
                mem.delete(ids[user][5])
        listed.clear()
        report = mem.consolidate(user_id="inc")
        assert _full_scans(listed) == (1 if i in (0, 3) else 0), i  # resumed runs read only what changed
        topics = mem.list(user_id="inc", filters={"kind": "topic"}, limit=1000).items
        assert report.topics.topics == len(topics)
        if i == 2:  # the edited memories' sessions and topics were rewritten
            assert report.updated >= 2 and report.topics.updated >= 1
    assert mem.get(ids["inc"][4]).superseded_by == ids["inc"][12]
    mem.consolidate(user_id="full")
    inc, full = _derived(mem, "inc"), _derived(mem, "full")
    assert inc == full
    assert len(full[0]) == 4 and len(full[1]) >= 5
    sizes = [len(t[1]) for t in full[1]]
    assert max(sizes) == max_members if max_members == 3 else max(sizes) < max_members


def test_an_agents_own_memories_resume_after_an_update(mem: Memory) -> None:
    """An agent's scope has no user, and the history log is kept by user: its updates are found
    through the memories they belong to, so an update resumes there too. Another user's update
    between runs changes nothing of the agent's."""
    rng = random.Random(11)
    steps = [_batch(rng, 12) for _ in range(3)]
    ids: dict[str, list[str]] = {"inc": [], "full": []}
    listed = _spy(mem, "list_memories")
    for i, texts in enumerate(steps):
        for agent in ids:
            ids[agent] += [m.id for m in mem.add(texts, agent_id=agent, session_id=f"s{i % 2}")]
            if i == 2:
                mem.update(ids[agent][1], metadata={"mood": "calm"}, event_time="2024-05-01")
                mem.update(ids[agent][14], metadata={"mood": "tired"})
        other = mem.add("pottery notes: somebody else's kiln", user_id="someone")[0]
        mem.update(other.id, metadata={"seen": True})
        listed.clear()
        report = mem.consolidate(agent_id="inc")
        assert _full_scans(listed) == (1 if i == 0 else 0), i
        if i == 2:  # the edited memories' sessions were rewritten
            assert report.updated >= 1
    # the log's entries reach the agent's memories only, not another agent's or user's
    assert set(mem.store.updated_since(Scope(mem.tenant_id, None, "inc", None), 0)) == {
        ids["inc"][1], ids["inc"][14]}
    mem.consolidate(agent_id="full")
    inc, full = _derived(mem, None, "inc"), _derived(mem, None, "full")
    assert inc == full and len(full[0]) == 2 and full[1]


def test_nothing_new_reads_no_memories(mem: Memory) -> None:
    mem.add(_batch(random.Random(1), 20), user_id="u", session_id="s")
    first = mem.consolidate(user_id="u")
    calls = [_spy(mem, name) for name in ("list_memories", "get_by_seq", "get", "insert", "delete")]
    again = mem.consolidate(user_id="u")
    assert calls == [[], [], [], [], []]
    assert (again.sessions, again.unchanged, again.created, again.updated) == (1, 1, 0, 0)
    t = again.topics
    assert (t.topics, t.unchanged, t.created, t.updated) == (first.topics.topics, first.topics.topics, 0, 0)


def test_a_removed_unit_or_other_settings_start_over(mem: Memory) -> None:
    mem.add(_batch(random.Random(2), 20), user_id="u", session_id="s")
    first = mem.consolidate(user_id="u")
    [topic, *_] = mem.list(user_id="u", filters={"kind": "topic"}).items
    mem.delete(topic.id)  # a derived unit deleted by hand comes back, as a full run brings it
    again = mem.consolidate(user_id="u")
    assert again.topics.created == 1 and again.topics.topics == first.topics.topics
    mem.config.topics.max_members = 3  # other settings: the state no longer applies
    smaller = mem.consolidate(user_id="u")
    assert smaller.topics.updated > 0
    topics = mem.list(user_id="u", filters={"kind": "topic"}).items
    assert topics and all(len(t.provenance.source_ids) == 3 for t in topics)


def test_unreadable_state_starts_over_and_erase_drops_states(mem: Memory) -> None:
    mem.add(_batch(random.Random(3), 20), user_id="u", session_id="s")
    mem.add(_batch(random.Random(4), 5), user_id="v", session_id="s")
    first = mem.consolidate(user_id="u")
    mem.consolidate(user_id="v")
    scope = Scope(mem.tenant_id, "u", None, None)
    mem.store.save_state(scope, STATE_NAME, '{"format": 1, "settings": "x"')
    again = mem.consolidate(user_id="u")
    assert again.topics.unchanged == first.topics.topics and again.unchanged == 1
    assert mem.store.load_state(scope, STATE_NAME) is not None
    mem.erase(user_id="u")  # states hold keyword counts, the user's words: every one of the tenant goes
    for user in ("u", "v"):
        assert mem.store.load_state(Scope(mem.tenant_id, user, None, None), STATE_NAME) is None
    listed = _spy(mem, "list_memories")
    assert mem.consolidate(user_id="v").topics.created == 0  # v starts over, finds its units current
    assert any(c[0].user_id == "v" and c[2] is None for c in listed)


@pytest.mark.parametrize("archived", [False, True])
def test_an_archived_memory_leaves_its_topic(mem: Memory, archived: bool) -> None:
    memories = mem.add(_batch(random.Random(5), 20), user_id="u", session_id="s")
    mem.consolidate(user_id="u")
    if archived:
        mem.store.update(mem.store.get(mem.tenant_id, memories[0].id), {"archived": True}, "test")
    mem.consolidate(user_id="u")
    members = {s for t in mem.list(user_id="u", filters={"kind": "topic"}, limit=100).items
               for s in t.provenance.source_ids}
    assert (memories[0].id in members) is not archived


def test_runs_at_once_write_each_unit_once(mem: Memory) -> None:
    mem.add(_batch(random.Random(6), 30), user_id="u", session_id="a")
    mem.add(_batch(random.Random(7), 30), user_id="u", session_id="b")
    start = threading.Barrier(3)
    errors: list[BaseException] = []

    def run() -> None:
        start.wait()
        try:
            mem.consolidate(user_id="u")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    sessions = mem.list(user_id="u", filters={"kind": "session"}).items
    topics = mem.list(user_id="u", filters={"kind": "topic"}, limit=100).items
    assert sorted(m.session_id for m in sessions) == ["a", "b"]
    assert len({t.metadata["seed"] for t in topics}) == len(topics) > 0


def test_starting_over_removes_duplicates_and_units_of_emptied_sessions(mem: Memory) -> None:
    mem.add(_batch(random.Random(8), 10), user_id="u", session_id="a")
    gone = mem.add(["a session about to be emptied"], user_id="u", session_id="b")
    mine = mem.add({"content": "my own notes", "kind": "session"}, user_id="u", session_id="c")[0]
    mem.consolidate(user_id="u")
    unit = next(m for m in mem.list(user_id="u", filters={"kind": "session"}).items if m.session_id == "a")
    twin = mem.store.get(mem.tenant_id, unit.id)
    assert twin is not None
    twin.id, twin.seq = "twin" + unit.id[4:], None  # what two runs at once used to leave
    mem.store.insert([twin], "consolidate")
    mem.delete(gone[0].id)
    report = mem.consolidate(user_id="u")
    assert report.removed == 2  # the older twin, and session b's unit
    left = mem.list(user_id="u", filters={"kind": "session"}).items
    assert sorted((m.session_id, m.id == mine.id) for m in left) == [("a", False), ("c", True)]


def test_sqlite_pass_lock_excludes_other_processes(tmp_path: Path, model_home: Path) -> None:
    with Memory(config=hashing_config(model_home, tmp_path / "m.db")) as mem:
        scope = Scope(mem.tenant_id, "u", None, None)
        key = zlib.crc32(f"{STATE_NAME}\x1f{mem.tenant_id}\x1f{state_key(scope)}".encode())
        probe = ("import fcntl, sys\n"
                 f"f = open({str(tmp_path / 'm.db.lock')!r}, 'a')\n"
                 f"try: fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, {key})\n"
                 "except OSError: sys.exit(3)\n")
        with mem.store.exclusive(scope, STATE_NAME):
            held = subprocess.run([sys.executable, "-c", probe], check=False)
        free = subprocess.run([sys.executable, "-c", probe], check=False)
    assert (held.returncode, free.returncode) == (3, 0)


def test_text_vectors_are_saved_dropped_with_their_text_and_erased(mem: Memory) -> None:
    memories = mem.add(_batch(random.Random(9), 20), user_id="u", session_id="s")
    mem.consolidate(user_id="u")
    seqs = {m.id: s.seq for m in memories if (s := mem.store.get(mem.tenant_id, m.id)) and s.seq}
    assert set(mem.store.text_vectors(list(seqs.values()))) == set(seqs.values())
    edited = memories[3]
    mem.update(edited.id, text="garden notes: basil tomatoes compost 1")  # starts over
    assert seqs[edited.id] not in mem.store.text_vectors(list(seqs.values()))
    embedded: list[str] = []
    embed = mem.writer.embedder.embed

    def spy(texts: list[str]) -> Any:
        embedded.extend(texts)
        return embed(texts)

    mem.writer.embedder.embed = spy  # type: ignore[method-assign]
    mem.consolidate(user_id="u")
    texts = {m.text for m in mem.list(user_id="u", limit=100).items}
    assert [t for t in embedded if t in texts] == ["garden notes: basil tomatoes compost 1"]
    assert seqs[edited.id] in mem.store.text_vectors(list(seqs.values()))
    mem.erase(user_id="u")
    assert mem.store.text_vectors(list(seqs.values())) == {}
