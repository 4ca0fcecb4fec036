"""Retention in the spirit of MemoryBank's Ebbinghaus curve: R = exp(-t / S).

t is the time since the memory was last said or recalled; the strength S grows with importance
and with every recall. Retention weights ranking (RetrievalConfig.retention_weight) and decides
which memories move to the archive tier; it never deletes anything.
"""

from __future__ import annotations

import math

DAY = 86400.0


def strength_days(half_life_days: float, importance: float, access_count: int) -> float:
    return half_life_days * (1.0 + 2.0 * importance) * (1.0 + math.log1p(access_count))


def retention(now: float, said_at: float, last_access: float | None, importance: float,
              access_count: int, half_life_days: float) -> float:
    """1.0 when just said or recalled; 0.5 after one (strength-scaled) half-life."""
    since = max(0.0, now - max(said_at, last_access or said_at)) / DAY
    return math.exp(-since * math.log(2) / strength_days(half_life_days, importance, access_count))
