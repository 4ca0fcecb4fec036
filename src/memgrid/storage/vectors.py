"""ANN index (usearch HNSW) kept beside the SQLite file as a derived, rebuildable cache.

SQLite holds every embedding; this file only makes search fast. `reconcile` makes the index
agree with SQLite's keys on open (after a crash the file may be stale), so they never disagree.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from usearch.compiled import MetricKind, ScalarKind
from usearch.index import Index
from usearch.index import search as brute_force

from memgrid.storage.file_lock import locked

FORMAT = "usearch-hnsw-f16-m16"  # a file in another format is rebuilt from SQLite
FILLER_KEYS = np.uint64(2**63)  # keys that overwrite freed slots; memory seqs never get here


class VectorIndex:
    def __init__(self, path: Path | None, dims: int, fingerprint: str) -> None:
        self.path = path
        self.dims = dims
        self.fingerprint = fingerprint
        self.dirty = 0
        # the vector log id up to which edited vectors are applied (saved with the file); None:
        # a new index, filled from the rows as they are now
        self.applied: int | None = None
        self.index = self._load() or self._new()

    def _new(self) -> Index:
        # f16 + ef_add 64 + ef_search 256, measured on 60k real memories: 3x the add rate of
        # f32/ef_add 128 with higher recall@100 (0.83 vs 0.73 at ef_search 96). SQLite keeps the
        # f32 vectors; the exact path (filters, sparse scopes) scores with those.
        return Index(ndim=self.dims, metric="cos", dtype="f16", connectivity=16, expansion_add=64,
                     expansion_search=256)

    def _meta_path(self) -> Path | None:
        return None if self.path is None else self.path.with_name(self.path.name + ".json")

    def _load(self) -> Index | None:
        meta_path = self._meta_path()
        if self.path is None or meta_path is None or not self.path.exists() or not meta_path.exists():
            return None
        try:
            with locked(self._lock_path(), 0):  # the pair one save wrote, not two saves' halves
                meta = json.loads(meta_path.read_text())
                if (meta.get("fingerprint"), meta.get("dims"), meta.get("format")) != (
                        self.fingerprint, self.dims, FORMAT):
                    return None
                index = self._new()  # load into a configured index: ef settings are not in the file
                index.load(str(self.path))
            if index.ndim != self.dims:
                return None
            self.applied = int(meta.get("applied", 0))  # files before the log: from its start
            return index
        except (OSError, ValueError, RuntimeError):
            return None  # unreadable cache: rebuilt from SQLite by reconcile

    def reconcile(
        self, stored_keys: np.ndarray, fetch: Callable[[np.ndarray], np.ndarray]
    ) -> tuple[int, int]:
        """Add keys SQLite has and the index lacks; drop keys the index has and SQLite lacks."""
        # one slice read: iterating `keys` costs ~1.3 ms a key at 200k (an open took minutes)
        have = np.asarray(self.index.keys).astype(np.uint64)
        want = stored_keys.astype(np.uint64)
        missing = np.setdiff1d(want, have, assume_unique=True)
        extra = np.setdiff1d(have, want, assume_unique=True)
        if len(extra):
            self.erase(extra)  # gone from SQLite, perhaps erased there by another process
        for start in range(0, len(missing), 10_000):
            chunk = missing[start : start + 10_000]
            vectors = fetch(chunk)
            self.add(chunk, vectors)
        if len(missing) or len(extra):
            self.save()
        return len(missing), len(extra)

    def reset(self) -> None:
        """Empty the index, to be filled again from the rows."""
        self.index.reset()  # type: ignore[no-untyped-call]
        self.applied = None

    def replace(self, keys: np.ndarray, vectors: np.ndarray) -> None:
        """New vectors for keys (edited memories); keys not yet in the index are added."""
        self.remove(self._held(keys))
        self.add(keys, vectors)

    def exact(self, keys: np.ndarray, queries: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """Top k of each query row among these keys, scored exactly on the index's own f16 copies
        (a scope too thin for the graph): no row is read from SQLite, and usearch's SIMD kernels
        score f16 as it is. Keys the index lacks (memories without a vector) are skipped.
        10k keys of a 1M index: 3.7 ms to copy the rows out, 1.0 ms to score them."""
        held = self._held(keys)
        return exact_top_k(held, self.rows(held), queries, k)

    def rows(self, keys: np.ndarray) -> np.ndarray:
        """The f16 vectors of keys the index holds, one matrix row each. usearch's public `get`
        wraps every row in a numpy view from Python (~6 ms for 10k rows); its compiled call
        returns the raw rows, so that is used when this usearch has it."""
        if not len(keys):
            return np.empty((0, self.dims), np.float16)
        compiled: Any = getattr(self.index, "_compiled", None)
        try:
            raw = compiled.get_many(np.asarray(keys, np.uint64), ScalarKind.F16)
        except (AttributeError, TypeError):  # another usearch: the public call, slower
            raw = self.index.get(np.asarray(keys, np.uint64))
        return np.concatenate(raw).view(np.float16).reshape(len(keys), self.dims)

    def add(self, keys: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        if len(keys) == 0:
            return
        # one thread: the graph, and so every search, is the same for the same inserts (two
        # threads built a different graph each run; ingest ~6% faster, results not reproducible)
        self.index.add(np.asarray(keys, dtype=np.uint64), np.ascontiguousarray(vectors, np.float32),
                       threads=1)
        self.dirty += len(keys)

    def remove(self, keys: Iterable[int]) -> None:
        keys = np.fromiter(keys, dtype=np.uint64)
        if len(keys):
            self.index.remove(keys)
            self.dirty += len(keys)

    def erase(self, keys: Iterable[int]) -> None:
        """Remove keys and leave no trace of their vectors in the index or its file. usearch only
        tombstones a removed vector (its bytes stay until the slot is reused) and hands out free
        slots first in, first out, so every free slot is filled with noise and freed again: one
        add per free slot instead of rebuilding the graph (69 s for 200k memories)."""
        keys = np.fromiter(keys, dtype=np.uint64)
        keys = self._held(keys)
        if len(keys):
            self.index.remove(keys)
            self.dirty += len(keys)
        free = self.free_slots()
        if free:
            filler_keys = FILLER_KEYS + np.arange(free, dtype=np.uint64)
            noise = np.random.default_rng(free).normal(size=(free, self.dims)).astype(np.float32)
            self.index.add(filler_keys, noise, threads=1)
            self.index.remove(filler_keys)

    def _held(self, keys: np.ndarray) -> np.ndarray:
        """Those of keys the index holds."""
        return keys[np.asarray(self.index.contains(keys), dtype=bool)] if len(keys) else keys

    def free_slots(self) -> int:
        """Slots of removed vectors not yet reused (their bytes are still in the index)."""
        return int(self.index.stats.nodes) - len(self.index)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        if len(self.index) == 0 or k <= 0:
            return []
        matches = self.index.search(np.asarray(vector, np.float32), min(k, len(self.index)))
        return [(int(key), 1.0 - float(d)) for key, d in zip(matches.keys, matches.distances, strict=True)]

    def search_many(self, vectors: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
        """One batched ANN call for many queries (linking a batch on write). A few neighbours
        need a narrower beam than search's 256: the beam, not the batch, is the cost."""
        if len(self.index) == 0 or k <= 0 or len(vectors) == 0:
            return [[] for _ in range(len(vectors))]
        index: Any = self.index  # the stubs call expansion_search read-only; it is settable
        beam = index.expansion_search
        index.expansion_search = max(2 * k, 64)
        try:
            found = index.search(np.asarray(vectors, np.float32), min(k, len(index)))
        finally:
            index.expansion_search = beam
        return _per_query(found, len(vectors))

    def __len__(self) -> int:
        return len(self.index)

    def save(self) -> None:
        """Atomic replace, so a crash mid-save leaves the previous file (reconciled on open).
        Under the index's file lock: processes closing at once would otherwise share the
        temporary names, and a reader could pair one process's index with another's log
        position."""
        self.dirty = 0
        if self.path is None:
            return
        meta_path = self._meta_path()
        assert meta_path is not None
        with locked(self._lock_path(), 0):
            tmp = self.path.with_name(self.path.name + ".tmp")
            self.index.save(str(tmp))
            os.replace(tmp, self.path)
            meta_tmp = meta_path.with_name(meta_path.name + ".tmp")
            meta_tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "dims": self.dims,
                                            "format": FORMAT, "applied": self.applied or 0}))
            os.replace(meta_tmp, meta_path)

    def _lock_path(self) -> Path:
        assert self.path is not None
        return self.path.with_name(self.path.name + ".lock")


def exact_top_k(keys: np.ndarray, rows: np.ndarray, queries: np.ndarray,
                k: int) -> list[list[tuple[int, float]]]:
    """(key, cosine similarity) of each query row's k most similar rows, scored exactly with
    usearch's SIMD kernels in the rows' own precision; `keys` names the rows."""
    if not len(keys) or k <= 0 or not len(queries):
        return [[] for _ in range(len(queries))]
    found = brute_force(rows, np.asarray(queries, rows.dtype), min(k, len(keys)), MetricKind.Cos,
                        exact=True, threads=1)
    return [[(int(keys[i]), score) for i, score in row] for row in _per_query(found, len(queries))]


def _per_query(found: Any, queries: int) -> list[list[tuple[int, float]]]:
    """(key, similarity) lists per query row; usearch answers a one-row batch as one Matches."""
    keys, distances, counts = found.keys, found.distances, getattr(found, "counts", None)
    if counts is None:
        keys, distances, counts = keys[None, :], distances[None, :], [len(keys)]
    return [[(int(key), 1.0 - float(d)) for key, d in
             zip(keys[i][: counts[i]], distances[i][: counts[i]], strict=True)]
            for i in range(queries)]
