"""PostgreSQL backend: rows, tsvector full text (GIN) and pgvector HNSW in one database.

Everything is transactional in PostgreSQL itself, so there is no side index to reconcile.
Timestamps stay epoch seconds (double precision) so both backends share one row mapping.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import psycopg

from memgrid.errors import StorageError
from memgrid.models import HistoryEntry, Scope, StoredMemory
from memgrid.storage import jobs
from memgrid.storage.base import Closing, Digest, Edge, Link, Neighbor, Placement, Plan, TextHit, VectorHit
from memgrid.storage.jobs import Job, JobCounts
from memgrid.storage.postgres_pool import open_pool
from memgrid.storage.postgres_schema import EMBEDDING_STORAGE_SQL, migrate
from memgrid.storage.postgres_text import TermStats, ranked_match_sql
from memgrid.storage.sql import (
    COLUMNS,
    HAS_LINK,
    HISTORY_COLUMNS,
    INSERT_COLUMNS,
    JSON_FIELDS,
    PLACEMENT_COLUMNS,
    POSTGRES,
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
    write_lock_key,
)
from memgrid.storage.vectors import exact_top_k
from memgrid.validation import Filters

NAME_TERMS_SQL = ("INSERT INTO name_terms (tenant_id, owner, term, seq) VALUES (%s, %s, %s, %s) "
                  "ON CONFLICT DO NOTHING")
# each name's newest k in one owner's memories, every name in one round trip
NAME_LOOKUP_SQL = ("SELECT x.seq, x.entities FROM unnest(%s::text[]) AS t(term) CROSS JOIN LATERAL ("
                   "SELECT m.seq, m.entities FROM name_terms n JOIN memories m ON m.seq = n.seq "
                   "WHERE n.tenant_id = %s AND n.owner = %s AND n.term = t.term AND {where} "
                   "ORDER BY n.seq DESC LIMIT %s) x")


def row_seq(m: StoredMemory) -> int:
    assert m.seq is not None, "set by the INSERT ... RETURNING seq above"
    return m.seq


# a batch's exact pass: up to 200 rows a query (a filtered HNSW probe cost ~9 ms in a thin scope,
# a row read ~10 us, so ~900 rows; a dense scope's probe is far cheaper, hence the margin), and
# at most 20k rows (~30 MB of 384-d vectors in one result row)
EXACT_ROWS_PER_QUERY, EXACT_ROWS_MAX = 200, 20_000

# PostgreSQL plans from table statistics that autovacuum gathers a minute or more after a table
# changes, so a store filling faster than that is planned as if empty: at 5k memories a name
# lookup scanned the user's memories per name word (357 ms a batch) instead of one primary-key
# probe each (0.4 ms once analysed). The store refreshes them itself at 500 rows and at each
# doubling, until the table is big enough for autovacuum's thresholds to keep up.
ANALYZE_FIRST, ANALYZE_UNTIL = 500, 200_000


def next_analyze(rows: int) -> int | None:
    """The row count at which to refresh planner statistics next (None: autovacuum's job)."""
    return None if rows >= ANALYZE_UNTIL else max(ANALYZE_FIRST, 2 * rows)


# every pooled connection: a wide HNSW beam, and filtered ANN that keeps scanning until it has k
SESSION_SETTINGS = ("SET hnsw.ef_search = 200", "SET hnsw.iterative_scan = relaxed_order")


class PostgresStore:
    """Same contract as SQLiteStore. Safe to share between threads: each call borrows a pooled
    connection, so one process's requests reach PostgreSQL in parallel (up to `pool_size`)."""

    def __init__(self, url: str, pool_size: int = 8) -> None:
        self._recalls = RecallBuffer()
        self._term_stats = {"text": TermStats("m.tsv", "english"),
                            "entities": TermStats("m.entity_tsv", "simple")}
        self.dims = 0
        self.embedder_name = ""
        self.pool = open_pool(url, pool_size, SESSION_SETTINGS, setup=migrate, vectors=True)
        self._growth = threading.Lock()
        estimate = self._q("SELECT reltuples FROM pg_class WHERE oid = 'memories'::regclass")[0][0]
        self._rows = max(0, int(estimate))  # -1: never analysed
        self._next_analyze = next_analyze(self._rows)

    @contextmanager
    def _tx(self) -> Iterator[Any]:
        conn = None
        try:
            with self.pool.connection() as conn, conn.transaction():
                self._flush_touches(conn)
                yield conn
        except psycopg.OperationalError as exc:
            if conn is None or not conn.broken:
                raise
            self.pool.check()  # the others may have died with it (a restart, a failover)
            raise StorageError(
                f"the connection to PostgreSQL was lost during a write, so it was rolled back "
                f"(unless the commit itself was cut off); retry it: an add already stored is "
                f"skipped as a duplicate ({exc})") from exc

    def _q(self, sql: str, params: Sequence[Any] = (), binary: bool = False) -> list[tuple[Any, ...]]:
        """A read; retried once on a fresh connection when the borrowed one was dead (the server
        restarted or failed over since it was opened): a read has no effect to repeat. `binary`
        fetches results in PostgreSQL's binary forms (bytea as bytes, no hex to decode)."""
        lost: psycopg.OperationalError | None = None
        for _ in range(2):
            conn = None
            try:
                with self.pool.connection() as conn:
                    return list(conn.execute(sql, params, binary=binary).fetchall())
            except psycopg.OperationalError as exc:
                if conn is None or not conn.broken:
                    raise
                lost = exc
                self.pool.check()  # the others may have died with it
        raise StorageError(f"lost the connection to PostgreSQL twice in a row: {lost}") from lost

    def _grew(self, added: int) -> None:
        """Count rows this process added; refresh planner statistics when one is due."""
        with self._growth:
            self._rows += added
            due = self._next_analyze is not None and self._rows >= self._next_analyze
            if due:
                self._next_analyze = next_analyze(self._rows)
        if due:
            self._run("ANALYZE memories, name_terms")

    def _run(self, sql: str) -> None:
        """A statement with no result that cannot run in a transaction (VACUUM, ANALYZE)."""
        with self.pool.connection() as conn:
            conn.execute(sql)

    # -- Store interface --------------------------------------------------------------------

    def bind_embedder(self, name: str, dims: int) -> None:
        with self._tx() as conn:  # under the migration lock: servers starting together agree
            conn.execute("SELECT pg_advisory_xact_lock(hashtext('memgrid-migrate'))")
            column = conn.execute(
                "SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                "WHERE attrelid = 'memories'::regclass AND attname = 'embedding' AND NOT attisdropped"
            ).fetchall()
            row = conn.execute("SELECT value FROM memgrid_meta WHERE key = 'embedder'").fetchall()
            if row and column and conn.execute(
                    "SELECT 1 FROM memories WHERE embedding IS NOT NULL LIMIT 1").fetchall():
                bound = json.loads(row[0][0])
                if bound != {"name": name, "dims": dims}:
                    raise StorageError(
                        f"this database was built with embedder {bound['name']} ({bound['dims']} dims), "
                        f"not {name} ({dims} dims); open it with the same embedder")
            if not column or column[0][0] != f"vector({dims})":
                conn.execute("DROP INDEX IF EXISTS ix_memories_embedding")
                conn.execute("ALTER TABLE memories DROP COLUMN IF EXISTS embedding")
                conn.execute(f"ALTER TABLE memories ADD COLUMN embedding vector({int(dims)})")
                conn.execute(EMBEDDING_STORAGE_SQL)
                conn.execute("CREATE INDEX ix_memories_embedding ON memories USING hnsw "
                             "(embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64)")
            conn.execute(
                "INSERT INTO memgrid_meta VALUES ('embedder', %s) "
                "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
                (json.dumps({"name": name, "dims": dims}),))
            self.dims, self.embedder_name = dims, name

    def insert(self, memories: Sequence[StoredMemory], actor: str | None,
               plan: Plan | None = None, links: Sequence[Link] = (),
               keep_positions: bool = False,
               history: dict[str, list[HistoryEntry]] | None = None,
               queue: str | None = None) -> list[StoredMemory]:
        if not memories:
            return []
        placeholders = ", ".join(["%s"] * INSERT_COLUMNS.count(",")) + ", %b"
        with self._tx() as conn:
            closes: list[Closing] = []
            if plan is not None:
                # writes to one owner queue here, so what the plan reads stays true until commit
                for key in sorted({write_lock_key(m.scope) for m in memories}):
                    conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))
                memories, closes = plan(_TxReader(conn))
                if not memories:
                    return []
            if not keep_positions:
                place_in_sessions(lambda sql, params: conn.execute(sql, params).fetchall(), memories,
                                POSTGRES)
            for sql, params in closing_statements(closes, actor, time.time(), "%s"):
                conn.execute(sql, params)
            for m in memories:
                row = conn.execute(
                    f"INSERT INTO memories ({INSERT_COLUMNS}) VALUES ({placeholders}) RETURNING seq",
                    insert_values(m, m.embedding)).fetchone()
                m.seq = row[0]
            with conn.cursor() as cur:
                cur.executemany(NAME_TERMS_SQL, [r for m in memories for r in name_term_rows(
                    row_seq(m), m.scope.tenant_id, m.scope.user_id, m.scope.agent_id, m.entities)])
                cur.executemany(history_sql("%s"), history_rows(memories, actor, history))
                cur.executemany("INSERT INTO links (src, dst, kind, weight) VALUES (%s, %s, %s, %s) "
                                "ON CONFLICT DO NOTHING", link_rows(links))
            if queue is not None:
                conn.execute(jobs.enqueue_sql("%s"), jobs.enqueue_params(queue, memories, actor, time.time()))
        self._grew(len(memories))
        return list(memories)

    def get(self, tenant_id: str, memory_id: str) -> StoredMemory | None:
        rows = self._q(f"SELECT {COLUMNS} FROM memories WHERE id = %s AND tenant_id = %s",
                       (memory_id, tenant_id))
        return row_to_memory(rows[0]) if rows else None

    def get_by_seq(self, seqs: Sequence[int]) -> dict[int, StoredMemory]:
        if not seqs:
            return {}
        rows = self._q(f"SELECT {COLUMNS} FROM memories WHERE seq = ANY(%s)", (list(seqs),))
        return {m.seq: m for m in rows_to_memories(rows) if m.seq is not None}

    def update(self, memory: StoredMemory, changes: dict[str, Any], actor: str | None) -> StoredMemory:
        unknown = set(changes) - UPDATABLE
        if unknown:
            raise ValueError(f"not updatable: {sorted(unknown)}")
        now = time.time()
        values = {k: (json.dumps(v) if k in JSON_FIELDS else v)
                  for k, v in changes.items()}
        values["version"] = memory.version + 1
        values["updated_at"] = now
        assignments = ", ".join(f"{k} = %b" if k == "embedding" else f"{k} = %s" for k in values)
        with self._tx() as conn:
            conn.execute(f"UPDATE memories SET {assignments} WHERE seq = %s", [*values.values(), memory.seq])
            if "text" in changes:  # its saved text vector no longer says what it says
                conn.execute("DELETE FROM text_vectors WHERE seq = %s", (memory.seq,))
            if "entities" in changes and memory.seq is not None:
                conn.execute("DELETE FROM name_terms WHERE seq = %s", (memory.seq,))
                with conn.cursor() as cur:
                    cur.executemany(NAME_TERMS_SQL, name_term_rows(
                        memory.seq, memory.scope.tenant_id, memory.scope.user_id, memory.scope.agent_id,
                        changes["entities"]))
            conn.execute(history_sql("%s"), history_row(
                memory, memory.version + 1, "UPDATE", changes.get("text", memory.text),
                changes.get("metadata", memory.metadata), now, actor))
        updated = self.get(memory.scope.tenant_id, memory.id)
        assert updated is not None
        return updated

    def delete(self, memory: StoredMemory, actor: str | None) -> None:
        with self._tx() as conn:
            conn.execute("DELETE FROM memories WHERE seq = %s", (memory.seq,))
            conn.execute(history_sql("%s"), history_row(memory, memory.version + 1, "DELETE", memory.text,
                                                         memory.metadata, time.time(), actor))

    def erase(self, scope: Scope) -> int:
        where, params = scope_sql(scope, Filters.everything(), alias="memories", dialect=POSTGRES)
        with self._tx() as conn:
            ids = [r[0] for r in conn.execute(f"DELETE FROM memories WHERE {where} RETURNING id", params)]
            conn.execute("DELETE FROM history WHERE memory_id = ANY(%s)", (ids,))
            conn.execute("DELETE FROM scope_state WHERE tenant_id = %s", (scope.tenant_id,))
            conn.execute(*erase_history_sql(scope, "%s"))  # of memories deleted earlier too
            conn.execute(*scope_delete_sql("jobs", scope, "%s"))
        self._run("VACUUM memories, history")  # dead tuples go, index entries with them
        return len(ids)

    def list_memories(self, scope: Scope, filters: Filters, after_seq: int | None,
                      limit: int, newest_first: bool = False) -> list[StoredMemory]:
        return rows_to_memories(self._q(*list_sql(scope, filters, after_seq, limit, newest_first, POSTGRES)))

    def sessions(self, scope: Scope, filters: Filters, limit: int) -> list[tuple[Any, ...]]:
        return session_rows(self._q, scope, filters, limit, POSTGRES)

    def digest(self, scope: Scope, filters: Filters, upto_seq: int | None) -> Digest:
        sql, params = digest_sql(scope, filters, upto_seq, POSTGRES)
        return Digest(*(int(v) for v in self._q(sql, params)[0]))

    def history_mark(self, scope: Scope) -> int:
        return int(self._q(*history_mark_sql(scope, "%s"))[0][0])

    def updated_since(self, scope: Scope, mark: int) -> list[str]:
        return [r[0] for r in self._q(*updated_since_sql(scope, mark, "%s"))]

    @contextmanager
    def exclusive(self, scope: Scope, name: str) -> Iterator[None]:
        """A session advisory lock on a connection held for the pass (the server frees it if
        the connection dies)."""
        key = f"memgrid-{name}/{scope.tenant_id}/{state_key(scope)}"
        with self.pool.connection() as conn:
            conn.execute("SELECT pg_advisory_lock(hashtext(%s))", (key,))
            try:
                yield
            finally:
                conn.execute("SELECT pg_advisory_unlock(hashtext(%s))", (key,))

    def text_vectors(self, seqs: Sequence[int]) -> dict[int, np.ndarray]:
        if not seqs:
            return {}
        rows = self._q("SELECT seq, vector FROM text_vectors WHERE seq = ANY(%s)", (list(seqs),), binary=True)
        return {seq: np.frombuffer(blob, np.float16).astype(np.float32) for seq, blob in rows}

    def save_text_vectors(self, vectors: dict[int, np.ndarray]) -> None:
        # the foreign key's row lock holds off a delete of the memory until this commits
        with self._tx() as conn, conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO text_vectors SELECT %s, %s WHERE EXISTS (SELECT 1 FROM memories "
                "WHERE seq = %s) ON CONFLICT (seq) DO UPDATE SET vector = EXCLUDED.vector",
                [(seq, np.asarray(v, np.float16).tobytes(), seq) for seq, v in vectors.items()])

    def load_state(self, scope: Scope, name: str) -> str | None:
        rows = self._q("SELECT value FROM scope_state WHERE tenant_id = %s AND scope = %s AND name = %s",
                       (scope.tenant_id, state_key(scope), name))
        return str(rows[0][0]) if rows else None

    def save_state(self, scope: Scope, name: str, value: str) -> None:
        with self._tx() as conn:
            conn.execute("INSERT INTO scope_state VALUES (%s, %s, %s, %s) ON CONFLICT "
                         "(tenant_id, scope, name) DO UPDATE SET value = EXCLUDED.value",
                         (scope.tenant_id, state_key(scope), name, value))

    def claim_jobs(self, queue: str, limit: int, lease_s: float) -> list[Job]:
        if not self._q(jobs.due_sql("%s"), (queue, time.time())):
            return []
        with self._tx() as conn:  # SKIP LOCKED: workers on other servers take other jobs
            return jobs.claim(conn, "%s", queue, limit, lease_s, lock=" FOR UPDATE SKIP LOCKED")

    def end_job(self, job: Job, error: str | None, max_attempts: int, retry_after: float) -> None:
        with self._tx() as conn:
            jobs.end(conn, "%s", job, error, max_attempts, retry_after)

    def job_counts(self, tenant_id: str | None, queue: str, user_id: str | None = None) -> JobCounts:
        return jobs.job_counts(self._q(*jobs.counts_sql(tenant_id, queue, user_id, "%s")),
                          self._q(*jobs.errors_sql(tenant_id, queue, user_id, "%s")))

    def history(self, tenant_id: str, memory_id: str) -> list[HistoryEntry]:
        return self.histories(tenant_id, [memory_id]).get(memory_id, [])

    def histories(self, tenant_id: str, memory_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        out: dict[str, list[HistoryEntry]] = {}
        if not memory_ids:
            return out
        rows = self._q(f"SELECT {HISTORY_COLUMNS} FROM history WHERE tenant_id = %s AND "
                       f"memory_id = ANY(%s) ORDER BY id", (tenant_id, list(memory_ids)))
        for entry in history_entries(rows):
            out.setdefault(entry.memory_id, []).append(entry)
        return out

    def out_links(self, seqs: Sequence[int]) -> dict[int, list[Edge]]:
        if not seqs:
            return {}
        return edges_from(self._q("SELECT src, dst, weight, kind FROM links WHERE src = ANY(%s)",
                                  (list(seqs),)))

    def current_facts(self, scope: Scope, keys: Sequence[str],
                      at: float | None = None) -> dict[str, StoredMemory]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return {}
        rows = self._q(*current_facts_sql(scope, unique, POSTGRES, at))
        return {m.fact_key: m for m in rows_to_memories(rows) if m.fact_key}

    def history_owner(self, tenant_id: str, memory_id: str) -> str | None:
        rows = self._q("SELECT user_id FROM history WHERE memory_id = %s AND tenant_id = %s LIMIT 1",
                       (memory_id, tenant_id))
        return rows[0][0] if rows else None

    def existing_hashes(self, scope: Scope, hashes: Sequence[str]) -> dict[str, str]:
        unique = list(dict.fromkeys(hashes))
        return {r[0]: r[1] for r in self._q(*existing_hashes_sql(scope, unique, POSTGRES))} if unique else {}

    def dense_search_many(self, scope: Scope, filters: Filters, vectors: np.ndarray,
                          k: int) -> list[list[VectorHit]]:
        """A batch (linking new memories) against a scope of up to EXACT_ROWS_PER_QUERY rows a
        query is scored exactly here, its vectors read once; a larger scope goes to HNSW query
        by query. The filtered HNSW scan of a user's 1.8k memories in a 182k store read ~9k
        buffers a query (10-16 ms, 500-800 ms a batch of 50), reading those rows ~10-20 ms."""
        where, params = scope_sql(scope, filters, dialect=POSTGRES)
        cap = min(EXACT_ROWS_PER_QUERY * len(vectors), EXACT_ROWS_MAX)
        held = self._q(f"SELECT count(*) FROM (SELECT 1 FROM memories m WHERE {where} "
                       "AND m.embedding IS NOT NULL LIMIT %s) t", [*params, cap + 1])[0][0]
        if held > cap:
            return [self.dense_search(scope, filters, v, k) for v in vectors]
        # one row: the keys and every vector in pgvector's binary form, end to end
        keys, blob = self._q(
            "SELECT coalesce(array_agg(m.seq), '{}'), coalesce(string_agg(vector_send(m.embedding), "
            f"''::bytea), ''::bytea) FROM memories m WHERE {where} AND m.embedding IS NOT NULL",
            params, binary=True)[0]
        if not keys:
            return [[] for _ in vectors]
        rows = np.frombuffer(blob, ">f4").reshape(len(keys), -1)[:, 1:].astype(np.float32)  # 4-byte header
        return exact_top_k(np.asarray(keys, np.int64), rows, np.asarray(vectors, np.float32), k)

    def dense_search(self, scope: Scope, filters: Filters, vector: np.ndarray, k: int) -> list[VectorHit]:
        where, params = scope_sql(scope, filters, dialect=POSTGRES)
        v = np.asarray(vector, np.float32)
        rows = self._q(
            f"SELECT m.seq, 1 - (m.embedding <=> %b) AS s FROM memories m "
            f"WHERE {where} AND m.embedding IS NOT NULL ORDER BY m.embedding <=> %b LIMIT %s",
            [v, *params, v, k])
        return sorted(((int(r[0]), float(r[1])) for r in rows), key=lambda h: -h[1])

    def text_search(self, scope: Scope, filters: Filters, terms: Sequence[str], k: int,
                    column: str | None) -> list[TextHit]:
        words = list(dict.fromkeys(t for t in terms if t.isalnum()))  # safe inside a tsquery
        if not words:
            return []
        stats = self._term_stats["entities" if column == "entities" else "text"]
        weights = stats.weights(self._q, words)
        if not weights:
            return []
        score, match, match_params = ranked_match_sql(stats, weights)
        where, params = scope_sql(scope, filters, dialect=POSTGRES)
        rows = self._q(f"SELECT m.seq, {score} AS s FROM memories m WHERE {match} AND {where} "
                       f"ORDER BY s DESC LIMIT %s", [*match_params, *params, k])
        return [(int(r[0]), float(r[1])) for r in rows]

    def matching(self, seqs: Sequence[int], scope: Scope, filters: Filters) -> set[int]:
        if not seqs:
            return set()
        where, params = scope_sql(scope, filters, dialect=POSTGRES)
        rows = self._q(f"SELECT m.seq FROM memories m WHERE m.seq = ANY(%s) AND {where}",
                       [list(seqs), *params])
        return {r[0] for r in rows}

    def placement(self, seqs: Sequence[int]) -> dict[int, Placement]:
        if not seqs:
            return {}
        rows = self._q(f"SELECT {PLACEMENT_COLUMNS} FROM memories WHERE seq = ANY(%s)", (list(seqs),))
        return {r[0]: Placement(*r[1:]) for r in rows}

    def neighbors(self, seqs: Sequence[int], radius: int, scope: Scope,
                  filters: Filters) -> dict[int, list[Neighbor]]:
        if not seqs:
            return {}
        sql, params = neighbors_sql(scope, filters, "a.seq = ANY(%s)", POSTGRES)
        return neighbors_from(self._q(sql, [radius, radius, list(seqs), *params]))

    def mentions(self, scope: Scope, filters: Filters, names: Sequence[str],
                 per_name: int) -> dict[int, list[str]]:
        where, params = scope_sql(scope, filters, dialect=POSTGRES)
        out: dict[int, list[str]] = {}
        owner = name_owner(scope)
        if owner is not None:  # each name one index range, newest first
            rows = self._q(NAME_LOOKUP_SQL.format(where=where),
                           [list(names), scope.tenant_id, owner, *params, per_name])
            return {r[0]: list(r[1]) for r in rows}
        for name in names:
            if not name.isalnum():
                continue
            rows = self._q(
                f"SELECT m.seq, m.entities FROM memories m WHERE m.entity_tsv @@ to_tsquery('simple', %s) "
                f"AND {where} ORDER BY m.seq DESC LIMIT %s", [name, *params, per_name])
            out.update((r[0], list(r[1])) for r in rows)
        return out

    def add_links(self, links: Sequence[Link]) -> None:
        with self._tx() as conn, conn.cursor() as cur:
            cur.executemany("INSERT INTO links (src, dst, kind, weight) VALUES (%s, %s, %s, %s) "
                            "ON CONFLICT DO NOTHING", link_rows(links))

    def links(self, seqs: Sequence[int]) -> dict[int, list[Edge]]:
        if not seqs:
            return {}
        return edges_from(self._q(
            "SELECT src, dst, weight, kind FROM links WHERE src = ANY(%s) UNION ALL "
            "SELECT dst, src, weight, kind FROM links WHERE dst = ANY(%s)", (list(seqs), list(seqs))))

    def linked(self, seqs: Sequence[int]) -> set[int]:
        if not seqs:
            return set()
        return {r[0] for r in self._q(f"SELECT m.seq FROM memories m WHERE m.seq = ANY(%s) AND {HAS_LINK}",
                                      (list(seqs),))}

    def touch(self, seqs: Sequence[int], at: float) -> None:
        if self._recalls.add(seqs, at):
            with self.pool.connection() as conn:
                self._flush_touches(conn)

    def flush_recalls(self) -> None:
        with self.pool.connection() as conn:
            self._flush_touches(conn)

    def tidy(self) -> None:
        """Refresh planner statistics: after a bulk import they still describe an empty table."""
        self._run("ANALYZE memories")

    def _flush_touches(self, conn: Any) -> None:
        """Recall counts, rows locked in seq order (in a transaction of their own, or a savepoint
        at the start of a write's): two processes flushing overlapping recalls in any other
        order deadlocked (seen under `bench load --workers 2`). A flush that still loses a lock
        conflict is rolled back to its savepoint and goes back in the buffer."""
        rows = sorted(self._recalls.drain(), key=lambda row: row[1])
        if not rows:
            return
        try:
            with conn.transaction(), conn.cursor() as cur:
                cur.executemany(touch_sql("%s"), rows)
        except psycopg.errors.DeadlockDetected:
            self._recalls.restore(rows)

    def stats(self, scope: Scope, all_tenants: bool = True) -> dict[str, Any]:
        counts = scope_stats(self._q, scope, POSTGRES, all_tenants)
        size = self._q("SELECT pg_total_relation_size('memories') + pg_total_relation_size('history')")[0][0]
        return {**counts, "db_bytes": int(size), "embedder": self.embedder_name}

    def owners(self, scope: Scope) -> list[tuple[Any, ...]]:
        return owner_rows(self._q, scope, POSTGRES)

    def ids_with_prefix(self, tenant_id: str, prefix: str) -> list[str]:
        return ids_with_prefix(self._q, tenant_id, prefix, POSTGRES)

    def close(self) -> None:
        if self.pool.closed:
            return
        with self.pool.connection() as conn:
            self._flush_touches(conn)
        self.pool.close()


class _TxReader:
    """Store reads on an insert's own connection, inside its transaction."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def existing_ids(self, tenant_id: str, ids: Sequence[str]) -> set[str]:
        return {r[0] for r in self.conn.execute(
            "SELECT id FROM memories WHERE tenant_id = %s AND id = ANY(%s)", (tenant_id, list(ids)))}

    def existing_hashes(self, scope: Scope, hashes: Sequence[str]) -> dict[str, str]:
        unique = list(dict.fromkeys(hashes))
        if not unique:
            return {}
        return {r[0]: r[1] for r in self.conn.execute(*existing_hashes_sql(scope, unique, POSTGRES))}

    def current_facts(self, scope: Scope, keys: Sequence[str]) -> dict[str, StoredMemory]:
        unique = list(dict.fromkeys(keys))
        if not unique:
            return {}
        rows = self.conn.execute(*current_facts_sql(scope, unique, POSTGRES)).fetchall()
        return {m.fact_key: m for m in rows_to_memories(rows) if m.fact_key}
