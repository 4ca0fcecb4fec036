"""The archive tier: cold memories leave default search but are never deleted."""

from __future__ import annotations

from memgrid.lifecycle.retention import retention
from memgrid.models import Scope
from memgrid.storage.base import Store
from memgrid.validation import Filters

DEFAULT_ARCHIVE_THRESHOLD = 0.05


def archive_cold(store: Store, scope: Scope, now: float, threshold: float, half_life_days: float) -> int:
    """Archive every memory of the scope whose retention is below the threshold; returns how many."""
    archived = 0
    after: int | None = None
    while True:
        page = store.list_memories(scope, Filters(), after, 1000)
        if not page:
            return archived
        after = page[-1].seq
        for m in page:
            said = m.event_time if m.event_time is not None else m.created_at
            if retention(now, said, m.last_accessed_at, m.importance, m.access_count,
                         half_life_days) < threshold:
                store.update(m, {"archived": True}, "lifecycle")
                archived += 1
