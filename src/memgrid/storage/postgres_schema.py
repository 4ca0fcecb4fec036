"""PostgreSQL schema and migrations; the version lives in memgrid_meta. The embedding column is
added by bind_embedder, since its dimension comes from the embedder."""

from __future__ import annotations

from typing import Any

from memgrid.errors import StorageError

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

MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4]
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
            conn.execute("INSERT INTO memgrid_meta VALUES ('schema_version', %s) ON CONFLICT (key) "
                         "DO UPDATE SET value = EXCLUDED.value", (str(step + 1),))
