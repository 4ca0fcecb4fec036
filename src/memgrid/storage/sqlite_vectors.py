"""The usearch index beside a SQLite file: a cache of the rows' vectors, kept equal to them, and
searched within a caller's scope (ANN probe and scope check, or one exact pass over a sparse
scope's vectors)."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np

from memgrid.models import Scope
from memgrid.storage.base import VectorHit
from memgrid.storage.scoped_ann import ScopedANN, sparse_size
from memgrid.storage.sql import scope_sql
from memgrid.storage.vectors import VectorIndex
from memgrid.validation import Filters

# answered from the partial index ix_memories_vectors (keys only, not the rows' embeddings)
VECTOR_KEYS_SQL = "SELECT seq FROM memories WHERE embedding IS NOT NULL"


def rows_by_seq(conn: sqlite3.Connection, select: str, seqs: Sequence[int], where: str = "",
                params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """`select ... WHERE seq IN (...) [AND where]`, chunked under SQLite's variable limit."""
    ids = [int(s) for s in seqs]
    rows: list[tuple[Any, ...]] = []
    for start in range(0, len(ids), 900):
        chunk = ids[start : start + 900]
        sql = f"{select} WHERE seq IN ({','.join('?' * len(chunk))})"
        sql += f" AND {where}" if where else ""
        rows += conn.execute(sql, [*chunk, *params]).fetchall()
    return rows


def admitted(conn: sqlite3.Connection, seqs: Sequence[int], scope: Scope, filters: Filters) -> set[int]:
    """Which of these seqs the scope and filters admit. NOT INDEXED: rows are found by primary
    key; SQLite would otherwise drive the lookup with a scope index (a scan of the whole user)."""
    if not seqs:
        return set()
    where, params = scope_sql(scope, filters)
    return {r[0] for r in rows_by_seq(conn, "SELECT m.seq FROM memories m NOT INDEXED", seqs, where, params)}


def bounded_in_time(filters: Filters) -> bool:
    return (filters.time_range is not None or filters.event_after is not None
            or filters.event_before is not None or filters.as_of is not None)


class SQLiteVectors:
    """One store's ANN index and the SQL that keeps and scopes it. Callers hold the store lock."""

    def __init__(self, conn: sqlite3.Connection, index: VectorIndex) -> None:
        self.conn = conn
        self.index = index
        self._large_scopes: dict[tuple[Any, ...], int] = {}  # -> index size when found too big to go exact

    # -- keeping the index equal to the rows -------------------------------------------------

    def keys(self) -> np.ndarray:
        rows = self.conn.execute(VECTOR_KEYS_SQL).fetchall()
        return np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))

    def fetch(self, keys: np.ndarray) -> np.ndarray:
        """The rows' own f32 vectors (rebuilding or repairing the index)."""
        out = np.zeros((len(keys), self.index.dims), np.float32)
        where = {int(k): i for i, k in enumerate(keys)}
        for seq, blob in rows_by_seq(self.conn, "SELECT seq, embedding FROM memories", list(where)):
            out[where[seq]] = np.frombuffer(blob, np.float32)
        return out

    def catch_up(self, rebuild: bool = False) -> None:
        """Make the index hold what SQLite holds: its keys (reconcile) and the vectors edited
        since the index's stamp, by any process. An index stamped past the log (its file newer
        than a restored database) is rebuilt from the rows, as a caller may ask (compaction)."""
        last = int(self.conn.execute("SELECT coalesce(max(id), 0) FROM vector_log").fetchone()[0])
        applied = self.index.applied
        if rebuild or (applied is not None and applied > last):
            self.index.reset()
            applied = None
        self.index.reconcile(self.keys(), self.fetch)
        if applied is not None and applied < last:
            edited = self.conn.execute(
                "SELECT seq, embedding FROM memories WHERE embedding IS NOT NULL AND seq IN "
                "(SELECT seq FROM vector_log WHERE id > ? AND id <= ?)", (applied, last)).fetchall()
            if edited:
                self.index.replace(np.array([r[0] for r in edited], np.uint64),
                                   np.stack([np.frombuffer(r[1], np.float32) for r in edited]))
        self.index.applied = last

    # -- top k within a scope ----------------------------------------------------------------

    def search(self, scope: Scope, filters: Filters, vector: np.ndarray, k: int) -> list[VectorHit]:
        ann = self._scoped(scope, filters)
        if ann is None:
            return self.exact(scope, filters, np.asarray(vector)[None, :], k)[0]
        if not bounded_in_time(filters):
            # a user's share of a shared store: exact at once, as for a batch (time bounds are
            # left to the probe: they differ per query, so a wide range would pay the capped
            # read every time)
            keys = self._sparse_scope_keys(scope, filters, k)
            if keys is not None:
                return self.index.exact(keys, np.asarray(vector)[None, :], k)[0]
        return ann.search(vector, k)

    def search_many(self, scope: Scope, filters: Filters, vectors: np.ndarray,
                    k: int) -> list[list[VectorHit]]:
        ann = self._scoped(scope, filters)
        if ann is None:
            return self.exact(scope, filters, vectors, k)
        keys = self._sparse_scope_keys(scope, filters, k)
        if keys is not None:
            return self.index.exact(keys, vectors, k)
        return ann.search_many(vectors, k)

    def exact(self, scope: Scope, filters: Filters, vectors: np.ndarray, k: int) -> list[list[VectorHit]]:
        """Every query row against every vector of the scope: the keys from one read of an index
        that covers the usual scope (ix_memories_owner), the vectors from the ANN index, which
        callers have synced with SQLite. Reading the rows' f32 blobs instead took 22.9 ms for a
        user's 10k memories in a 1M store; keys, vectors and scores now take about 10 ms in all."""
        keys = self.scope_keys(*scope_sql(scope, filters))
        assert keys is not None, "no limit was set"
        return self.index.exact(keys, vectors, k)

    def scope_keys(self, where: str, params: Sequence[Any], most: int | None = None) -> np.ndarray | None:
        """The seqs of the memories a scope clause admits, or None when there are more than `most`."""
        limit = "" if most is None else f" LIMIT {int(most) + 1}"
        # one string from SQLite parses faster than 10k one-column rows
        found = self.conn.execute(
            f"SELECT group_concat(seq) FROM (SELECT m.seq FROM memories m WHERE {where}{limit})",
            params).fetchone()[0]
        keys = np.array(found.split(","), np.uint64) if found else np.empty(0, np.uint64)
        return None if most is not None and len(keys) > most else keys

    def _sparse_scope_keys(self, scope: Scope, filters: Filters, k: int) -> np.ndarray | None:
        """The keys of a scope too sparse in the index for an ANN probe to pay (a user's share of
        a shared store), read up to that size; None for a larger scope. A batch (linking new
        memories) then skips the probe and its scope check that would only say so (16 of a
        batch's 80 ms at 200k memories over 100 users). A scope found larger is not read again
        until the index has doubled: the capped read of a 1M index's 39k keys would take ~6 ms
        (62.5k took 9.5 ms on a 200k store), and such scopes are few (each holds over 1/64 of
        the index)."""
        total = len(self.index)
        where, params = scope_sql(scope, filters)
        signature = (where, *params)
        if total < 2 * self._large_scopes.get(signature, 0):
            return None
        keys = self.scope_keys(where, params, sparse_size(total, k))
        if keys is None:
            self._large_scopes[signature] = total
        else:
            self._large_scopes.pop(signature, None)
        return keys

    def _scoped(self, scope: Scope, filters: Filters) -> ScopedANN | None:
        """The ANN path for any scope and filters: the scope check runs on the candidates, and
        ScopedANN goes exact from its first probe when they admit too few (a time range, a small
        user). Filters once went exact outright, and every server search carries an access rule:
        a user with 200k memories paid an exact pass over all of them (227 ms a search)."""
        if not len(self.index):
            return None
        return ScopedANN(self.index, lambda seqs: admitted(self.conn, seqs, scope, filters),
                         lambda vectors, k: self.exact(scope, filters, vectors, k))
