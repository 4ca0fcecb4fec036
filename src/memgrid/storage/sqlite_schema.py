"""SQLite schema and its migrations. `PRAGMA user_version` is the schema version."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable

from memgrid.errors import StorageError
from memgrid.storage.sql import name_term_rows

APP_ID = "memgrid"

_V1 = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE memories (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: it is also the vector key
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, session_id TEXT,
    visibility TEXT NOT NULL, kind TEXT NOT NULL, role TEXT, speaker TEXT,
    text TEXT NOT NULL,
    index_text TEXT NOT NULL,                -- what FTS and the embedder see (speaker, date, text)
    content_hash TEXT NOT NULL,
    created_at REAL NOT NULL, updated_at REAL NOT NULL,
    event_time REAL, valid_from REAL, valid_to REAL,
    version INTEGER NOT NULL DEFAULT 1,
    supersedes TEXT, superseded_by TEXT,
    importance REAL NOT NULL DEFAULT 0.5,
    access_count INTEGER NOT NULL DEFAULT 0,
    last_accessed_at REAL,
    provenance TEXT NOT NULL, metadata TEXT NOT NULL,
    keywords TEXT NOT NULL, entities TEXT NOT NULL,
    position INTEGER,
    embedding BLOB
);
CREATE INDEX ix_memories_scope ON memories(tenant_id, user_id, session_id, seq);
CREATE INDEX ix_memories_hash ON memories(tenant_id, user_id, content_hash);
CREATE INDEX ix_memories_event ON memories(tenant_id, user_id, event_time);
CREATE INDEX ix_memories_position ON memories(tenant_id, user_id, session_id, position);
CREATE VIRTUAL TABLE memories_fts USING fts5(
    index_text, entities, content='memories', content_rowid='seq',
    tokenize='porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, index_text, entities)
    VALUES (new.seq, new.index_text, new.entities);
END;
CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, index_text, entities)
    VALUES ('delete', old.seq, old.index_text, old.entities);
END;
CREATE TRIGGER memories_au AFTER UPDATE OF index_text, entities ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, index_text, entities)
    VALUES ('delete', old.seq, old.index_text, old.entities);
    INSERT INTO memories_fts(rowid, index_text, entities)
    VALUES (new.seq, new.index_text, new.entities);
END;
CREATE TABLE history (
    id INTEGER PRIMARY KEY,
    memory_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL, user_id TEXT,
    version INTEGER NOT NULL,
    event TEXT NOT NULL CHECK (event IN ('ADD', 'UPDATE', 'DELETE')),
    text TEXT NOT NULL, metadata TEXT NOT NULL,
    at REAL NOT NULL, actor TEXT
);
CREATE INDEX ix_history_memory ON history(memory_id, id);
CREATE INDEX ix_history_scope ON history(tenant_id, user_id);
"""

# v2: a counter of changes to stored vectors, so a process knows cheaply whether its ANN index
# is behind the file (other tables, e.g. the audit log, also change PRAGMA data_version).
_V2 = """
CREATE TABLE vector_changes (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
INSERT INTO vector_changes VALUES (1, 0);
CREATE TRIGGER vectors_ai AFTER INSERT ON memories WHEN new.embedding IS NOT NULL BEGIN
    UPDATE vector_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER vectors_ad AFTER DELETE ON memories WHEN old.embedding IS NOT NULL BEGIN
    UPDATE vector_changes SET n = n + 1 WHERE id = 1;
END;
CREATE TRIGGER vectors_au AFTER UPDATE OF embedding ON memories BEGIN
    UPDATE vector_changes SET n = n + 1 WHERE id = 1;
END;
"""

# v3: lifecycle columns. fact_key/fact_value: the (subject|attribute, value) a memory states, for
# supersession; mentioned_from/to: the time its text talks about ("last Saturday"); archived:
# the cold tier (still stored and searchable on request, never deleted by the lifecycle).
_V3 = """
ALTER TABLE memories ADD COLUMN fact_key TEXT;
ALTER TABLE memories ADD COLUMN fact_value TEXT;
ALTER TABLE memories ADD COLUMN mentioned_from REAL;
ALTER TABLE memories ADD COLUMN mentioned_to REAL;
ALTER TABLE memories ADD COLUMN archived INTEGER NOT NULL DEFAULT 0;
CREATE INDEX ix_memories_fact ON memories(tenant_id, user_id, fact_key) WHERE fact_key IS NOT NULL;
CREATE INDEX ix_memories_mentioned ON memories(tenant_id, user_id, mentioned_from);
"""

# v4: the full-text index also holds `kind`, so a kind-restricted search (e.g. session units)
# is answered by FTS5 alone instead of a join over every matching row.
_V4 = """
DROP TRIGGER memories_ai;
DROP TRIGGER memories_ad;
DROP TRIGGER memories_au;
DROP TABLE memories_fts;
CREATE VIRTUAL TABLE memories_fts USING fts5(
    index_text, entities, kind, content='memories', content_rowid='seq',
    tokenize='porter unicode61 remove_diacritics 2'
);
INSERT INTO memories_fts(memories_fts) VALUES ('rebuild');
CREATE TRIGGER memories_ai AFTER INSERT ON memories BEGIN
    INSERT INTO memories_fts(rowid, index_text, entities, kind)
    VALUES (new.seq, new.index_text, new.entities, new.kind);
END;
CREATE TRIGGER memories_ad AFTER DELETE ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, index_text, entities, kind)
    VALUES ('delete', old.seq, old.index_text, old.entities, old.kind);
END;
CREATE TRIGGER memories_au AFTER UPDATE OF index_text, entities, kind ON memories BEGIN
    INSERT INTO memories_fts(memories_fts, rowid, index_text, entities, kind)
    VALUES ('delete', old.seq, old.index_text, old.entities, old.kind);
    INSERT INTO memories_fts(rowid, index_text, entities, kind)
    VALUES (new.seq, new.index_text, new.entities, new.kind);
END;
"""

# v5: links between memories (A-MEM style), made on write and followed by spreading activation
# on read. Seqs, not ids: compact and joined by primary key; a deleted memory takes its links along.
_V5 = """
CREATE TABLE links (
    src INTEGER NOT NULL, dst INTEGER NOT NULL, kind TEXT NOT NULL, weight REAL NOT NULL,
    PRIMARY KEY (src, dst, kind)
) WITHOUT ROWID;
CREATE INDEX ix_links_dst ON links(dst);
CREATE TRIGGER links_ad AFTER DELETE ON memories BEGIN
    DELETE FROM links WHERE src = old.seq;
    DELETE FROM links WHERE dst = old.seq;
END;
"""

# v6: a log of memories whose indexed text changed (added, edited, deleted), so the tantivy text
# index of a large store (storage/text_index.py) catches up with any writer, in any process.
# Entries the index has applied are trimmed; `text_log_trimmed` says up to where.
_V6 = """
CREATE TABLE text_log (id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL);
INSERT INTO meta VALUES ('text_log_trimmed', '0');
CREATE TRIGGER text_log_ai AFTER INSERT ON memories BEGIN
    INSERT INTO text_log(seq) VALUES (new.seq);
END;
CREATE TRIGGER text_log_ad AFTER DELETE ON memories BEGIN
    INSERT INTO text_log(seq) VALUES (old.seq);
END;
CREATE TRIGGER text_log_au AFTER UPDATE OF index_text, entities, kind ON memories BEGIN
    INSERT INTO text_log(seq) VALUES (new.seq);
END;
"""

# The text index filters by scope and archived too, so archiving a memory is logged.
_V7 = """
DROP TRIGGER text_log_au;
CREATE TRIGGER text_log_au AFTER UPDATE OF index_text, entities, kind, archived ON memories BEGIN
    INSERT INTO text_log(seq) VALUES (new.seq);
END;
"""

# Opening a store reconciles the ANN file with SQLite's vector keys: without this index that
# read scans every row (the embeddings with them), with it only the keys.
_V8 = """
CREATE INDEX ix_memories_vectors ON memories(seq) WHERE embedding IS NOT NULL;
"""

# v9: a log of edited vectors, so an ANN index in another process (or a file saved before the
# edit) replaces the vector too: matching keys alone left the old one. And an index that holds
# the usual scope's columns, so a scope's keys come from the index alone (the exact dense pass
# then reads vectors from the ANN index, not each row's blob).
_V9 = """
CREATE TABLE vector_log (id INTEGER PRIMARY KEY AUTOINCREMENT, seq INTEGER NOT NULL);
CREATE TRIGGER vector_log_au AFTER UPDATE OF embedding ON memories BEGIN
    INSERT INTO vector_log(seq) VALUES (new.seq);
END;
CREATE INDEX ix_memories_owner ON memories(tenant_id, user_id, archived, kind, agent_id, session_id,
                                           visibility);
"""

# v10: the words of each memory's entity names, under its owner (its user, and its agent).
# Linking on write asks for a name's newest mentions in one user's memories; FTS5 answered by
# walking the name's postings through every user of a shared store, joining each to check the
# scope (a third of ingest at 200k memories over 100 users). Here it is one index range. SQL cannot
# split names into words, so the store writes the rows (and the migration backfills them); the
# triggers drop a memory's rows when it is deleted or its names change.
_V10 = """
CREATE TABLE name_terms (
    tenant_id TEXT NOT NULL, owner TEXT NOT NULL, term TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (tenant_id, owner, term, seq)
) WITHOUT ROWID;
CREATE INDEX ix_name_terms_seq ON name_terms(seq);
CREATE TRIGGER name_terms_ad AFTER DELETE ON memories BEGIN
    DELETE FROM name_terms WHERE seq = old.seq;
END;
CREATE TRIGGER name_terms_au AFTER UPDATE OF entities ON memories BEGIN
    DELETE FROM name_terms WHERE seq = old.seq;
END;
"""

# v11: what a lifecycle pass keeps per scope between runs (consolidate's digest and clustering),
# so a pass over 100k memories with little new need not re-read them all; and the vectors of the
# memories' own text that topic clustering reads (float16), so a pass that starts over need not
# embed them all again. A vector goes with its memory, and with its text when that changes.
_V11 = """
CREATE TABLE IF NOT EXISTS scope_state (
    tenant_id TEXT NOT NULL, scope TEXT NOT NULL, name TEXT NOT NULL, value TEXT NOT NULL,
    PRIMARY KEY (tenant_id, scope, name)
);
CREATE TABLE IF NOT EXISTS text_vectors (seq INTEGER PRIMARY KEY, vector BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS text_vectors_ad AFTER DELETE ON memories BEGIN
    DELETE FROM text_vectors WHERE seq = old.seq;
END;
CREATE TRIGGER IF NOT EXISTS text_vectors_au AFTER UPDATE OF text ON memories BEGIN
    DELETE FROM text_vectors WHERE seq = old.seq;
END;
"""

# v12: a user's, and an agent's, memories in seq order. Listing them a page at a time
# (consolidate, export, the list API) went through the owner index and sorted every remaining
# row of the user for each page (an agent's scope: of the whole tenant): reading 100k memories
# in pages of 1000 took 2.3 s of SQL, now 0.5 s; it grew with the square of the user's size.
_V12 = """
CREATE INDEX IF NOT EXISTS ix_memories_user_seq ON memories(tenant_id, user_id, seq);
CREATE INDEX IF NOT EXISTS ix_memories_agent_seq ON memories(tenant_id, agent_id, seq)
    WHERE agent_id IS NOT NULL;
"""

# v13: history entries keep their memory's agent and session, so erasing an agent or a session
# also finds the entries of memories deleted earlier (they used to survive, text and all)
_V13 = """
ALTER TABLE history ADD COLUMN agent_id TEXT;
ALTER TABLE history ADD COLUMN session_id TEXT;
UPDATE history SET (agent_id, session_id) = (SELECT m.agent_id, m.session_id FROM memories m
    WHERE m.id = history.memory_id) WHERE memory_id IN (SELECT id FROM memories);
CREATE INDEX IF NOT EXISTS ix_history_agent ON history(tenant_id, agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS ix_history_session ON history(tenant_id, user_id, session_id)
    WHERE session_id IS NOT NULL;
"""

# v14: a durable work queue (storage/jobs.py): fact extraction queued by `add(infer=True,
# background=True)` in the transaction that stores the turns, drained by a worker later
_V14 = """
CREATE TABLE IF NOT EXISTS jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, queue TEXT NOT NULL, tenant_id TEXT NOT NULL,
    user_id TEXT, agent_id TEXT, session_id TEXT, memory_ids TEXT NOT NULL, actor TEXT,
    state TEXT NOT NULL, attempts INTEGER NOT NULL, lease_until REAL, created_at REAL NOT NULL,
    done_at REAL, error TEXT
);
CREATE INDEX IF NOT EXISTS ix_jobs_open ON jobs(queue, id) WHERE state IN ('pending', 'running');
CREATE INDEX IF NOT EXISTS ix_jobs_scope ON jobs(tenant_id, queue, user_id, state);
"""

NAME_TERMS_SQL = "INSERT OR IGNORE INTO name_terms (tenant_id, owner, term, seq) VALUES (?, ?, ?, ?)"
# a name's rows under one owner, newest first, the scope clause (`where`, alias m) still deciding
NAME_LOOKUP_SQL = ("SELECT m.seq, m.entities FROM name_terms n CROSS JOIN memories m ON m.seq = n.seq "
                   "WHERE n.tenant_id = ? AND n.owner = ? AND n.term = ? AND {where} "
                   "ORDER BY n.seq DESC LIMIT ?")


def _backfill_name_terms(conn: sqlite3.Connection) -> None:
    rows = conn.execute("SELECT seq, tenant_id, user_id, agent_id, entities FROM memories "
                        "WHERE entities <> '[]'")
    while batch := rows.fetchmany(10_000):
        conn.executemany(NAME_TERMS_SQL, [row for seq, tenant, user, agent, names in batch
                                          for row in name_term_rows(seq, tenant, user, agent,
                                                                    json.loads(names))])


# Each entry upgrades from version i to i+1. Append, never edit a released step.
MIGRATIONS: list[str] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V9, _V10, _V11, _V12, _V13, _V14]
# Rows a step's SQL cannot compute, written in the same transaction (keyed by the version made).
BACKFILLS: dict[int, Callable[[sqlite3.Connection], None]] = {10: _backfill_name_terms}
SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> str:
    """Bring the file to SCHEMA_VERSION; refuse foreign or newer files. Returns the db uuid."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if version == 0 and tables:
        raise StorageError(
            "this SQLite file holds other tables and is not a memgrid database; "
            "point memgrid at a new file"
        )
    if version > SCHEMA_VERSION:
        raise StorageError(
            f"database schema v{version} is newer than this memgrid (v{SCHEMA_VERSION}); upgrade memgrid"
        )
    if version > 0:
        row = conn.execute("SELECT value FROM meta WHERE key='app'").fetchone()
        if row is None or row[0] != APP_ID:
            raise StorageError("this SQLite file is not a memgrid database (no memgrid marker)")
    for step in range(version, SCHEMA_VERSION):
        # One script, one transaction per step: a crash leaves the previous version intact.
        marker = ""
        if step == 0:
            marker = (
                f"INSERT INTO meta VALUES ('app', '{APP_ID}');"
                f"INSERT INTO meta VALUES ('db_uuid', '{uuid.uuid4().hex}');"
            )
        backfill = BACKFILLS.get(step + 1)
        try:
            conn.executescript(f"BEGIN IMMEDIATE;{MIGRATIONS[step]};{marker}")
            if backfill is not None:
                backfill(conn)
            conn.execute(f"PRAGMA user_version = {step + 1}")
            conn.execute("COMMIT")
        except sqlite3.Error:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    row = conn.execute("SELECT value FROM meta WHERE key='db_uuid'").fetchone()
    return str(row[0])
