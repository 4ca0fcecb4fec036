"""Embedded SQLite backend: rows, FTS5 full text and embeddings in one WAL file; usearch for ANN,
and tantivy for full text once the store is large."""

from __future__ import annotations

import functools
import json
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

import numpy as np

from memgrid.errors import StorageError
from memgrid.models import HistoryEntry, Scope, StoredMemory
from memgrid.storage import jobs
from memgrid.storage.base import Closing, Digest, Edge, Link, Neighbor, Placement, Plan, TextHit, VectorHit
from memgrid.storage.file_lock import SCHEMA_OFFSET, locked
from memgrid.storage.jobs import Job, JobCounts
from memgrid.storage.sql import (
    COLUMNS,
    HAS_LINK,
    HISTORY_COLUMNS,
    INSERT_COLUMNS,
    JSON_FIELDS,
    PLACEMENT_COLUMNS,
    SQLITE,
    UPDATABLE,
    RecallBuffer,
    closing_statements,
    current_facts_sql,
    digest_sql,
    edges_from,
    erase_history_sql,
    existing_hashes_sql,
    history_entries,
    history_mark_sql,
    history_row,
    history_rows,
    history_sql,
    ids_with_prefix,
    insert_values,
    link_rows,
    list_sql,
    name_owner,
    name_term_rows,
    neighbors_from,
    neighbors_sql,
    owner_rows,
    place_in_sessions,
    row_to_memory,
    rows_to_memories,
    scope_delete_sql,
    scope_sql,
    scope_stats,
    session_rows,
    state_key,
    touch_sql,
    updated_since_sql,
)
from memgrid.storage.sqlite_fts import FTS5
from memgrid.storage.sqlite_schema import NAME_LOOKUP_SQL, NAME_TERMS_SQL, migrate
from memgrid.storage.sqlite_vectors import SQLiteVectors, admitted, rows_by_seq
from memgrid.storage.text_index import TextIndex, TextIndexBusy, can_filter, catch_up, trim_log
from memgrid.storage.vectors import VectorIndex
from memgrid.validation import Filters

_INSERT_SLOTS = ",".join("?" * (INSERT_COLUMNS.count(",") + 1))


def _blob(vector: np.ndarray | None) -> bytes | None:
    return None if vector is None else np.asarray(vector, np.float32).tobytes()


P = ParamSpec("P")
R = TypeVar("R")


def _exclusive(method: Callable[Concatenate[SQLiteStore, P], R]) -> Callable[Concatenate[SQLiteStore, P], R]:
    """Writes hold the store lock through commit and the ANN update, so a concurrent search in
    this process never sees SQLite and the index disagree (and never re-adds a fresh key)."""
    @functools.wraps(method)
    def locked(self: SQLiteStore, /, *args: P.args, **kwargs: P.kwargs) -> R:
        with self._lock:
            return method(self, *args, **kwargs)

    return locked


class SQLiteStore:
    """The default backend. One connection guarded by a lock; safe to share between threads."""

    def __init__(self, path: Path | None, durability: str = "full", save_every: int = 5_000,
                 text_index_from: int | None = None, mmap_mb: int = 256) -> None:
        self.path = path
        self.save_every = save_every
        self.text_index_from = text_index_from  # memories; None: FTS5 answers at any size
        self.text: TextIndex | None = None
        self._text_busy = False
        self._lock = threading.RLock()
        self._pass_locks = [threading.Lock() for _ in range(16)]  # see exclusive()
        self._recalls = RecallBuffer()
        self.ann: SQLiteVectors | None = None  # once an embedder is bound
        self.embedder_name = ""
        target = ":memory:" if path is None else str(path)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        # processes opening a new file at once would each create the tables: one at a time
        schema_lock = (nullcontext() if path is None
                       else locked(path.with_name(path.name + ".lock"), SCHEMA_OFFSET))
        try:
            with schema_lock:
                self.conn = self._connect(target, durability, mmap_mb)
        except sqlite3.DatabaseError as exc:
            raise StorageError(f"cannot open {target} as a memgrid database: {exc}") from exc
        self._data_version = self._read_data_version()
        self._seen_changes = self._vector_changes()
        self.fts = FTS5(self.conn)

    def _connect(self, target: str, durability: str, mmap_mb: int) -> sqlite3.Connection:
        conn = sqlite3.connect(target, isolation_level=None, check_same_thread=False)
        try:
            conn.execute("PRAGMA busy_timeout = 10000")
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute(f"PRAGMA synchronous = {'FULL' if durability == 'full' else 'NORMAL'}")
            conn.execute("PRAGMA secure_delete = ON")  # erased text must not linger in pages
            # reads through a memory map skip a system call per page: a search reads a few
            # hundred pages (rows, FTS5 postings and doc sizes) and the page cache holds 2 MB
            conn.execute(f"PRAGMA mmap_size = {int(mmap_mb) * 2**20}")
            self.db_uuid = migrate(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    # -- plumbing ---------------------------------------------------------------------------

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction. BEGIN IMMEDIATE excludes other writers, so if the vector
        counter matched ours at the start, it is ours again after our own changes."""
        with self._lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                before = self._vector_changes()
                self._flush_touches()
                yield self.conn
                after = self._vector_changes()
            except BaseException:
                self.conn.execute("ROLLBACK")
                raise
            self.conn.execute("COMMIT")
            if before == self._seen_changes:
                self._seen_changes = after

    @property
    def vectors(self) -> VectorIndex | None:
        """The ANN index, once an embedder is bound (writes keep it in step with the rows)."""
        return None if self.ann is None else self.ann.index

    def _bound(self) -> SQLiteVectors:
        assert self.ann is not None, "bind_embedder() must run before vector operations"
        return self.ann

    def _read_data_version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def _vector_changes(self) -> int:
        return int(self.conn.execute("SELECT n FROM vector_changes WHERE id = 1").fetchone()[0])

    def _sync_vectors(self) -> None:
        """Another connection changed stored vectors since we last looked: catch the index up.
        data_version is a free pre-check; the counter says whether vectors (not, say, the audit
        log) changed."""
        version = self._read_data_version()
        if version != self._data_version and self.ann is not None:
            changes = self._vector_changes()
            if changes != self._seen_changes:
                self.ann.catch_up()
                self._seen_changes = changes
        self._data_version = version

    def _after_write(self) -> None:
        self._data_version = self._read_data_version()
        if self.vectors is not None and self.vectors.dirty >= self.save_every:
            self.vectors.save()

    def _text_index(self) -> TextIndex | None:
        """The tantivy index, caught up with every writer, once the store holds
        `text_index_from` memories; None while FTS5 answers (a small store, or another process
        holds the index's writer and keeps it, so this one stays exact with FTS5)."""
        if self.text_index_from is None or self._text_busy:
            return None
        if self.text is None:
            rows = self.conn.execute("SELECT coalesce(max(seq), 0) FROM memories").fetchone()[0]
            if rows < self.text_index_from:
                return None
            folder = None if self.path is None else self.path.with_name(self.path.name + ".text")
            try:
                self.text = TextIndex(folder, self.db_uuid)
            except TextIndexBusy:
                self._text_busy = True
                return None
        catch_up(self.text, self.conn)
        return self.text

    def _trim_text_log(self, conn: sqlite3.Connection) -> None:
        """Applied entries go; with no index here and none elsewhere, all of them (an index
        built later starts from the rows)."""
        if self.text is not None and self.text.applied is not None:
            trim_log(conn, self.text.applied)
        elif not self._text_busy:
            trim_log(conn, int(conn.execute("SELECT coalesce(max(id), 0) FROM text_log").fetchone()[0]))

    # -- Store interface --------------------------------------------------------------------

    def bind_embedder(self, name: str, dims: int) -> None:
        with self._lock:
            row = self.conn.execute("SELECT value FROM meta WHERE key='embedder'").fetchone()
            has_vectors = self.conn.execute(
                "SELECT 1 FROM memories WHERE embedding IS NOT NULL LIMIT 1").fetchone()
            if row is not None and has_vectors:
                bound = json.loads(row[0])
                if bound != {"name": name, "dims": dims}:
                    raise StorageError(
                        f"this database was built with embedder {bound['name']} ({bound['dims']} dims), "
                        f"not {name} ({dims} dims); open it with the same embedder"
                    )
            with self._tx() as conn:
                conn.execute("INSERT OR REPLACE INTO meta VALUES ('embedder', ?)",
                             (json.dumps({"name": name, "dims": dims}),))
            self.embedder_name = name
            index_path = None if self.path is None else self.path.with_name(self.path.name + ".usearch")
            self.ann = SQLiteVectors(self.conn, VectorIndex(index_path, dims,
                                                            fingerprint=f"{self.db_uuid}:{name}"))
            self.ann.catch_up()
            self._data_version = self._read_data_version()
            self._seen_changes = self._vector_changes()

    @_exclusive
    def insert(self, memories: Sequence[StoredMemory], actor: str | None,
               plan: Plan | None = None, links: Sequence[Link] = (),
               keep_positions: bool = False,
               history: dict[str, list[HistoryEntry]] | None = None,
               queue: str | None = None) -> list[StoredMemory]:
        if not memories:
            return []
        with self._tx() as conn:
            closes: list[Closing] = []
            if plan is not None:  # BEGIN IMMEDIATE holds off every other writer: decide now
                memories, closes = plan(self)
                if not memories:
                    return []
            if not keep_positions:
                place_in_sessions(lambda sql, params: conn.execute(sql, params).fetchall(), memories,
                                SQLITE)
            for sql, params in closing_statements(closes, actor, time.time(), "?"):
                conn.execute(sql, params)
            for m in memories:
                cur = conn.execute(
                    f"INSERT INTO memories ({INSERT_COLUMNS}) VALUES ({_INSERT_SLOTS})",
                    insert_values(m, _blob(m.embedding)))
                m.seq = seq = int(cur.lastrowid or 0)  # always set after an INSERT
                conn.executemany(NAME_TERMS_SQL, name_term_rows(
                    seq, m.scope.tenant_id, m.scope.user_id, m.scope.agent_id, m.entities))
            conn.executemany(history_sql("?"), history_rows(memories, actor, history))
            conn.executemany("INSERT OR IGNORE INTO links (src, dst, kind, weight) VALUES (?, ?, ?, ?)",
                             link_rows(links))
            if queue is not None:
                conn.execute(jobs.enqueue_sql("?"), jobs.enqueue_params(queue, memories, actor, time.time()))
        embedded = [m for m in memories if m.embedding is not None]
        if self.vectors is not None and embedded:
            self.vectors.add([m.seq for m in embedded if m.seq is not None],
                             np.stack([m.embedding for m in embedded if m.embedding is not None]))
        self._after_write()
        return list(memories)

    def get(self, tenant_id: str, memory_id: str) -> StoredMemory | None:
        with self._lock:
            row = self.conn.execute(
                f"SELECT {COLUMNS} FROM memories WHERE id = ? AND tenant_id = ?",
                (memory_id, tenant_id)).fetchone()
        return None if row is None else row_to_memory(row)

    def get_by_seq(self, seqs: Sequence[int]) -> dict[int, StoredMemory]:
        with self._lock:
            rows = rows_by_seq(self.conn, f"SELECT {COLUMNS} FROM memories", seqs)
            return {m.seq: m for m in rows_to_memories(rows) if m.seq is not None}

    @_exclusive
    def update(self, memory: StoredMemory, changes: dict[str, Any], actor: str | None) -> StoredMemory:
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        now = time.time()
        values = {k: (json.dumps(v) if k in JSON_FIELDS else _blob(v) if k == "embedding" else v)
                  for k, v in changes.items()}
        values["version"] = memory.version + 1
        values["updated_at"] = now
        assignments = ", ".join(f"{k} = ?" for k in values)
        with self._tx() as conn:
            conn.execute(f"UPDATE memories SET {assignments} WHERE seq = ?", [*values.values(), memory.seq])
            if "entities" in changes and memory.seq is not None:  # the trigger dropped the old words
                conn.executemany(NAME_TERMS_SQL, name_term_rows(
                    memory.seq, memory.scope.tenant_id, memory.scope.user_id, memory.scope.agent_id,
                    changes["entities"]))
            text = changes.get("text", memory.text)
            metadata = changes.get("metadata", memory.metadata)
            conn.execute(history_sql("?"), history_row(memory, memory.version + 1, "UPDATE", text, metadata,
                                                        now, actor))
        if "embedding" in changes and self.vectors is not None and memory.seq is not None:
            self.vectors.replace(np.array([memory.seq], np.uint64),
                                 np.asarray(changes["embedding"], np.float32)[None, :])
        self._after_write()
        updated = self.get(memory.scope.tenant_id, memory.id)
        assert updated is not None
        return updated

    @_exclusive
    def delete(self, memory: StoredMemory, actor: str | None) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM memories WHERE seq = ?", (memory.seq,))
            conn.execute(history_sql("?"), history_row(memory, memory.version + 1, "DELETE", memory.text,
                                                        memory.metadata, time.time(), actor))
        if self.vectors is not None and memory.seq is not None:
            self.vectors.remove([memory.seq])
        self._after_write()

    @_exclusive
    def erase(self, scope: Scope) -> int:
        where, params = scope_sql(scope, Filters.everything(), alias="memories")
        with self._tx() as conn:
            found = conn.execute(f"SELECT id, seq FROM memories WHERE {where}", params).fetchall()
            ids, seqs = [r[0] for r in found], [r[1] for r in found]
            conn.execute(f"DELETE FROM memories WHERE {where}", params)
            for start in range(0, len(ids), 900):
                chunk = ids[start : start + 900]
                conn.execute(f"DELETE FROM history WHERE memory_id IN ({','.join('?' * len(chunk))})",
                             chunk)
            conn.execute(*erase_history_sql(scope, "?"))  # of memories deleted earlier too
            conn.execute("DELETE FROM scope_state WHERE tenant_id = ?", (scope.tenant_id,))
            conn.execute(*scope_delete_sql("jobs", scope, "?"))
            # merge FTS segments so the erased terms are gone from the index, not just masked
            conn.execute("INSERT INTO memories_fts(memories_fts) VALUES ('optimize')")
        with self._lock:
            self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            if self.vectors is not None and ids:
                # overwrite, not just tombstone: no erased vector may survive in the index file
                dead = self.vectors.free_slots() + len(seqs)
                if dead > len(self.vectors) - len(seqs):  # more dead than live slots: compact
                    self._bound().catch_up(rebuild=True)
                else:
                    self.vectors.erase(seqs)
                self.vectors.save()
            if self.text is not None and ids:
                catch_up(self.text, self.conn, rebuild=True)  # likewise: no erased text in segments
            self._seen_changes = self._vector_changes()
        self._after_write()
        return len(ids)

    def list_memories(self, scope: Scope, filters: Filters, after_seq: int | None,
                      limit: int, newest_first: bool = False) -> list[StoredMemory]:
        sql, params = list_sql(scope, filters, after_seq, limit, newest_first, SQLITE)
        with self._lock:
            return rows_to_memories(self.conn.execute(sql, params).fetchall())

    def sessions(self, scope: Scope, filters: Filters, limit: int) -> list[tuple[Any, ...]]:
        with self._lock:
            return session_rows(lambda sql, params: self.conn.execute(sql, params).fetchall(),
                                scope, filters, limit, SQLITE)

    def digest(self, scope: Scope, filters: Filters, upto_seq: int | None) -> Digest:
        sql, params = digest_sql(scope, filters, upto_seq, SQLITE)
        with self._lock:
            return Digest(*self.conn.execute(sql, params).fetchone())

    def history_mark(self, scope: Scope) -> int:
        with self._lock:
            return int(self.conn.execute(*history_mark_sql(scope, "?")).fetchone()[0])

    def updated_since(self, scope: Scope, mark: int) -> list[str]:
        with self._lock:
            return [r[0] for r in self.conn.execute(*updated_since_sql(scope, mark, "?"))]

    @contextmanager
    def exclusive(self, scope: Scope, name: str) -> Iterator[None]:
        """Threads of this process and other processes wait on one byte of `<db>.lock` (one
        handle per process: see storage.file_lock)."""
        key = zlib.crc32(f"{name}\x1f{scope.tenant_id}\x1f{state_key(scope)}".encode())
        if self.path is None:
            with self._pass_locks[key % len(self._pass_locks)]:
                yield
            return
        with locked(self.path.with_name(self.path.name + ".lock"), key):
            yield

    def text_vectors(self, seqs: Sequence[int]) -> dict[int, np.ndarray]:
        with self._lock:
            rows = rows_by_seq(self.conn, "SELECT seq, vector FROM text_vectors", seqs)
        return {seq: np.frombuffer(blob, np.float16).astype(np.float32) for seq, blob in rows}

    def save_text_vectors(self, vectors: dict[int, np.ndarray]) -> None:
        with self._tx() as conn:  # not for a memory deleted meanwhile: nothing would drop it
            conn.executemany(
                "INSERT OR REPLACE INTO text_vectors SELECT ?, ? WHERE EXISTS "
                "(SELECT 1 FROM memories WHERE seq = ?)",
                [(seq, np.asarray(v, np.float16).tobytes(), seq) for seq, v in vectors.items()])

    def load_state(self, scope: Scope, name: str) -> str | None:
        with self._lock:
            row = self.conn.execute(
                "SELECT value FROM scope_state WHERE tenant_id = ? AND scope = ? AND name = ?",
                (scope.tenant_id, state_key(scope), name)).fetchone()
        return None if row is None else str(row[0])

    def save_state(self, scope: Scope, name: str, value: str) -> None:
        with self._tx() as conn:
            conn.execute("INSERT OR REPLACE INTO scope_state VALUES (?, ?, ?, ?)",
                         (scope.tenant_id, state_key(scope), name, value))

    def claim_jobs(self, queue: str, limit: int, lease_s: float) -> list[Job]:
        with self._lock:
            if self.conn.execute(jobs.due_sql("?"), (queue, time.time())).fetchone() is None:
                return []
        with self._tx() as conn:  # BEGIN IMMEDIATE: no other process claims the same ones
            return jobs.claim(conn, "?", queue, limit, lease_s)

    def end_job(self, job: Job, error: str | None, max_attempts: int, retry_after: float) -> None:
        with self._tx() as conn:
            jobs.end(conn, "?", job, error, max_attempts, retry_after)

    def job_counts(self, tenant_id: str | None, queue: str, user_id: str | None = None) -> JobCounts:
        with self._lock:
            rows = self.conn.execute(*jobs.counts_sql(tenant_id, queue, user_id, "?")).fetchall()
            errors = self.conn.execute(*jobs.errors_sql(tenant_id, queue, user_id, "?")).fetchall()
        return jobs.job_counts(rows, errors)

    def history(self, tenant_id: str, memory_id: str) -> list[HistoryEntry]:
        return self.histories(tenant_id, [memory_id]).get(memory_id, [])

    def histories(self, tenant_id: str, memory_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        out: dict[str, list[HistoryEntry]] = {}
        with self._lock:
            for start in range(0, len(memory_ids), 500):
                chunk = list(memory_ids[start : start + 500])
                rows = self.conn.execute(
                    f"SELECT {HISTORY_COLUMNS} FROM history WHERE tenant_id = ? AND memory_id IN "
                    f"({','.join('?' * len(chunk))}) ORDER BY id", [tenant_id, *chunk]).fetchall()
                for entry in history_entries(rows):
                    out.setdefault(entry.memory_id, []).append(entry)
        return out

    def out_links(self, seqs: Sequence[int]) -> dict[int, list[Edge]]:
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            for start in range(0, len(seqs), 500):
                chunk = list(seqs[start : start + 500])
                rows += self.conn.execute(
                    f"SELECT src, dst, weight, kind FROM links WHERE src IN ({','.join('?' * len(chunk))})",
                    chunk).fetchall()
        return edges_from(rows)

    def current_facts(self, scope: Scope, keys: Sequence[str],
                      at: float | None = None) -> dict[str, StoredMemory]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return {}
        with self._lock:
            rows = self.conn.execute(*current_facts_sql(scope, unique, SQLITE, at)).fetchall()
        return {m.fact_key: m for m in rows_to_memories(rows) if m.fact_key}

    def history_owner(self, tenant_id: str, memory_id: str) -> str | None:
        with self._lock:
            row = self.conn.execute("SELECT user_id FROM history WHERE memory_id = ? AND tenant_id = ? "
                                    "LIMIT 1", (memory_id, tenant_id)).fetchone()
        return None if row is None else row[0]

    def existing_ids(self, tenant_id: str, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        unique = list(dict.fromkeys(ids))
        with self._lock:
            for start in range(0, len(unique), 500):
                chunk = unique[start : start + 500]
                found.update(r[0] for r in self.conn.execute(
                    f"SELECT id FROM memories WHERE tenant_id = ? AND id IN ({','.join('?' * len(chunk))})",
                    (tenant_id, *chunk)))
        return found

    def existing_hashes(self, scope: Scope, hashes: Sequence[str]) -> dict[str, str]:
        found: dict[str, str] = {}
        unique = list(dict.fromkeys(hashes))
        with self._lock:
            for start in range(0, len(unique), 500):
                found.update((r[0], r[1]) for r in self.conn.execute(
                    *existing_hashes_sql(scope, unique[start : start + 500], SQLITE)))
        return found

    def dense_search(self, scope: Scope, filters: Filters, vector: np.ndarray, k: int) -> list[VectorHit]:
        with self._lock:
            self._sync_vectors()
            return self._bound().search(scope, filters, vector, k)

    def dense_search_many(self, scope: Scope, filters: Filters, vectors: np.ndarray,
                          k: int) -> list[list[VectorHit]]:
        with self._lock:
            self._sync_vectors()
            return self._bound().search_many(scope, filters, vectors, k)

    def text_search(self, scope: Scope, filters: Filters, terms: Sequence[str], k: int,
                    column: str | None) -> list[TextHit]:
        """BM25 top-k. A large store ranks with tantivy, restricted there to the scope (users of
        a shared store each get their own top k), which skips rows that cannot reach the top k
        where FTS5 scores every row holding a term. A small store ranks with FTS5 over all rows
        (a join driven by the scope index would score the whole scope), falling back to FTS5
        joined with the scope when the scope is sparse in the head."""
        if not terms:
            return []
        want = max(2 * k, 64)
        with self._lock:
            # the scope is checked in SQL after either index ranks; when the ranked head holds
            # too few admitted hits, FTS5 joined with the scope answers instead (exact)
            index = self._text_index() if column and can_filter(filters) else None
            if index is not None:
                ranked = index.search(terms, column or "", scope, filters, want)
            elif replace(filters, kinds=()).is_empty():  # kinds live in FTS5 too
                ranked = self.fts.ranked(terms, column, filters.kinds, want)
            else:
                ranked = None
            if ranked is not None:
                allowed = self.matching([seq for seq, _ in ranked], scope, filters)
                hits = [(seq, score) for seq, score in ranked if seq in allowed]
                if len(hits) >= k or len(ranked) < want:
                    return hits[:k]
            where, params = scope_sql(scope, filters)
            return self.fts.ranked_in_scope(terms, column, filters.kinds, where, params, k)

    def matching(self, seqs: Sequence[int], scope: Scope, filters: Filters) -> set[int]:
        with self._lock:
            return admitted(self.conn, seqs, scope, filters)

    def placement(self, seqs: Sequence[int]) -> dict[int, Placement]:
        with self._lock:
            rows = rows_by_seq(self.conn, f"SELECT {PLACEMENT_COLUMNS} FROM memories", seqs)
            return {r[0]: Placement(*r[1:]) for r in rows}

    def neighbors(self, seqs: Sequence[int], radius: int, scope: Scope,
                  filters: Filters) -> dict[int, list[Neighbor]]:
        ids = [int(s) for s in seqs]
        rows: list[tuple[Any, ...]] = []
        for start in range(0, len(ids), 900):  # under SQLite's variable limit
            chunk = ids[start : start + 900]
            # a by primary key, b through the position index: left to itself SQLite carries the
            # scope's user over to a and walks that user's whole index (17 ms at 100k memories)
            sql, params = neighbors_sql(scope, filters, f"a.seq IN ({','.join('?' * len(chunk))})",
                                        SQLITE, hints=("NOT INDEXED", "INDEXED BY ix_memories_position"))
            with self._lock:
                rows += self.conn.execute(sql, [radius, radius, *chunk, *params]).fetchall()
        return neighbors_from(rows)

    def mentions(self, scope: Scope, filters: Filters, names: Sequence[str],
                 per_name: int) -> dict[int, list[str]]:
        where, params = scope_sql(scope, filters)
        owner = name_owner(scope)
        sql = NAME_LOOKUP_SQL.format(where=where)
        out: dict[int, list[str]] = {}
        with self._lock:
            for name in names:
                rows = (self.fts.newest_naming(name, where, params, per_name) if owner is None else
                        self.conn.execute(sql, [scope.tenant_id, owner, name, *params, per_name]).fetchall())
                out.update((seq, json.loads(entities)) for seq, entities in rows)
        return out

    @_exclusive
    def add_links(self, links: Sequence[Link]) -> None:
        with self._tx() as conn:
            conn.executemany("INSERT OR IGNORE INTO links (src, dst, kind, weight) VALUES (?, ?, ?, ?)",
                             link_rows(links))

    def links(self, seqs: Sequence[int]) -> dict[int, list[Edge]]:
        rows: list[tuple[Any, ...]] = []
        with self._lock:
            for start in range(0, len(seqs), 400):
                chunk = list(seqs[start : start + 400])
                marks = ",".join("?" * len(chunk))
                rows += self.conn.execute(
                    f"SELECT src, dst, weight, kind FROM links WHERE src IN ({marks}) UNION ALL "
                    f"SELECT dst, src, weight, kind FROM links WHERE dst IN ({marks})",
                    chunk + chunk).fetchall()
        return edges_from(rows)

    def linked(self, seqs: Sequence[int]) -> set[int]:
        with self._lock:
            return {r[0] for r in rows_by_seq(self.conn, "SELECT m.seq FROM memories m", seqs, HAS_LINK)}

    def touch(self, seqs: Sequence[int], at: float) -> None:
        with self._lock:
            if self._recalls.add(seqs, at):
                with self._tx():
                    pass

    def flush_recalls(self) -> None:
        with self._lock:
            if self._recalls.pending:
                with self._tx():
                    pass  # a write transaction writes the buffered recalls first

    def tidy(self) -> None:
        """Merge FTS5 segments: many small writes leave a dozen, and every query term is looked
        up in each (one freshly imported LoCoMo conversation: 12 segments; merged, search
        ~0.3 ms cheaper). Negative N merges across levels, at most N pages of work."""
        with self._tx() as conn:
            conn.execute("INSERT INTO memories_fts(memories_fts, rank) VALUES('merge', -1000)")
            self._trim_text_log(conn)

    def _flush_touches(self) -> None:
        if self._recalls.pending:
            self.conn.executemany(touch_sql("?"), self._recalls.drain())

    def stats(self, scope: Scope, all_tenants: bool = True) -> dict[str, Any]:
        with self._lock:
            counts = scope_stats(lambda sql, params: self.conn.execute(sql, params).fetchall(), scope, SQLITE,
                                 all_tenants)
        size = 0
        if self.path is not None:
            size = sum(p.stat().st_size for p in self.path.parent.glob(self.path.name + "*") if p.is_file())
        return {**counts, "db_bytes": size, "embedder": self.embedder_name}

    def owners(self, scope: Scope) -> list[tuple[Any, ...]]:
        with self._lock:
            return owner_rows(lambda sql, params: self.conn.execute(sql, params).fetchall(), scope, SQLITE)

    def ids_with_prefix(self, tenant_id: str, prefix: str) -> list[str]:
        with self._lock:
            return ids_with_prefix(lambda sql, params: self.conn.execute(sql, params).fetchall(),
                                   tenant_id, prefix, SQLITE)

    def close(self) -> None:
        with self._lock:
            if self._recalls.pending:
                with self._tx():
                    pass
            if self.vectors is not None and self.vectors.dirty:
                self.vectors.save()
            if self.text is not None:
                with self._tx() as conn:
                    self._trim_text_log(conn)
                self.text.close()
                self.text = None
            self.conn.close()
