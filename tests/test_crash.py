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
from tests.conftest import hashing_config

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_sigkill_loses_no_acknowledged_add(tmp_path: Path, model_home: Path) -> None:
    db = tmp_path / "crash.db"
    rng = random.Random(1234)
    acknowledged: dict[str, str] = {}
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
            parts = line.split()
            if len(parts) == 4:  # a torn last line was never fully acknowledged
                i = int(parts[0])
                for j, mid in enumerate(parts[1:]):
                    acknowledged[mid] = f"crash note {i} part {j}"
                next_i = max(next_i, i + 1)
        next_i += 1000  # a fresh range for texts the killed add may have half-started

    assert len(acknowledged) > 20 * 3
    with Memory(config=hashing_config(model_home, db)) as mem:
        assert mem.store.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        stored = {r.id: r for r in mem.export(user_id="crash")}
        for mid, text in acknowledged.items():
            assert mid in stored, f"acknowledged add {mid} lost"
            assert stored[mid].text == text
        # nothing half-written: every batch is whole (3 parts), and each row is fully indexed
        by_note: dict[str, int] = {}
        for r in stored.values():
            by_note[r.text.rsplit(" part ", 1)[0]] = by_note.get(r.text.rsplit(" part ", 1)[0], 0) + 1
        assert set(by_note.values()) == {3}
        assert mem.store.vectors is not None and len(mem.store.vectors) == len(stored)
        fts = mem.store.conn.execute("SELECT count(*) FROM memories_fts WHERE memories_fts MATCH 'crash'")
        assert fts.fetchone()[0] == len(stored)
        hits = mem.search("crash note 3 part 1", user_id="crash", limit=5)
        assert hits and all(h.memory.id in stored for h in hits)
