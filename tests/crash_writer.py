"""Child process for the crash test: adds in a loop and reports each add after it returned."""

from __future__ import annotations

import sys
from pathlib import Path

from memgrid import EmbedderConfig, MemgridConfig, Memory


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
        # only after add() returned is the write acknowledged
        sys.stdout.write(f"{i} {' '.join(a.id for a in added)}\n")
        sys.stdout.flush()
        i += 1


if __name__ == "__main__":
    main()
