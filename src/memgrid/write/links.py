"""Links on write: A-MEM's Zettelkasten notes without an LLM.

Each new memory is tied to its nearest memories in meaning ("similar") and to memories that name
the same people, places or things ("entity"), within the same user (or agent). Links are stored
in the insert transaction and followed at read time by bounded spreading activation
(`read.rerank.spread_along_links`) and by `Memory.related`. Derived units (session and topic
summaries) are not linked: they reach search through their own channels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from memgrid.config import LinkConfig
from memgrid.models import Scope, StoredMemory
from memgrid.storage.base import Link, Store
from memgrid.validation import Filters

DERIVED_KINDS = ("session", "topic")


def link_scope(scope: Scope) -> Scope | None:
    """Whose memories a new one may link to: its user's (any agent, any session), or its agent's
    when it has no user. None when it has neither (a tenant-wide memory links to nothing)."""
    if scope.user_id is not None:
        return Scope(scope.tenant_id, scope.user_id, None, None)
    if scope.agent_id is not None:
        return Scope(scope.tenant_id, None, scope.agent_id, None)
    return None


def _name_terms(names: Sequence[str], skip: set[str]) -> list[str]:
    words = {w.lower().split("'")[0] for n in names for w in n.split()}
    return sorted(w for w in words - skip if w.isalnum())


def _overlap(a: set[str], b: set[str]) -> float:
    return round(len(a & b) / len(a | b), 4)


def find_links(store: Store, units: Sequence[StoredMemory], config: LinkConfig) -> list[Link]:
    """Links for a batch about to be inserted: to stored memories and to earlier units of the batch."""
    if config.neighbors == 0:
        return []
    units = [u for u in units if u.kind not in DERIVED_KINDS and u.provenance.method != "derived"
             and u.embedding is not None]
    if not units:
        return []
    matrix = np.stack([np.asarray(u.embedding, np.float32) for u in units])
    within = matrix @ matrix.T
    # people in the conversation are named in most of its turns: they link everything to everything
    speakers = {w.lower() for u in units if u.speaker for w in u.speaker.split()}
    filters = Filters(exclude_kinds=DERIVED_KINDS)
    links: list[Link] = []
    names: list[set[str]] = [set() for _ in units]
    for i, unit in enumerate(units):
        scope = link_scope(unit.scope)
        if scope is None:
            continue
        similar: list[tuple[float, StoredMemory | int]] = [
            (float(sim), seq) for seq, sim in store.dense_search(scope, filters, matrix[i], config.neighbors)]
        similar += [(float(within[i, j]), units[j]) for j in range(i)
                    if link_scope(units[j].scope) == scope]
        similar.sort(key=lambda pair: -pair[0])
        links += [Link(unit, dst, "similar", round(sim, 4))
                  for sim, dst in similar[: config.neighbors] if sim >= config.min_similarity]
        names[i] = set(_name_terms(unit.entities, speakers))
        if names[i]:
            hits = store.text_search(scope, filters, sorted(names[i]), config.neighbors, column="entities")
            top = hits[0][1] if hits else 1.0
            links += [Link(unit, seq, "entity", round(max(score / top, 1e-3), 4)) for seq, score in hits]
            links += [Link(unit, units[j], "entity", _overlap(names[i], names[j]))
                      for j in range(i) if names[i] & names[j] and link_scope(units[j].scope) == scope]
    return links
