"""SIGKILL a writer at random moments: acknowledged adds survive, nothing half-written shows."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from memgrid import Memory
from memgrid.models import Scope
from memgrid.validation import Filters
from tests.conftest import hashing_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_write(tmp_path: Path, model_home: Path) -> None:
    """A kill keeps the OS page cache, so this proves the transaction boundaries (what an
    acknowledged write includes), not synchronous=FULL against power loss:
    test_durability_setting_reaches_sqlite checks that setting."""
    db = tmp_path / "crash.db"
    rng = random.Random(1234)
    added: dict[str, str] = {}
    edits: dict[str, int] = {}  # memory id -> acknowledged version
    facts: dict[str, str] = {}  # fact id -> the one it superseded ('-' for none)
    next_i = 0
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for _round in range(20):
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.crash_writer", str(db), str(model_home), str(next_i)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT, env=env)
        assert proc.stdout is not None
        first = proc.stdout.readline()  # wait until it is writing, then kill at a random moment
        assert first, "writer died before its first add"
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        rest, _ = proc.communicate()
        for line in [first, *rest.splitlines()]:
            kind, *parts = line.split()
            if kind == "add" and len(parts) == 4:  # a torn last line was never acknowledged
                i = int(parts[0])
                for j, mid in enumerate(parts[1:]):
                    added[mid] = f"crash note {i} part {j}"
                next_i = max(next_i, i + 1)
            elif kind == "edit" and len(parts) == 2 and parts[1].isdigit():
                edits[parts[0]] = int(parts[1])
            elif kind == "fact" and len(parts) == 2 and len(parts[1]) in (1, 32):
                facts[parts[0]] = parts[1]
        next_i += 1000  # a fresh range for texts the killed add may have half-started

    assert len(added) > 20 * 3 and edits and facts
    with Memory(config=hashing_config(model_home, db)) as mem:
        store = mem.store
        assert store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r.id: r for r in mem.export(user_id="crash")}
        for mid, text in added.items():
            assert mid in stored, f"acknowledged add {mid} lost"
            record = stored[mid]
            # an edit the kill cut off may have landed or not, but whole: text with history
            edited = record.text == text + " edited"
            assert edited or (record.text == text and mid not in edits)
            assert [e.event for e in record.history] == (["ADD", "UPDATE"] if edited else ["ADD"])
        for mid, version in edits.items():
            assert stored[mid].version == version
        # every acknowledged move: stored, in its history, and the fact it ended ended by it
        for mid, previous in facts.items():
            assert mid in stored and stored[mid].history[0].event == "ADD"
            if previous != "-":
                assert stored[previous].superseded_by == mid
        assert len([r for r in stored.values() if r.fact_key and r.superseded_by is None]) == 1
        # nothing half-written: every batch is whole (3 parts), every row has its ADD entry,
        # every link ends at a stored memory, and each row is fully indexed
        notes = [r for r in stored.values() if r.text.startswith("crash note")]
        by_note: dict[str, int] = {}
        for r in notes:
            by_note[r.text.split(" part ")[0]] = by_note.get(r.text.split(" part ")[0], 0) + 1
        assert set(by_note.values()) == {3}
        assert all(r.history and r.history[0].event == "ADD" for r in stored.values())
        seqs = {m.seq for m in store.list_memories(Scope("default", "crash"), Filters(), None, 10_000)}
        links = store.out_links(sorted(seqs))
        assert sum(len(edges) for edges in links.values()) > 0
        assert all(other in seqs for edges in links.values() for other, _, _ in edges)
        assert store.vectors is not None and len(store.vectors) == len(stored)
        fts = store.conn.execute("SELECT count(*) FROM memories_fts WHERE memories_fts MATCH 'crash'")
        assert fts.fetchone()[0] == len(notes)
        hits = mem.search("crash note 3 part 1", user_id="crash", limit=5)
        assert hits and all(h.memory.id in stored for h in hits)


@pytest.mark.parametrize("durability, level", [("full", 2), ("normal", 1)])
def test_durability_setting_reaches_sqlite(tmp_path: Path, model_home: Path, durability: str,
                                           level: int) -> None:
    with Memory(config=hashing_config(model_home, tmp_path / "d.db", durability=durability)) as mem:
        assert mem.store.conn.execute("PRAGMA synchronous").fetchone()[0] == level
