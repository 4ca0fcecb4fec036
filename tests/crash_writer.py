"""Child process for the crash test: adds, edits and moves a fact in a loop, and reports each
write after it returned (one line per acknowledged write)."""

from __future__ import annotations

import sys
from pathlib import Path

from memgrid import EmbedderConfig, MemgridConfig, Memory

CITIES = ("Denver", "Boston", "Austin", "Lisbon")


def main() -> None:
    db, home, start = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    config = MemgridConfig(home=home, path=db, embedder=EmbedderConfig(provider="hashing"),
                           vector_save_every=7)
    mem = Memory(config=config)
    i = start
    while True:
        batch = [{"content": f"crash note {i} part {j}", "timestamp": 1_700_000_000 + i}
                 for j in range(3)]
        added = mem.add(batch, user_id="crash", session_id=f"s{i % 5}")
        # only after a call returned is the write acknowledged
        print(f"add {i} {' '.join(a.id for a in added)}", flush=True)
        edited = mem.update(added[2].id, text=f"crash note {i} part 2 edited")
        print(f"edit {edited.id} {edited.version}", flush=True)
        moved = mem.add(f"I live in {CITIES[i % 4]} since note {i}", user_id="crash")
        print(f"fact {moved[0].id} {moved[0].supersedes or '-'}", flush=True)
        i += 1


if __name__ == "__main__":
    main()
