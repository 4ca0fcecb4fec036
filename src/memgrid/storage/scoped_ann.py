"""Top k within a scope from an ANN index over every scope: probe, check the scope, and go
exact where the scope is too sparse in the index for widening to pay.

The index holds all tenants and users (one HNSW graph per store); the scope check and the
exact pass are the backend's (SQL). A scope that owns a small share of the store admits few of
any probe's candidates, so widening 4x at a time would read ever more candidates only to end in
the exact pass anyway: the share seen in the first probe decides at once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from memgrid.storage.base import VectorHit
from memgrid.storage.vectors import VectorIndex

Admit = Callable[[Sequence[int]], set[int]]  # which of these keys the scope admits
Exact = Callable[[np.ndarray, int], list[list[VectorHit]]]  # top k of each row over the scope


def widest_probe(first: int, k: int) -> int:
    """An ANN probe widens 4x at a time until it reaches 16 times k candidates; past that a
    scope counts as sparse and is searched exactly."""
    widest = first
    while widest < 16 * k:
        widest *= 4
    return widest


def first_probe(k: int) -> int:
    """Candidates asked of the ANN index first: twice k, and never a tiny beam."""
    return max(2 * k, 32)


def sparse_size(total: int, k: int) -> int:
    """The most memories a scope of an index holding `total` can have and still count as sparse
    (`sparse` at its expected share of every probe): known beforehand, the probe is not needed."""
    return total * k // widest_probe(first_probe(k), k)


def sparse(admitted: float, probed: int, k: int, reach: int) -> bool:
    """Whether an ANN probe widened to `reach` candidates would still admit fewer than k, at
    the share of the scope in this probe: one exact pass over the scope is then the answer
    anyway, and the probes in between are wasted."""
    return admitted * reach < k * probed


@dataclass
class ScopedANN:
    index: VectorIndex
    admit: Admit
    exact: Exact

    def search(self, vector: np.ndarray, k: int) -> list[VectorHit]:
        hits = self._widen(vector, k)
        return hits if hits is not None else self.exact(np.asarray(vector)[None, :], k)[0]

    def search_many(self, vectors: np.ndarray, k: int) -> list[list[VectorHit]]:
        """One ANN call for the batch; rows the scope is too sparse for are answered together by
        one exact pass over the scope (a user's share of a shared store: linking a batch reads
        that user's vectors once, not once per new memory)."""
        want = first_probe(k)
        batch = self.index.search_many(vectors, want)
        allowed = self.admit(list({s for row in batch for s, _ in row}))
        out = [[(s, score) for s, score in row if s in allowed] for row in batch]
        short = [i for i, hits in enumerate(out) if len(hits) < k]
        admitted = sum(len(hits) for hits in out) / max(1, len(out))
        if short and sparse(admitted, want, k, widest_probe(want, k)):
            for i, hits in zip(short, self.exact(vectors[short], k), strict=True):
                out[i] = hits
        else:
            for i in short:  # a scope thin near this row only: widen, or go exact
                out[i] = self.search(vectors[i], k)
        return [hits[:k] for hits in out]

    def _widen(self, vector: np.ndarray, k: int) -> list[VectorHit] | None:
        """ANN with the scope checked after; None when the scope is too sparse (go exact)."""
        want = first_probe(k)
        reach, total = widest_probe(want, k), len(self.index)
        while True:
            candidates = self.index.search(vector, want)
            allowed = self.admit([s for s, _ in candidates])
            hits = [(s, score) for s, score in candidates if s in allowed]
            if len(hits) >= k:
                return hits[:k]
            if want >= total or want >= reach or sparse(len(hits), want, k, reach):
                # HNSW is approximate even when asked for everything: a sparse scope is exact
                return None
            want *= 4
