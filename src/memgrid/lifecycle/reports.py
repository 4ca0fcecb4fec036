"""What a consolidation pass did to one kind of derived unit (shared by sessions and topics)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class UnitCounts:
    created: int = 0
    updated: int = 0  # replaced because their sources changed (the old unit's history remains)
    unchanged: int = 0
    removed: int = 0  # units whose sources are all gone, or duplicates of another
    units: list[str] = field(default_factory=list)  # ids written by this pass
