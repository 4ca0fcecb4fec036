"""`add(..., infer=True)`: after the verbatim turns are stored, the model's facts are extracted,
decided against the user's current facts and written in one transaction (see extract.py)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from memgrid.llm.extract import attribute_of, decide, extract
from memgrid.models import FactEvent, Provenance, Scope, StoredMemory
from memgrid.validation import Filters

if TYPE_CHECKING:
    from memgrid.memory import Memory

CANDIDATES = 5  # existing facts the judge sees for each new one


def current_facts_like(memory: Memory, scope: Scope, text: str, attribute: str | None) -> list[StoredMemory]:
    """The owner's current extracted facts nearest to `text` (any session), those on the same
    attribute first."""
    owner = Scope(scope.tenant_id, scope.user_id, scope.agent_id)
    hits = memory.retriever.search(text, owner, Filters.parse({"kind": "fact"}), CANDIDATES * 2, None)
    current = [h.memory for h in hits if h.memory.superseded_by is None and h.memory.valid_to is None]
    key = f"self|{attribute}" if attribute else None
    current.sort(key=lambda m: m.fact_key != key)  # stable: same attribute first, then by rank
    # only the ones the judge sees are read whole (an UPDATE or DELETE changes the stored row)
    found = [memory.store.get(scope.tenant_id, m.id) for m in current[:CANDIDATES]]
    return [m for m in found if m is not None]


def infer_facts(memory: Memory, written: list[StoredMemory], actor: str | None) -> list[FactEvent]:
    turns = [u for u in written if u.role == "user"]
    if not turns:
        return []
    llm = memory.llm
    events: list[FactEvent] = []
    units: list[StoredMemory] = []
    replaces: dict[str, StoredMemory] = {}
    now = time.time()
    for fact, sources in extract(llm, turns):
        attribute = attribute_of(fact.attribute)
        existing = current_facts_like(memory, turns[0].scope, fact.fact, attribute)
        event, target = decide(llm, fact.fact, existing)
        source_ids = [s.id for s in sources]
        if event in ("NOOP", "DELETE"):
            if event == "DELETE" and target is not None:
                memory.store.update(target, {"valid_to": sources[0].event_time or now}, actor)
            events.append(FactEvent(event=event, text=fact.fact, target=target.id if target else None,
                                    source_ids=source_ids))
            continue
        first = sources[0]
        provenance = Provenance(writer=first.provenance.writer, agent_id=first.provenance.agent_id,
                                source=first.provenance.source, method="extracted",
                                source_ids=tuple(source_ids))
        [unit] = memory.writer.derived_units([(fact.fact, {})], first.scope, first.visibility,
                                             first.event_time, provenance, kind="fact", role="user")
        unit.position = len(units)
        unit.fact_key = f"self|{attribute}" if attribute else None
        unit.fact_value = fact.fact if attribute else None
        if event == "UPDATE" and target is not None:
            replaces[unit.id] = target
        units.append(unit)
        events.append(FactEvent(event=event, text=fact.fact, id=unit.id,
                                target=target.id if target else None, source_ids=source_ids))
    stored = {u.id for u in memory.writer.write(units, actor, replaces=replaces)} if units else set()
    # a fact the store already held word for word (same moment) was not written again
    return [e if e.id is None or e.id in stored else e.model_copy(update={"event": "NOOP", "id": None})
            for e in events]
