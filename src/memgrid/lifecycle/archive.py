"""The archive tier: cold memories leave default search but are never deleted."""

from __future__ import annotations

import math

from memgrid.lifecycle.retention import retention
from memgrid.models import Scope
from memgrid.storage.base import Store
from memgrid.validation import Filters

DEFAULT_ARCHIVE_THRESHOLD = 0.05
# a user's most retained memories stay searchable however cold: this many, or a tenth of them
# when that is fewer (at least one)
KEEP_AT_LEAST = 20


def archive_cold(store: Store, scope: Scope, now: float | None, threshold: float,
                 half_life_days: float) -> int:
    """Archive the scope's memories whose retention is below the threshold; returns how many.
    Time runs on the user's clock unless `now` is given: retention decays from the user's last
    activity (said or recalled), so a conversation imported from 2023 is not all cold today.
    Recalls still buffered count first, and the most retained memories stay (KEEP_AT_LEAST)."""
    store.flush_recalls()
    live: list[tuple[int, float, float | None, float, int]] = []  # seq, said, recalled, importance, count
    after: int | None = None
    while page := store.list_memories(scope, Filters(), after, 1000):
        after = page[-1].seq
        live.extend((m.seq or 0, m.event_time if m.event_time is not None else m.created_at,
                     m.last_accessed_at, m.importance, m.access_count) for m in page)
    if not live:
        return 0
    clock = now if now is not None else max(max(said, recalled or said) for _, said, recalled, _, _ in live)
    scored = sorted(((retention(clock, said, recalled, importance, count, half_life_days), seq)
                     for seq, said, recalled, importance, count in live), reverse=True)
    keep = min(KEEP_AT_LEAST, max(1, math.ceil(len(live) / 10)))
    cold = [seq for r, seq in scored[keep:] if r < threshold]
    for start in range(0, len(cold), 1000):
        for m in store.get_by_seq(cold[start:start + 1000]).values():
            store.update(m, {"archived": True}, "lifecycle")
    return len(cold)
