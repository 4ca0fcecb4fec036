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
from memgrid.text import name_words
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
    return sorted(name_words(names) - skip)


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
    scopes = [link_scope(u.scope) for u in units]
    names = [set(_name_terms(u.entities, speakers)) for u in units]
    groups: list[Scope] = []
    for s in scopes:
        if s is not None and s not in groups:
            groups.append(s)
    nearest: dict[int, list[tuple[int, float]]] = {}
    naming: list[dict[int, set[str]]] = []  # per group: stored memories naming what the batch names
    for group in groups:
        rows = [i for i, s in enumerate(scopes) if s == group]
        for i, hits in zip(rows, store.dense_search_many(group, filters, matrix[rows], config.neighbors),
                           strict=True):
            nearest[i] = hits
        wanted = set().union(*(names[i] for i in rows))
        # per name, its latest mentions: bounded work per batch at any store size
        found = store.mentions(group, filters, sorted(wanted), config.neighbors)
        naming.append({seq: set(_name_terms(theirs, speakers)) for seq, theirs in found.items()})
    links: list[Link] = []
    for i, unit in enumerate(units):
        scope = scopes[i]
        if scope is None:
            continue
        similar: list[tuple[float, StoredMemory | int]] = [(float(sim), seq) for seq, sim in nearest[i]]
        similar += [(float(within[i, j]), units[j]) for j in range(i) if scopes[j] == scope]
        similar.sort(key=lambda pair: -pair[0])
        links += [Link(unit, dst, "similar", round(sim, 4))
                  for sim, dst in similar[: config.neighbors] if sim >= config.min_similarity]
        if not names[i]:
            continue
        shared: list[tuple[float, int, StoredMemory | int]] = [  # (overlap, recency, target)
            (_overlap(names[i], theirs), seq, seq) for seq, theirs in naming[groups.index(scope)].items()
            if names[i] & theirs]
        shared += [(_overlap(names[i], names[j]), 1 << 62, units[j]) for j in range(i)
                   if names[i] & names[j] and scopes[j] == scope]
        shared.sort(key=lambda t: (-t[0], -t[1]))
        links += [Link(unit, dst, "entity", w) for w, _, dst in shared[: config.neighbors]]
    return links
