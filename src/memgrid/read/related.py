"""Follow a memory's write-time links (A-MEM's 'related notes'), within what the reader may see."""

from __future__ import annotations

from memgrid.models import RelatedMemory, Scope, StoredMemory
from memgrid.storage.base import Store
from memgrid.validation import Filters


def related_memories(store: Store, memory: StoredMemory, limit: int,
                     filters: Filters) -> list[RelatedMemory]:
    """Linked memories, strongest first; each once, with every kind of link that joins them.
    `filters` carries the reader's access rule: an unreadable neighbour is never returned."""
    if memory.seq is None:
        return []
    weight: dict[int, float] = {}
    kinds: dict[int, list[str]] = {}
    for other, w, kind in store.links([memory.seq]).get(memory.seq, []):
        weight[other] = max(weight.get(other, 0.0), w)
        kinds.setdefault(other, []).append(kind)
    admitted = store.matching(list(weight), Scope(memory.scope.tenant_id), filters)
    best = sorted(admitted, key=lambda s: -weight[s])[:limit]
    rows = store.get_by_seq(best)
    return [RelatedMemory(memory=rows[s].to_record(), weight=weight[s], kinds=sorted(set(kinds[s])))
            for s in best if s in rows]
