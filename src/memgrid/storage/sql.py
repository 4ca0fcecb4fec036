"""SQL shared by the SQLite and PostgreSQL backends: one column list, one row mapping, one
scope/filter builder, so both backends read and filter memories the same way."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from memgrid.access.rules import access_sql
from memgrid.models import HistoryEntry, Provenance, Scope, StoredMemory
from memgrid.storage.base import Edge, Link, Neighbor, Placement
from memgrid.text import name_words
from memgrid.validation import Filters

COLUMNS = (
    "seq, id, tenant_id, user_id, agent_id, session_id, visibility, kind, role, speaker, text, "
    "index_text, content_hash, created_at, updated_at, event_time, valid_from, valid_to, version, "
    "supersedes, superseded_by, importance, access_count, last_accessed_at, provenance, metadata, "
    "keywords, entities, position, fact_key, fact_value, mentioned_from, mentioned_to, archived"
)
COLUMNS_M = ", ".join("m." + c.strip() for c in COLUMNS.split(","))
INSERT_COLUMNS = COLUMNS.replace("seq, ", "", 1) + ", embedding"
UPDATABLE = {
    "text", "index_text", "content_hash", "embedding", "metadata", "keywords", "entities",
    "event_time", "valid_from", "valid_to", "importance", "supersedes", "superseded_by", "kind",
    "fact_key", "fact_value", "mentioned_from", "mentioned_to", "archived",
}
JSON_FIELDS = {"metadata", "keywords", "entities"}


def name_owner(scope: Scope) -> str | None:
    """The owner key of a scope's entity-name lookups in `name_terms`: its user, else its agent
    (a tenant-wide scope has none and is answered by the full-text index)."""
    if scope.user_id is not None:
        return f"u:{scope.user_id}"
    return None if scope.agent_id is None else f"a:{scope.agent_id}"


def name_term_rows(seq: int, tenant_id: str, user_id: str | None, agent_id: str | None,
                   entities: Sequence[str]) -> list[tuple[str, str, str, int]]:
    """`name_terms` rows of one memory: each word of its names, under its user and its agent."""
    owners = [f"u:{user_id}"] * (user_id is not None) + [f"a:{agent_id}"] * (agent_id is not None)
    return [(tenant_id, owner, term, seq) for term in sorted(name_words(entities)) for owner in owners]


def placement_columns(alias: str) -> str:
    """The columns of a Placement, seq first, from table or alias `alias`."""
    a = alias + "."
    return (f"{a}seq, {a}session_id, COALESCE({a}event_time, {a}created_at), {a}superseded_by, "
            f"{a}importance, {a}access_count, {a}last_accessed_at, {a}text, {a}speaker, {a}mentioned_from, "
            f"{a}role")


PLACEMENT_COLUMNS = placement_columns("memories")


def neighbors_sql(scope: Scope, filters: Filters, seqs_clause: str, dialect: Dialect,
                  hints: tuple[str, str] = ("", "")) -> tuple[str, list[Any]]:
    """Turns near each of a set of turns (a) that the caller may read (b), with b's placement.
    Parameters: radius, radius, then the seqs clause's, then the scope's. `hints` go after
    each table's alias (SQLite index choices)."""
    where, params = scope_sql(scope, filters, alias="b", dialect=dialect)
    same_user = "b.user_id IS a.user_id" if dialect is SQLITE else "b.user_id IS NOT DISTINCT FROM a.user_id"
    p = dialect.placeholder
    sql = (f"SELECT a.seq, b.position - a.position, {placement_columns('b')} "
           f"FROM memories a {hints[0]} JOIN memories b {hints[1]} ON b.session_id = a.session_id "
           f"AND b.tenant_id = a.tenant_id AND {same_user} "
           f"AND b.position BETWEEN a.position - {p} AND a.position + {p} AND b.seq <> a.seq "
           f"WHERE {seqs_clause} AND {where} ORDER BY a.seq, b.position")
    return sql, params


def neighbors_from(rows: Iterable[Sequence[Any]]) -> dict[int, list[Neighbor]]:
    out: dict[int, list[Neighbor]] = {}
    for a, offset, *placed in rows:
        out.setdefault(a, []).append(Neighbor(placed[0], offset, Placement(*placed[1:])))
    return out


def _json(value: Any) -> Any:
    if not isinstance(value, str | bytes):
        return value  # PostgreSQL decodes jsonb itself
    if value == "{}":  # most metadata, and many entity lists, are empty: no parser needed
        return {}
    return [] if value == "[]" else json.loads(value)


def rows_to_memories(rows: Iterable[Sequence[Any]]) -> list[StoredMemory]:
    """Many rows: their provenance is mostly the same few strings (one writer, source and method
    for a whole import), parsed once each. Provenance is frozen, so memories can share one."""
    parsed: dict[Any, Provenance] = {}
    return [row_to_memory(r, parsed) for r in rows]


def row_to_memory(row: Sequence[Any], parsed: dict[Any, Provenance] | None = None) -> StoredMemory:
    """A row in COLUMNS order -> StoredMemory (JSON columns as text or already decoded);
    `parsed` memoises provenance strings over a batch."""
    (seq, mid, tenant, user, agent, session, visibility, kind, role, speaker, text, index_text,
     content_hash, created_at, updated_at, event_time, valid_from, valid_to, version, supersedes,
     superseded_by, importance, access_count, last_accessed_at, provenance, metadata, keywords,
     entities, position, fact_key, fact_value, mentioned_from, mentioned_to, archived) = row
    return StoredMemory(
        id=mid, text=text, index_text=index_text, kind=kind,
        scope=Scope(tenant, user, agent, session), visibility=visibility, role=role,
        speaker=speaker, provenance=_provenance(provenance, parsed),
        content_hash=content_hash, created_at=created_at, updated_at=updated_at,
        event_time=event_time, valid_from=valid_from, valid_to=valid_to, version=version,
        supersedes=supersedes, superseded_by=superseded_by, importance=importance,
        access_count=access_count, last_accessed_at=last_accessed_at,
        metadata=_json(metadata), keywords=_json(keywords), entities=_json(entities),
        position=position, seq=seq, fact_key=fact_key, fact_value=fact_value,
        mentioned_from=mentioned_from, mentioned_to=mentioned_to, archived=bool(archived),
    )


def _provenance(raw: Any, parsed: dict[Any, Provenance] | None) -> Provenance:
    if not isinstance(raw, str | bytes):
        return Provenance.model_validate(raw)  # PostgreSQL decodes jsonb itself
    if parsed is None:
        return Provenance.model_validate_json(raw)
    found = parsed.get(raw)
    if found is None:
        found = parsed[raw] = Provenance.model_validate_json(raw)
    return found


def link_rows(links: Sequence[Link]) -> list[tuple[int, int, str, float]]:
    """(src, dst, kind, weight) rows once the batch has its seqs; self-links dropped."""
    rows = []
    for link in links:
        dst = link.dst if isinstance(link.dst, int) else link.dst.seq
        if link.src.seq is not None and dst is not None and dst != link.src.seq:
            rows.append((link.src.seq, dst, link.kind, link.weight))
    return rows


def edges_from(rows: Sequence[tuple[Any, ...]]) -> dict[int, list[Edge]]:
    """Rows of (seq, other, weight, kind) -> each seq's edges, strongest first."""
    out: dict[int, list[Edge]] = {}
    for seq, other, weight, kind in rows:
        out.setdefault(seq, []).append((other, weight, kind))
    for edges in out.values():
        edges.sort(key=lambda e: -e[1])
    return out


def insert_values(m: StoredMemory, embedding: Any) -> tuple[Any, ...]:
    """Values for INSERT_COLUMNS, JSON columns serialised."""
    return (m.id, m.scope.tenant_id, m.scope.user_id, m.scope.agent_id, m.scope.session_id,
            m.visibility, m.kind, m.role, m.speaker, m.text, m.index_text, m.content_hash,
            m.created_at, m.updated_at, m.event_time, m.valid_from, m.valid_to, m.version,
            m.supersedes, m.superseded_by, m.importance, m.access_count, m.last_accessed_at,
            m.provenance.model_dump_json(), json.dumps(m.metadata), json.dumps(m.keywords),
            json.dumps(m.entities), m.position, m.fact_key, m.fact_value, m.mentioned_from,
            m.mentioned_to, m.archived, embedding)


@dataclass(frozen=True, slots=True)
class Dialect:
    placeholder: str  # '?' or '%s'
    metadata_equals: str  # a format string with {column} and {key}, compared to a placeholder

    def json_param(self, value: Any) -> Any:
        return json.dumps(value) if "jsonb" in self.metadata_equals else value


SQLITE = Dialect("?", "json_extract({column}, '$.\"{key}\"') = ?")
POSTGRES = Dialect("%s", "{column} -> '{key}' = %s::jsonb")


def place_in_sessions(query: Callable[[str, Sequence[Any]], list[tuple[Any, ...]]],
                      memories: Sequence[StoredMemory], dialect: Dialect) -> None:
    """Called inside an insert's transaction: new turns, numbered 0..n-1 by the writer, follow
    what their session already holds. Reading the session's end here rather than before
    embedding means two adds to one session at once cannot take the same places (PostgreSQL
    takes a per-session transaction lock first; SQLite's write transaction excludes other
    writers). Memories without a position (derived units) are left alone."""
    by_session: dict[tuple[str, str | None, str | None], list[StoredMemory]] = {}
    for m in memories:
        if m.position is not None:
            key = (m.scope.tenant_id, m.scope.user_id, m.scope.session_id)
            by_session.setdefault(key, []).append(m)
    p = dialect.placeholder
    for (tenant, user, session), batch in by_session.items():
        if dialect is POSTGRES:
            query(f"SELECT pg_advisory_xact_lock(hashtext({p}))", [f"{tenant}/{user}/{session}"])
        where, params = [f"tenant_id = {p}"], [tenant]
        for column, value in (("user_id", user), ("session_id", session)):
            where.append(f"{column} = {p}" if value is not None else f"{column} IS NULL")
            params += [value] if value is not None else []
        top = query(f"SELECT MAX(position) FROM memories WHERE {' AND '.join(where)}", params)[0][0]
        start = 0 if top is None else int(top) + 1
        for m in batch:
            m.position = start + (m.position or 0)


def scope_sql(scope: Scope, filters: Filters, alias: str = "m",
              dialect: Dialect = SQLITE) -> tuple[str, list[Any]]:
    """WHERE clause for a scope plus filters; every value is a bound parameter."""
    a, p = alias + ".", dialect.placeholder
    parts = [f"{a}tenant_id = {p}"]
    params: list[Any] = [scope.tenant_id]
    for column, value in (("user_id", scope.user_id), ("agent_id", scope.agent_id),
                          ("session_id", scope.session_id)):
        if value is not None:
            parts.append(f"{a}{column} = {p}")
            params.append(value)
    for column, values in (("kind", filters.kinds), ("role", filters.roles),
                           ("speaker", filters.speakers)):
        if values:
            parts.append(f"{a}{column} IN ({', '.join([p] * len(values))})")
            params.extend(values)
    if filters.visibility:
        parts.append(f"{a}visibility = {p}")
        params.append(filters.visibility)
    if filters.event_after is not None:
        parts.append(f"{a}event_time >= {p}")
        params.append(filters.event_after)
    if filters.event_before is not None:
        parts.append(f"{a}event_time <= {p}")
        params.append(filters.event_before)
    for key, value in filters.metadata.items():  # keys are validated identifiers
        parts.append(dialect.metadata_equals.format(column=f"{a}metadata", key=key))
        params.append(dialect.json_param(value))
    if filters.exclude_kinds:
        parts.append(f"{a}kind NOT IN ({', '.join([p] * len(filters.exclude_kinds))})")
        params.extend(filters.exclude_kinds)
    if filters.archived is not None:
        parts.append(f"{'' if filters.archived else 'NOT '}{a}archived" if dialect is POSTGRES
                     else f"+{a}archived = {int(filters.archived)}")
    elif not filters.include_archived:
        # SQLite: `+` keeps the term off index lookups. Its one index with `archived`
        # (ix_memories_owner) then serves a user's keys by (tenant, user), still covering, and no
        # longer outbids the time indexes for a time range (a user's 10k rows walked: 659 ms on
        # first read, where the OR of the event and mention indexes takes 2.5 ms)
        parts.append(f"NOT {a}archived" if dialect is POSTGRES else f"+{a}archived = 0")
    if filters.as_of is not None:
        parts.append(f"({a}valid_from IS NULL OR {a}valid_from <= {p}) AND "
                     f"({a}valid_to IS NULL OR {a}valid_to > {p})")
        params.extend([filters.as_of, filters.as_of])
    if filters.time_range is not None:
        start, end = filters.time_range
        parts.append(f"(({a}event_time >= {p} AND {a}event_time < {p}) OR "
                     f"({a}mentioned_from < {p} AND {a}mentioned_to > {p}))")
        params.extend([start, end, end, start])
    if filters.access is not None:
        clause, access_params = access_sql(filters.access, alias, p, postgres=dialect is POSTGRES)
        parts.append(clause)
        params.extend(access_params)
    return " AND ".join(parts), params


def closing_statements(closes: Sequence[tuple[StoredMemory, float | None, str]], actor: str | None,
                       now: float, placeholder: str) -> list[tuple[str, tuple[Any, ...]]]:
    """Close superseded facts: set valid_to/superseded_by, bump the version, log it in history."""
    p = placeholder
    out: list[tuple[str, tuple[Any, ...]]] = []
    for old, valid_to, new_id in closes:
        out.append((f"UPDATE memories SET valid_to = {p}, superseded_by = {p}, version = version + 1, "
                    f"updated_at = {p} WHERE seq = {p} AND superseded_by IS NULL",
                    (valid_to, new_id, now, old.seq)))
        out.append((history_sql(p), history_row(old, old.version + 1, "UPDATE", old.text,
                                                {**old.metadata, "superseded_by": new_id}, now, actor)))
    return out


def history_sql(placeholder: str) -> str:
    """One history entry; values from history_row. Each entry keeps its memory's scope, so an
    erase of a session or an agent finds the entries of memories deleted before it."""
    p = placeholder
    return (f"INSERT INTO history (memory_id, tenant_id, user_id, agent_id, session_id, version, "
            f"event, text, metadata, at, actor) VALUES ({', '.join([p] * 11)})")


def history_row(m: StoredMemory, version: int, event: str, text: str, metadata: dict[str, Any],
                at: float, actor: str | None) -> tuple[Any, ...]:
    return (m.id, m.scope.tenant_id, m.scope.user_id, m.scope.agent_id, m.scope.session_id, version,
            event, text, json.dumps(metadata), at, actor)


def history_rows(memories: Sequence[StoredMemory], actor: str | None,
                 history: dict[str, list[HistoryEntry]] | None) -> list[tuple[Any, ...]]:
    """Rows for history_sql: an ADD per new memory, or the versions an import brought."""
    rows: list[tuple[Any, ...]] = []
    for m in memories:
        kept = (history or {}).get(m.id)
        if not kept:
            rows.append(history_row(m, m.version, "ADD", m.text, m.metadata, m.created_at, actor))
            continue
        rows.extend(history_row(m, e.version, e.event, e.text, e.metadata, e.at.timestamp(), e.actor)
                    for e in kept)
    return rows


def scope_delete_sql(table: str, scope: Scope, p: str) -> tuple[str, list[Any]]:
    """Every row of `table` (with tenant, user, agent and session columns) in a scope."""
    parts, params = [f"tenant_id = {p}"], [scope.tenant_id]
    for column, value in (("user_id", scope.user_id), ("agent_id", scope.agent_id),
                          ("session_id", scope.session_id)):
        if value is not None:
            parts.append(f"{column} = {p}")
            params.append(value)
    return f"DELETE FROM {table} WHERE {' AND '.join(parts)}", params


def erase_history_sql(scope: Scope, p: str) -> tuple[str, list[Any]]:
    """Every history entry of a scope, deleted memories' included."""
    return scope_delete_sql("history", scope, p)


HISTORY_COLUMNS = "memory_id, version, event, text, metadata, at, actor"


def history_entries(rows: Iterable[Sequence[Any]]) -> list[HistoryEntry]:
    """Rows of HISTORY_COLUMNS (metadata as JSON text or decoded) -> entries."""
    return [HistoryEntry(memory_id=r[0], version=r[1], event=r[2], text=r[3], metadata=_json(r[4]),
                         at=datetime.fromtimestamp(r[5], tz=UTC), actor=r[6]) for r in rows]


def current_facts_sql(scope: Scope, keys: Sequence[str], dialect: Dialect,
                      at: float | None = None) -> tuple[str, list[Any]]:
    """The memories holding each fact key for the scope's user, not superseded (or, `at` a past
    moment, valid then), oldest first. Extracted facts (kind 'fact') are left out: a model
    decides theirs, and the statements chain apart."""
    p = dialect.placeholder
    same_user = "user_id IS ?" if dialect is SQLITE else "user_id IS NOT DISTINCT FROM %s"
    valid = (f"COALESCE(valid_from, event_time, 0) <= {p} AND (valid_to IS NULL OR valid_to > {p})"
             if at is not None else "superseded_by IS NULL")
    return (f"SELECT {COLUMNS} FROM memories WHERE tenant_id = {p} AND {same_user} AND fact_key IN "
            f"({', '.join([p] * len(keys))}) AND {valid} AND kind <> 'fact' ORDER BY event_time",
            [scope.tenant_id, scope.user_id, *keys, *((at, at) if at is not None else ())])


def existing_hashes_sql(scope: Scope, hashes: Sequence[str], dialect: Dialect) -> tuple[str, list[Any]]:
    where, params = scope_sql(scope, Filters.everything(), dialect=dialect)
    return (f"SELECT m.content_hash, m.id FROM memories m WHERE {where} AND m.content_hash IN "
            f"({', '.join([dialect.placeholder] * len(hashes))})", [*params, *hashes])


def write_lock_key(scope: Scope) -> str:
    """The owner whose writes a PostgreSQL insert serialises (dedupe and supersession decide
    on what the owner has stored)."""
    return f"memgrid-write/{scope.tenant_id}/{scope.user_id}/{scope.agent_id}"


def history_mark_sql(scope: Scope, p: str) -> tuple[str, tuple[Any, ...]]:
    """Where a scope's history stands: its user's last entry; for an agent's scope, whose
    entries are found through their memories (the log is kept by user), the log's last."""
    if scope.user_id is None:
        return "SELECT coalesce(max(id), 0) FROM history", ()
    return (f"SELECT coalesce(max(id), 0) FROM history WHERE tenant_id = {p} AND user_id = {p}",
            (scope.tenant_id, scope.user_id))


def updated_since_sql(scope: Scope, mark: int, p: str) -> tuple[str, tuple[Any, ...]]:
    """Ids of the scope's memories updated after `mark`, once per update, oldest first. An
    agent's scope joins the entries to their memories: a deleted memory is not found that way,
    but a delete makes consolidation start over anyway."""
    if scope.user_id is None:
        return (f"SELECT h.memory_id FROM history h JOIN memories m ON m.id = h.memory_id "
                f"AND m.tenant_id = h.tenant_id WHERE h.id > {p} AND h.tenant_id = {p} "
                f"AND m.agent_id = {p} AND h.event = 'UPDATE' ORDER BY h.id",
                (mark, scope.tenant_id, scope.agent_id))
    return (f"SELECT memory_id FROM history WHERE tenant_id = {p} AND user_id = {p} AND id > {p} "
            f"AND event = 'UPDATE' ORDER BY id", (scope.tenant_id, scope.user_id, mark))


def digest_sql(scope: Scope, filters: Filters, upto_seq: int | None,
               dialect: Dialect) -> tuple[str, list[Any]]:
    """Count and sums behind a storage.base.Digest, over the rows a scope and filters select."""
    where, params = scope_sql(scope, filters, dialect=dialect)
    if upto_seq is not None:
        where += f" AND m.seq <= {dialect.placeholder}"
        params.append(upto_seq)
    return (f"SELECT count(*), coalesce(sum(m.seq), 0), coalesce(sum(m.version), 0), "
            f"coalesce(max(m.seq), 0) FROM memories m WHERE {where}", params)


# a memory (alias m) with a link either way: two index probes, no edges read
HAS_LINK = ("(EXISTS (SELECT 1 FROM links WHERE src = m.seq) OR "
            "EXISTS (SELECT 1 FROM links WHERE dst = m.seq))")


def state_key(scope: Scope) -> str:
    """A scope's key in `scope_state` (None, meaning any, kept apart from every name)."""
    return json.dumps([scope.user_id, scope.agent_id, scope.session_id])


def touch_sql(placeholder: str) -> str:
    p = placeholder
    return f"UPDATE memories SET access_count = access_count + 1, last_accessed_at = {p} WHERE seq = {p}"


Rows = Callable[[str, list[Any]], list[tuple[Any, ...]]]


def scope_stats(rows: Rows, scope: Scope, dialect: Dialect, all_tenants: bool = True) -> dict[str, Any]:
    """Counts both backends report the same way; `rows` runs one query. A session is one owner's
    session id (every LoCoMo import has a `session_1`); `by_tenant` covers the whole database,
    so a scope that holds nothing still shows where the memories are (one more scan of every
    row: `all_tenants=False` leaves it out, as the server does, which never shows it)."""
    where, params = scope_sql(scope, Filters.everything(), dialect=dialect)
    # by kind from an index alone; the vector count reads the rows once (with the kind, SQLite
    # would walk the kind index and fetch each row: 3x slower at 100k)
    by_kind: dict[str, int] = dict(rows(f"SELECT m.kind, COUNT(*) FROM memories m WHERE {where} "
                                        f"GROUP BY m.kind", params))
    users, vectors = rows(f"SELECT COUNT(DISTINCT m.user_id), COUNT(m.embedding) "
                          f"FROM memories m WHERE {where}", params)[0]
    sessions = rows(f"SELECT COUNT(*) FROM (SELECT DISTINCT m.user_id, m.agent_id, m.session_id "
                    f"FROM memories m WHERE {where} AND m.session_id IS NOT NULL) s", params)[0][0]
    p = dialect.placeholder
    hwhere = f"tenant_id = {p}" + (f" AND user_id = {p}" if scope.user_id else "")
    hparams = [scope.tenant_id] + ([scope.user_id] if scope.user_id else [])
    history = rows(f"SELECT COUNT(*) FROM history WHERE {hwhere}", hparams)[0][0]
    by_tenant: dict[str, int] = {}
    if all_tenants:
        by_tenant = dict(rows("SELECT tenant_id, COUNT(*) FROM memories GROUP BY tenant_id", []))
    return {"memories": sum(by_kind.values()), "by_kind": by_kind, "users": users,
            "sessions": sessions, "history_entries": history, "vectors": vectors,
            "by_tenant": by_tenant}


def list_sql(scope: Scope, filters: Filters, after_seq: int | None, limit: int, newest_first: bool,
             dialect: Dialect) -> tuple[str, list[Any]]:
    """A page of a scope in insertion order (or newest first), after the cursor's seq."""
    where, params = scope_sql(scope, filters, dialect=dialect)
    if after_seq is not None:
        where += f" AND m.seq {'<' if newest_first else '>'} {dialect.placeholder}"
        params.append(after_seq)
    order = "DESC" if newest_first else ""
    return (f"SELECT {COLUMNS_M} FROM memories m WHERE {where} ORDER BY m.seq {order} "
            f"LIMIT {dialect.placeholder}", [*params, limit])


def session_rows(rows: Rows, scope: Scope, filters: Filters, limit: int,
                 dialect: Dialect) -> list[tuple[Any, ...]]:
    """(user, agent, session, memories, first time, last time) per session, latest first: a
    user's timeline. `filters` carries the reader's access rule, so a count never tells of an
    unreadable memory."""
    where, params = scope_sql(scope, filters, dialect=dialect)
    at = "COALESCE(m.event_time, m.created_at)"
    return rows(f"SELECT m.user_id, m.agent_id, m.session_id, COUNT(*), MIN({at}), MAX({at}) "
                f"FROM memories m WHERE {where} AND m.session_id IS NOT NULL "
                f"GROUP BY m.user_id, m.agent_id, m.session_id ORDER BY MAX({at}) DESC "
                f"LIMIT {dialect.placeholder}", [*params, limit])


def owner_rows(rows: Rows, scope: Scope, dialect: Dialect) -> list[tuple[Any, ...]]:
    """(user, agent, memories, sessions, latest time) of each owner in a scope."""
    where, params = scope_sql(scope, Filters.everything(), dialect=dialect)
    return rows(f"SELECT m.user_id, m.agent_id, COUNT(*), COUNT(DISTINCT m.session_id), "
                f"MAX(COALESCE(m.event_time, m.created_at)) FROM memories m WHERE {where} "
                f"GROUP BY m.user_id, m.agent_id ORDER BY m.user_id, m.agent_id", params)


def ids_with_prefix(rows: Rows, tenant_id: str, prefix: str, dialect: Dialect) -> list[str]:
    """Up to two ids (stored, or deleted with history left) that start with `prefix`: an index
    range, not a scan (ids are hex)."""
    p = dialect.placeholder
    upper = prefix + "\U0010ffff"
    found = [r[0] for r in rows(f"SELECT id FROM memories WHERE tenant_id = {p} AND id >= {p} "
                                f"AND id < {p} LIMIT 2", [tenant_id, prefix, upper])]
    if len(found) < 2:
        found += [r[0] for r in rows(f"SELECT DISTINCT memory_id FROM history WHERE tenant_id = {p} "
                                     f"AND memory_id >= {p} AND memory_id < {p} LIMIT 2",
                                     [tenant_id, prefix, upper]) if r[0] not in found]
    return found[:2]


class RecallBuffer:
    """Recalls counted in memory and written with the next write, so searches stay read-only.
    Shared by a store's threads, hence its own lock."""

    def __init__(self, flush_at: int = 1000) -> None:
        self.pending: dict[int, float] = {}
        self.flush_at = flush_at
        self._lock = threading.Lock()

    def add(self, seqs: Sequence[int], at: float) -> bool:
        """Record recalls; True when enough are pending to be worth a write of their own."""
        with self._lock:
            for seq in seqs:
                self.pending[seq] = at
            return len(self.pending) >= self.flush_at

    def restore(self, rows: Sequence[tuple[float, int]]) -> None:
        """Put back drained rows whose write failed (newer recalls of the same memory win)."""
        with self._lock:
            for at, seq in rows:
                self.pending.setdefault(seq, at)

    def drain(self) -> list[tuple[float, int]]:
        with self._lock:
            rows = [(at, seq) for seq, at in self.pending.items()]
            self.pending.clear()
        return rows
