"""Every server operation, checked against the caller and written to the audit log.

REST and MCP both call this; neither touches storage directly. Reads are filtered inside
retrieval (the access rule is part of the SQL), so a limit never hides readable memories behind
unreadable ones; a memory the caller may not read is reported as not found, never as forbidden.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from memgrid.access.models import (
    ApiKey,
    AuditEvent,
    Grant,
    Principal,
    PrincipalKind,
    TenantSettings,
    to_epoch,
)
from memgrid.access.rules import AccessRule, readable
from memgrid.access.store import AccessStore
from memgrid.config import MemgridConfig
from memgrid.errors import InvalidInputError, MemgridError, NotFoundError, PermissionDeniedError
from memgrid.lifecycle.archive import DEFAULT_ARCHIVE_THRESHOLD, archive_cold
from memgrid.lifecycle.consolidate import ConsolidationReport, consolidate
from memgrid.lifecycle.profile import current_facts, fact_chain
from memgrid.llm.answer import Answer, answer_from, reference_day
from memgrid.llm.background import QUEUE, ExtractionStatus
from memgrid.llm.deep import deep_search
from memgrid.memory import Memory, decode_cursor, encode_cursor
from memgrid.models import (
    Added,
    HistoryEntry,
    MemoryRecord,
    Page,
    RelatedMemory,
    Scope,
    SearchHit,
    StoredMemory,
)
from memgrid.read.assemble import assemble
from memgrid.read.related import related_memories
from memgrid.validation import (
    Filters,
    check_metadata,
    check_scope_value,
    check_text,
    parse_timestamp,
    printable,
)

T = TypeVar("T")


# actions that change what is stored: each gets a 'started' line before it runs
WRITES = frozenset({"memory.add", "memory.update", "memory.delete", "memory.erase", "lifecycle.consolidate",
                    "lifecycle.archive", "grant.create", "grant.revoke", "key.create", "key.revoke",
                    "principal.create", "tenant.settings.update"})


class MemoryService:
    def __init__(self, memory: Memory, access: AccessStore) -> None:
        self.memory = memory
        self.access = access
        self.store = memory.store

    def close(self) -> None:
        """Flush what is buffered (recall counts, the vector index file) and release connections."""
        self.memory.close()
        self.access.close()

    # -- plumbing ---------------------------------------------------------------------------

    def audited(self, p: Principal, action: str, target: str | None, fn: Callable[[], T],
                 detail: dict[str, Any] | None = None) -> T:
        target = printable(target)
        detail = {k: printable(v) if isinstance(v, str) else v for k, v in (detail or {}).items()}
        if action in WRITES:
            # The audit log commits apart from the data, so a write announces itself first: a
            # crash before its result line leaves 'started', never a change without a line.
            self.access.audit(p.tenant_id, p.id, action, target, "started", detail)
        try:
            result = fn()
        except Exception as exc:  # memgrid's errors and any other: every failure has its line
            name = type(exc).__name__
            self.access.audit(p.tenant_id, p.id, action, target,
                              name if isinstance(exc, MemgridError) else f"error:{name}", detail)
            raise
        self.access.audit(p.tenant_id, p.id, action, target, "ok", detail)
        return result

    def _require_admin(self, p: Principal) -> None:
        if p.kind != "admin":
            raise PermissionDeniedError("this needs a tenant admin key")

    def readable_memory(self, p: Principal, memory_id: str) -> tuple[StoredMemory, AccessRule]:
        memory = self.store.get(p.tenant_id, memory_id)
        rule = self.access.rule_for(p)
        if memory is None or not readable(rule, [memory]):
            raise NotFoundError(f"no memory with id {memory_id!r}")
        return memory, rule

    def _writable(self, p: Principal, memory_id: str) -> StoredMemory:
        memory, _ = self.readable_memory(p, memory_id)
        if not readable(self.access.rule_for(p, "write"), [memory]) or (
                memory.visibility != "shared" and memory.scope.user_id not in p.own_users()
                and p.kind != "admin"):
            raise PermissionDeniedError(f"no write right on memory {memory_id!r}")
        return memory

    def _visible_ids(self, tenant_id: str, ids: set[str], rule: AccessRule) -> set[str]:
        found = {m.id: m for m in (self.store.get(tenant_id, i) for i in ids) if m}
        return {i for i in ids if i in found and readable(rule, [found[i]])}

    def project(self, record: MemoryRecord, rule: AccessRule) -> MemoryRecord:
        """Hide what points at memories the reader may not see: a shared summary's private
        sources, and the private memory that superseded (or was superseded by) a shared one,
        with the time its successor ended it."""
        sources = record.provenance.source_ids
        pointers = {i for i in (record.superseded_by, record.supersedes) if i}
        if rule.admin or not (sources or pointers):
            return record
        visible = self._visible_ids(record.tenant_id, set(sources) | pointers, rule)
        update: dict[str, Any] = {}
        if any(s not in visible for s in sources):
            update["provenance"] = record.provenance.model_copy(
                update={"source_ids": tuple(s for s in sources if s in visible)})
        if record.superseded_by and record.superseded_by not in visible:
            update.update(superseded_by=None, valid_to=None)
        if record.supersedes and record.supersedes not in visible:
            update["supersedes"] = None
        return record.model_copy(update=update) if update else record

    def _project_history(self, p: Principal, entries: list[HistoryEntry]) -> list[HistoryEntry]:
        """History entries name a memory's successor in their metadata: hidden when unreadable."""
        rule = self.access.rule_for(p)
        named = {str(e.metadata["superseded_by"]) for e in entries if "superseded_by" in e.metadata}
        if rule.admin or not named:
            return entries
        visible = self._visible_ids(p.tenant_id, named, rule)
        return [e if str(e.metadata.get("superseded_by", "")) in visible or "superseded_by" not in e.metadata
                else e.model_copy(update={"metadata": {k: v for k, v in e.metadata.items()
                                                       if k != "superseded_by"}})
                for e in entries]

    def _owner_for_write(self, p: Principal, user_id: str | None) -> str:
        if p.kind == "admin":
            if user_id is None:
                raise InvalidInputError("an admin must name the user_id to write for")
            return user_id
        own = p.own_users()
        if user_id is None:
            if len(own) != 1:
                raise InvalidInputError("name the user_id: this agent acts for several users")
            return own[0]
        if user_id not in own:
            raise PermissionDeniedError(f"cannot write memories for user {user_id!r}")
        return user_id

    # -- memories ---------------------------------------------------------------------------

    def add(self, p: Principal, data: Any, *, user_id: str | None = None, session_id: str | None = None,
            visibility: str = "private", metadata: dict[str, Any] | None = None,
            timestamp: Any = None, idempotency_key: str | None = None, infer: bool = False) -> Added:
        if infer:
            self.memory.require_model()  # a server without a model says so before storing anything

        def run() -> Added:
            owner = self._owner_for_write(p, user_id)
            if visibility not in ("private", "shared"):
                raise InvalidInputError("visibility must be 'private' or 'shared'")
            scope = Scope(p.tenant_id, owner, p.id if p.kind == "agent" else None,
                          check_scope_value("session_id", session_id))
            check_scope_value("Idempotency-Key", idempotency_key)
            units = self.memory.writer.prepare(data, scope, visibility=visibility, timestamp=timestamp,
                                               metadata=check_metadata(metadata), source="api",
                                               idempotency_key=idempotency_key)
            # the server never holds a request for the model: extraction is queued, in the same
            # transaction, for the worker
            written, events = self.memory.writer.add(units, p.id, queue=QUEUE if infer else None)
            if infer and written:
                self.memory.wake_extraction()
            return Added([u.to_record() for u in written], events, queued=infer and bool(written))

        return self.audited(p, "memory.add", user_id, run, {"infer": infer} if infer else None)

    def extraction_status(self, p: Principal, user_id: str | None = None) -> ExtractionStatus:
        """Background extraction progress: an admin's of the tenant or a user, others' of their own."""
        def run() -> ExtractionStatus:
            owner = None if p.kind == "admin" and user_id is None else self._owner_for_write(p, user_id)
            return ExtractionStatus.of(self.store.job_counts(p.tenant_id, QUEUE, owner))

        return self.audited(p, "extraction.status", user_id, run)

    def search(self, p: Principal, query: str, *, limit: int = 10, filters: dict[str, Any] | None = None,
               session_id: str | None = None, reference_time: Any = None, as_of: Any = None,
               include_archived: bool = False, deep: bool = False) -> list[SearchHit]:
        llm = self.memory.llm if deep else None  # no model on the server: said before the search

        def run() -> list[SearchHit]:
            if not 1 <= limit <= 1000:
                raise InvalidInputError("limit must be between 1 and 1000")
            rule = self.access.rule_for(p)
            parsed = Filters.parse(filters)
            parsed.access = rule
            parsed.as_of = parse_timestamp(as_of, "as_of")
            parsed.include_archived = include_archived
            scope = Scope(p.tenant_id, session_id=check_scope_value("session_id", session_id))
            text = check_text(query, self.memory.config.max_text_chars, "query")
            retrieval = self.access.tenant_settings(p.tenant_id).retrieval(self.memory.config.retrieval)
            when = parse_timestamp(reference_time, "reference_time")
            if llm is not None:
                hits = deep_search(llm, text, lambda q, k: self.memory.retriever.search(
                    check_text(q, self.memory.config.max_text_chars, "query"), scope, parsed, k, when,
                    config=retrieval), limit)
            else:
                hits = self.memory.retriever.search(text, scope, parsed, limit, when, config=retrieval)
            return [h.model_copy(update={"memory": self.project(h.memory, rule)}) for h in hits]

        return self.audited(p, "memory.search", None, run, {"limit": limit, "deep": deep})

    def context(self, p: Principal, query: str, *, token_budget: int = 800,
                reference_time: Any = None) -> str:
        if token_budget < 16:
            raise InvalidInputError("token_budget must be at least 16")
        hits = self.search(p, query, limit=min(1000, max(10, token_budget // 8)),
                           reference_time=reference_time)
        return assemble(hits, token_budget)

    def answer(self, p: Principal, question: str, *, token_budget: int = 1500,
               reference_time: Any = None) -> Answer:
        """The model's answer from what this principal may read (the search is audited too)."""
        if not 64 <= token_budget <= 100_000:
            raise InvalidInputError("token_budget must be between 64 and 100000")
        llm = self.memory.llm  # before the search: a server without a model says so at once
        hits = self.search(p, question, limit=min(1000, max(20, token_budget // 8)),
                           reference_time=reference_time)
        day = reference_day(parse_timestamp(reference_time, "reference_time"))
        return self.audited(p, "memory.answer", None,
                             lambda: answer_from(llm, question, hits, token_budget, day))

    def get(self, p: Principal, memory_id: str) -> MemoryRecord:
        def run() -> MemoryRecord:
            memory, rule = self.readable_memory(p, memory_id)
            return self.project(memory.to_record(), rule)

        return self.audited(p, "memory.get", memory_id, run)

    def list_memories(self, p: Principal, *, user_id: str | None = None, session_id: str | None = None,
                      agent_id: str | None = None, filters: dict[str, Any] | None = None,
                      archived: bool | None = None, newest_first: bool = False,
                      cursor: str | None = None, limit: int = 100) -> Page:
        """`archived` None lists both; a cursor pages on in the order it was made in."""
        def run() -> Page:
            if not 1 <= limit <= 1000:
                raise InvalidInputError("limit must be between 1 and 1000")
            rule = self.access.rule_for(p)
            parsed = Filters.parse(filters)
            parsed.access = rule
            parsed.include_archived = True
            parsed.archived = archived
            scope = Scope(p.tenant_id, check_scope_value("user_id", user_id),
                          check_scope_value("agent_id", agent_id),
                          check_scope_value("session_id", session_id))
            rows = self.store.list_memories(scope, parsed, decode_cursor(cursor), limit + 1, newest_first)
            more = len(rows) > limit
            rows = rows[:limit]
            return Page(items=[self.project(r.to_record(), rule) for r in rows],
                        next_cursor=encode_cursor(rows[-1].seq) if more and rows[-1].seq else None)

        return self.audited(p, "memory.list", user_id, run)

    def update(self, p: Principal, memory_id: str, *, text: str | None = None,
               metadata: dict[str, Any] | None = None, importance: float | None = None,
               event_time: Any = None) -> MemoryRecord:
        def run() -> MemoryRecord:
            memory = self._writable(p, memory_id)
            changes = self.memory.writer.changes(memory, text=text, metadata=metadata,
                                                 importance=importance, event_time=event_time)
            return self.store.update(memory, changes, p.id).to_record()

        return self.audited(p, "memory.update", memory_id, run)

    def delete(self, p: Principal, memory_id: str) -> None:
        def run() -> None:
            memory = self._writable(p, memory_id)
            self.store.delete(memory, p.id)

        self.audited(p, "memory.delete", memory_id, run)

    def history(self, p: Principal, memory_id: str) -> list[HistoryEntry]:
        def run() -> list[HistoryEntry]:
            entries = self.store.history(p.tenant_id, memory_id)
            current = self.store.get(p.tenant_id, memory_id)
            allowed = p.kind == "admin" or (
                current is not None and readable(self.access.rule_for(p), [current])) or (
                current is None and bool(entries) and self._deleted_owner(memory_id, p))
            if not entries or not allowed:
                raise NotFoundError(f"no memory or history with id {memory_id!r}")
            return self._project_history(p, entries)

        return self.audited(p, "memory.history", memory_id, run)

    def chain(self, p: Principal, memory_id: str) -> list[MemoryRecord]:
        """A fact's versions, oldest first, as far as the caller may read them (an unreadable
        version is left out, never shown or hinted at)."""
        def run() -> list[MemoryRecord]:
            memory, rule = self.readable_memory(p, memory_id)
            return [self.project(m.to_record(), rule) for m in fact_chain(self.store, memory)
                    if readable(rule, [m])]

        return self.audited(p, "memory.chain", memory_id, run)

    def related(self, p: Principal, memory_id: str, limit: int = 10) -> list[RelatedMemory]:
        def run() -> list[RelatedMemory]:
            if not 1 <= limit <= 100:
                raise InvalidInputError("limit must be between 1 and 100")
            memory, rule = self.readable_memory(p, memory_id)
            found = related_memories(self.store, memory, limit, Filters(access=rule))
            return [r.model_copy(update={"memory": self.project(r.memory, rule)}) for r in found]

        return self.audited(p, "memory.related", memory_id, run)

    def _deleted_owner(self, memory_id: str, p: Principal) -> bool:
        owner = self.store.history_owner(p.tenant_id, memory_id)
        return owner is not None and owner in p.own_users()

    def erase(self, p: Principal, user_id: str) -> int:
        def run() -> int:
            if p.kind != "admin" and not (p.kind == "user" and p.id == user_id):
                raise PermissionDeniedError("only the user or a tenant admin may erase a user")
            return self.store.erase(Scope(p.tenant_id, check_scope_value("user_id", user_id)))

        return self.audited(p, "memory.erase", user_id, run)

    # -- lifecycle --------------------------------------------------------------------------

    def _own_user(self, p: Principal, user_id: str | None) -> Scope:
        """Lifecycle work runs on one user's memories: the caller's own (or, for admins, any)."""
        owner = self._owner_for_write(p, user_id)
        return Scope(p.tenant_id, check_scope_value("user_id", owner))

    def consolidate(self, p: Principal, user_id: str | None = None) -> ConsolidationReport:
        def run() -> ConsolidationReport:
            scope = self._own_user(p, user_id)
            config = self.memory.config
            return consolidate(self.store, self.memory.writer, scope, config.max_text_chars, config.topics)

        return self.audited(p, "lifecycle.consolidate", user_id, run)

    def archive_cold(self, p: Principal, user_id: str | None = None, threshold: float | None = None) -> int:
        """Archive a user's cold memories by the tenant's policy (threshold, half-life) unless
        the caller names a threshold."""
        def run() -> int:
            settings = self.access.tenant_settings(p.tenant_id)
            cut = threshold if threshold is not None else (
                settings.archive_threshold or DEFAULT_ARCHIVE_THRESHOLD)
            if not 0.0 < cut < 1.0:
                raise InvalidInputError("threshold must be between 0 and 1")
            scope = self._own_user(p, user_id)
            half_life = settings.retrieval(self.memory.config.retrieval).retention_half_life_days
            return archive_cold(self.store, scope, None, cut, half_life)

        return self.audited(p, "lifecycle.archive", user_id, run)

    def profile(self, p: Principal, user_id: str | None = None) -> dict[str, MemoryRecord]:
        """Current facts of a user the caller may read, each projected like any memory."""
        def run() -> dict[str, MemoryRecord]:
            rule = self.access.rule_for(p)
            owner = user_id or (p.own_users()[0] if len(p.own_users()) == 1 else None)
            if owner is None:
                raise InvalidInputError("name the user_id whose profile to read")
            facts = current_facts(self.store, Scope(p.tenant_id, check_scope_value("user_id", owner)))
            return {key: self.project(m.to_record(), rule) for key, m in facts.items()
                    if readable(rule, [m])}

        return self.audited(p, "lifecycle.profile", user_id, run)

    # -- administration ---------------------------------------------------------------------

    def settings(self, p: Principal) -> TenantSettings:
        """The tenant's lifecycle policy (admins only, like changing it)."""
        def run() -> TenantSettings:
            self._require_admin(p)
            return self.access.tenant_settings(p.tenant_id)

        return self.audited(p, "tenant.settings.read", p.tenant_id, run)

    def update_settings(self, p: Principal, settings: TenantSettings) -> TenantSettings:
        """Replace the tenant's lifecycle policy (admins only); unset fields use server defaults."""
        def run() -> TenantSettings:
            self._require_admin(p)
            self.access.set_tenant_settings(p.tenant_id, settings)
            return settings

        return self.audited(p, "tenant.settings.update", p.tenant_id, run,
                             settings.model_dump(exclude_none=True))

    def create_principal(self, p: Principal, kind: PrincipalKind, name: str,
                         acts_for: list[str] | None = None) -> Principal:
        def run() -> Principal:
            self._require_admin(p)
            return self.access.create_principal(p.tenant_id, kind, name, acts_for)

        return self.audited(p, "principal.create", name, run)

    def principals(self, p: Principal) -> list[Principal]:
        self._require_admin(p)
        return self.access.principals(p.tenant_id)

    def create_key(self, p: Principal, principal_id: str, expires_at: datetime | None = None) -> ApiKey:
        """Admins mint keys for anyone of their tenant; others only for themselves, expiring no
        later than the key they call with (by default, when it does)."""
        def run() -> ApiKey:
            target = self.access.principal(principal_id)
            if target is None or target.tenant_id != p.tenant_id:
                raise NotFoundError(f"no principal {principal_id!r}")
            if p.kind != "admin" and target.id != p.id:
                raise PermissionDeniedError("only admins create keys for others")
            expires = to_epoch(expires_at)
            if expires is not None and expires <= time.time():
                raise InvalidInputError("expires_at is in the past; give a future time or none")
            limit = to_epoch(p.key_expires_at) if p.kind != "admin" else None
            if limit is not None:
                if expires is None:
                    expires = limit
                elif expires > limit:
                    raise InvalidInputError(
                        f"expires_at is after the calling key's own expiry ({p.key_expires_at}); "
                        f"a key cannot outlive the key that made it")
            return self.access.create_key(target.id, expires)

        return self.audited(p, "key.create", principal_id, run)

    def keys(self, p: Principal) -> list[ApiKey]:
        """Admins see every key of the tenant; others their own (never the secrets)."""
        return self.audited(p, "key.list", None, lambda: self.access.keys(
            p.tenant_id, None if p.kind == "admin" else p.id))

    def revoke_key(self, p: Principal, key_id: str) -> None:
        """Admins revoke any key of the tenant; others their own."""
        def run() -> None:
            if p.kind != "admin" and key_id not in {k.id for k in self.access.keys(p.tenant_id, p.id)}:
                raise NotFoundError(f"no key {key_id!r} of yours")
            self.access.revoke_key(p.tenant_id, key_id)

        self.audited(p, "key.revoke", key_id, run)

    def create_grant(self, p: Principal, grant: Grant) -> Grant:
        def run() -> Grant:
            if p.kind == "agent":
                raise PermissionDeniedError("agents cannot grant access")
            owner = grant.owner
            if p.kind == "user":
                if owner not in (None, p.id):
                    raise PermissionDeniedError("users grant access to their own memories only")
                owner = p.id
            grantee = self.access.principal(grant.grantee)
            if grantee is None or grantee.tenant_id != p.tenant_id or grantee.kind == "admin":
                raise InvalidInputError(f"grantee {grant.grantee!r} is not a user or agent of this tenant")
            if grant.resource != "all" and not grant.value:
                raise InvalidInputError(f"a {grant.resource} grant needs a value")
            if grant.resource == "all" and grant.value is not None:
                raise InvalidInputError("an 'all' grant takes no value; use resource session, tag "
                                        "or namespace to narrow it")
            if grantee.id in (p.id, owner):
                raise InvalidInputError("a grant to oneself changes nothing; name another principal")
            if not grant.read and not grant.write:
                raise InvalidInputError("a grant must allow read, write or both")
            start, end = to_epoch(grant.valid_from), to_epoch(grant.valid_to)
            if start is not None and end is not None and end <= start:
                raise InvalidInputError("valid_to must be after valid_from")
            if end is not None and end <= time.time():
                raise InvalidInputError("valid_to is in the past; the grant would never apply")
            return self.access.create_grant(grant.model_copy(update={
                "tenant_id": p.tenant_id, "owner": owner, "created_by": p.id}))

        return self.audited(p, "grant.create", grant.grantee, run,
                             {"resource": grant.resource, "value": grant.value})

    def grants(self, p: Principal) -> list[Grant]:
        every = self.access.grants(p.tenant_id)
        if p.kind == "admin":
            return every
        return [g for g in every if p.id in (g.grantee, g.created_by, g.owner)]

    def revoke_grant(self, p: Principal, grant_id: str) -> None:
        def run() -> None:
            mine = [g for g in self.grants(p) if g.id == grant_id]
            if not mine or (p.kind != "admin" and mine[0].created_by != p.id):
                raise NotFoundError(f"no grant {grant_id!r} you can revoke")
            self.access.revoke_grant(p.tenant_id, grant_id)

        self.audited(p, "grant.revoke", grant_id, run)

    def audit_log(self, p: Principal, after_id: int = 0, limit: int = 100,
                  principal_id: str | None = None, action: str | None = None,
                  before_id: int | None = None, newest_first: bool = False) -> list[AuditEvent]:
        self._require_admin(p)
        return self.access.audit_log(p.tenant_id, after_id, limit, principal_id, action, before_id,
                                     newest_first)


def open_service(config: MemgridConfig) -> MemoryService:
    """The engine and the access tables on the same database (SQLite file or PostgreSQL)."""
    memory = Memory(config=config)
    access = AccessStore(sqlite_path=None if config.db_url else config.db_path(),
                         postgres_url=config.db_url, pool_size=config.pool_size)
    return MemoryService(memory, access)
