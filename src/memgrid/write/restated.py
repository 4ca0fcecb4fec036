"""Changes that name the old value: "Dr. Hughes retired, so I've been assigned to Dr. Okoro".
Read alone, such a turn states the old value (or nothing the lexicon knows); read beside its
speaker's current facts, the value named as ending is the current one and the other is the
new one (`facts.replacement_value`). The issue's "comparison with the user's earlier
statements on the same attribute", zero-LLM: one indexed read of the speaker's current facts
for a batch that has a word of ending in a user turn, nothing otherwise."""

from __future__ import annotations

from collections.abc import Sequence

from memgrid.models import StoredMemory
from memgrid.storage.base import Store
from memgrid.write.facts import (
    NAMED_ATTRIBUTES,
    extract_fact,
    may_end_a_value,
    replacement_value,
    subject_of,
    traded_away,
)


def restate(store: Store, units: Sequence[StoredMemory]) -> None:
    """Give the turns of `units` that end one of their speaker's current values the new value
    they name (fact key and value), before the write decides supersession."""
    todo = {u.id for u in units if u.role == "user" and u.kind == "message" and may_end_a_value(u.text)}
    if not todo:
        return
    scope = next(u.scope for u in units if u.id in todo)
    subjects = {subject_of(u) for u in units if u.id in todo}
    keys = [f"{s}|{a}" for s in sorted(subjects) for a in NAMED_ATTRIBUTES]
    holders = {k: m.fact_value or "" for k, m in store.current_facts(scope, keys).items()}
    for unit in sorted(units, key=lambda u: (u.event_time or 0.0, u.position or 0)):
        if unit.id in todo and unit.scope.user_id == scope.user_id:
            prefix = f"{subject_of(unit)}|"
            for key, old in holders.items():
                if not key.startswith(prefix):
                    continue
                if not _may_restate(unit, key, old):
                    continue
                new = replacement_value(key.partition("|")[2], unit.text, old)
                if new:
                    unit.fact_key, unit.fact_value = key, new
                    break
        if unit.fact_key and unit.fact_value:  # the batch's own statements hold from here on
            holders[unit.fact_key] = unit.fact_value


def _may_restate(unit: StoredMemory, key: str, old: str) -> bool:
    """Not where the turn states another attribute, or a new value already ("jazz" is the old
    "honda jazz"); unless it trades `old` away and only the embedding side keyed it."""
    if unit.fact_key in (None, key) and (unit.fact_value is None
                                         or set(unit.fact_value.split()) <= set(old.split())):
        return True
    attribute = key.partition("|")[2]
    return traded_away(attribute, unit.text, old) and extract_fact(unit.text, subject_of(unit)) is None
