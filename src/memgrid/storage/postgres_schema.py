"""PostgreSQL schema and migrations; the version lives in memgrid_meta. The embedding column is
added by bind_embedder, since its dimension comes from the embedder."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from memgrid.errors import StorageError
from memgrid.storage.sql import name_term_rows

_V1 = """
CREATE EXTENSION IF NOT EXISTS vector;
CREATE TABLE memories (
    seq BIGSERIAL PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, session_id TEXT,
    visibility TEXT NOT NULL, kind TEXT NOT NULL, role TEXT, speaker TEXT,
    text TEXT NOT NULL,
    index_text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL, updated_at DOUBLE PRECISION NOT NULL,
    event_time DOUBLE PRECISION, valid_from DOUBLE PRECISION, valid_to DOUBLE PRECISION,
    version INTEGER NOT NULL DEFAULT 1,
    supersedes TEXT, superseded_by TEXT,
    importance DOUBLE PRECISION NOT NULL DEFAULT 0.5,
    access_count INTEGER NOT NULL DEFAULT 0,
    last_accessed_at DOUBLE PRECISION,
    provenance JSONB NOT NULL, metadata JSONB NOT NULL,
    keywords JSONB NOT NULL, entities JSONB NOT NULL,
    position INTEGER,
    tsv tsvector GENERATED ALWAYS AS (to_tsvector('english', index_text)) STORED,
    entity_tsv tsvector GENERATED ALWAYS AS (to_tsvector('simple', entities::text)) STORED
);
CREATE INDEX ix_memories_scope ON memories (tenant_id, user_id, session_id, seq);
CREATE INDEX ix_memories_hash ON memories (tenant_id, user_id, content_hash);
CREATE INDEX ix_memories_event ON memories (tenant_id, user_id, event_time);
CREATE INDEX ix_memories_position ON memories (tenant_id, user_id, session_id, position);
CREATE INDEX ix_memories_tsv ON memories USING gin (tsv);
CREATE INDEX ix_memories_entity_tsv ON memories USING gin (entity_tsv);
CREATE TABLE history (
    id BIGSERIAL PRIMARY KEY,
    memory_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL, user_id TEXT,
    version INTEGER NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
    text TEXT NOT NULL, metadata JSONB NOT NULL,
    at DOUBLE PRECISION NOT NULL, actor TEXT
);
CREATE INDEX ix_history_memory ON history (memory_id, id);
CREATE INDEX ix_history_scope ON history (tenant_id, user_id);
"""

_V2 = """
ALTER TABLE memories ADD COLUMN fact_key TEXT;
ALTER TABLE memories ADD COLUMN fact_value TEXT;
ALTER TABLE memories ADD COLUMN mentioned_from DOUBLE PRECISION;
ALTER TABLE memories ADD COLUMN mentioned_to DOUBLE PRECISION;
ALTER TABLE memories ADD COLUMN archived BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX ix_memories_fact ON memories (tenant_id, user_id, fact_key) WHERE fact_key IS NOT NULL;
CREATE INDEX ix_memories_mentioned ON memories (tenant_id, user_id, mentioned_from);
"""

# links between memories, made on write (see the SQLite schema v5); they go with either end
_V3 = """
CREATE TABLE links (
    src BIGINT NOT NULL REFERENCES memories (seq) ON DELETE CASCADE,
    dst BIGINT NOT NULL REFERENCES memories (seq) ON DELETE CASCADE,
    kind TEXT NOT NULL, weight DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (src, dst, kind)
);
CREATE INDEX ix_links_dst ON links (dst);
"""

# adjacent turns are found by session: IS NOT DISTINCT FROM on user_id cannot use
# ix_memories_position, and the neighbour join fell back to scanning the whole table
_V4 = """
CREATE INDEX ix_memories_session_position ON memories (session_id, position) WHERE session_id IS NOT NULL;
"""

# the words of each memory's entity names under its owner (see the SQLite schema v10): linking
# looks a name up in one user's memories; the GIN index on entity_tsv returned every user's
# mentions of it to be filtered by scope (a batch's lookups grew 8 -> 29 ms from 10k to 40k
# memories over 100 users). Written by the store, backfilled here; deletes cascade.
_V5 = """
CREATE TABLE name_terms (
    tenant_id TEXT NOT NULL, owner TEXT NOT NULL, term TEXT NOT NULL,
    seq BIGINT NOT NULL REFERENCES memories (seq) ON DELETE CASCADE,
    PRIMARY KEY (tenant_id, owner, term, seq)
);
CREATE INDEX ix_name_terms_seq ON name_terms (seq);
"""


def _backfill_name_terms(conn: Any) -> None:
    with conn.cursor(name="memgrid_backfill") as rows, conn.cursor() as out:
        rows.execute("SELECT seq, tenant_id, user_id, agent_id, entities FROM memories "
                     "WHERE entities <> '[]'::jsonb")
        while batch := rows.fetchmany(10_000):
            out.executemany("INSERT INTO name_terms VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                            [r for seq, tenant, user, agent, names in batch
                             for r in name_term_rows(seq, tenant, user, agent, names)])
        out.execute("ANALYZE name_terms")  # its lookups are planned from these statistics


# Vectors stay in the row (MAIN storage; pgvector's default, EXTERNAL, moves them out first).
# A memory row is ~2 KB with its text, tsvectors and a 256-d vector, over TOAST's threshold,
# so about half the vectors lived in the TOAST table: reading a user's 1.8k vectors for a
# batch's exact pass took 31 ms, 18 ms with them inline (182k-memory store, rewritten each way).
# MAIN still moves a vector out as a last resort: a 1536-d vector beside 12 KB of text fits (tested).
EMBEDDING_STORAGE_SQL = "ALTER TABLE memories ALTER COLUMN embedding SET STORAGE MAIN"
_V6 = f"""
DO $$ BEGIN
    IF EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'memories'::regclass
               AND attname = 'embedding' AND NOT attisdropped) THEN
        {EMBEDDING_STORAGE_SQL};
    END IF;
END $$;
"""

# v7: what a lifecycle pass keeps per scope between runs and the vectors of memories' own text
# (see the SQLite schema's v11; a text update drops its vector in PostgresStore.update), and a
# user's history in id order (SQLite's scope index holds the rowid already): what was updated
# since a run is one index range
_V7 = """
CREATE TABLE IF NOT EXISTS scope_state (
    tenant_id TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (tenant_id, scope, name)
);
CREATE INDEX IF NOT EXISTS ix_history_scope_id ON history (tenant_id, user_id, id);
CREATE TABLE IF NOT EXISTS text_vectors (
    seq BIGINT PRIMARY KEY REFERENCES memories (seq) ON DELETE CASCADE, vector BYTEA NOT NULL
);
"""

# v8: a user's, and an agent's, memories in seq order, so a page of a listing is one index
# range (SQLite's v12)
_V8 = """
CREATE INDEX IF NOT EXISTS ix_memories_user_seq ON memories (tenant_id, user_id, seq);
CREATE INDEX IF NOT EXISTS ix_memories_agent_seq ON memories (tenant_id, agent_id, seq)
    WHERE agent_id IS NOT NULL;
"""

# v9: history entries keep their memory's agent and session (SQLite's v13)
_V9 = """
ALTER TABLE history ADD COLUMN IF NOT EXISTS agent_id TEXT;
ALTER TABLE history ADD COLUMN IF NOT EXISTS session_id TEXT;
UPDATE history h SET agent_id = m.agent_id, session_id = m.session_id FROM memories m
    WHERE m.id = h.memory_id;
CREATE INDEX IF NOT EXISTS ix_history_agent ON history (tenant_id, agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_history_session ON history (tenant_id, user_id, session_id)
    WHERE session_id IS NOT NULL;
"""

# v10: the durable work queue (SQLite's v14)
_V10 = """
CREATE TABLE IF NOT EXISTS jobs (
    id BIGSERIAL PRIMARY KEY, queue TEXT NOT NULL, tenant_id TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, session_id TEXT, memory_ids TEXT NOT NULL, actor TEXT,
    state TEXT NOT NULL, attempts INTEGER NOT NULL, lease_until DOUBLE PRECISION,
    created_at DOUBLE PRECISION NOT NULL, done_at DOUBLE PRECISION, error TEXT
);
CREATE INDEX IF NOT EXISTS ix_jobs_open ON jobs (queue, id) WHERE state IN ('pending', 'running');
CREATE INDEX IF NOT EXISTS ix_jobs_scope ON jobs (tenant_id, queue, user_id, state);
"""

MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10]
# Rows a step's SQL cannot compute, written in the same transaction (keyed by the version made).
BACKFILLS: dict[int, Callable[[Any], None]] = {5: _backfill_name_terms}
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: Any) -> None:
    """Bring the database to SCHEMA_VERSION under an advisory lock (many servers may start at once)."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(hashtext('memgrid-migrate'))")
        conn.execute("CREATE TABLE IF NOT EXISTS memgrid_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        row = conn.execute("SELECT value FROM memgrid_meta WHERE key = 'schema_version'").fetchone()
        version = int(row[0]) if row else 0
        if version == 0 and conn.execute("SELECT to_regclass('memories')").fetchone()[0] is not None:
            raise StorageError("this database has a 'memories' table memgrid did not create; "
                               "use another database or schema")
        if version > SCHEMA_VERSION:
            raise StorageError(f"database schema v{version} is newer than this memgrid "
                               f"(v{SCHEMA_VERSION}); upgrade memgrid")
        for step in range(version, SCHEMA_VERSION):
            conn.execute(MIGRATIONS[step])
            if step + 1 in BACKFILLS:
                BACKFILLS[step + 1](conn)
            conn.execute("INSERT INTO memgrid_meta VALUES ('schema_version', %s) ON CONFLICT (key) "
                         "DO UPDATE SET value = EXCLUDED.value", (str(step + 1),))
