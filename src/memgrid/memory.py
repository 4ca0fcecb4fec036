"""`Memory`: the one public facade. Async callers use `AsyncMemory`, built from the same methods."""

from __future__ import annotations

import base64
import builtins
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from memgrid.config import MemgridConfig
from memgrid.embedders import create_embedder
from memgrid.errors import InvalidInputError, NotFoundError
from memgrid.lifecycle.archive import DEFAULT_ARCHIVE_THRESHOLD, archive_cold
from memgrid.lifecycle.consolidate import ConsolidationReport, consolidate
from memgrid.lifecycle.profile import current_facts, fact_chain
from memgrid.models import (
    HistoryEntry,
    MemoryRecord,
    Page,
    Provenance,
    RelatedMemory,
    Scope,
    SearchHit,
    Stats,
    StoredMemory,
)
from memgrid.read.assemble import assemble
from memgrid.read.pipeline import Retriever
from memgrid.read.related import related_memories
from memgrid.storage import Store, open_store
from memgrid.threads import in_thread
from memgrid.validation import (
    Filters,
    check_metadata,
    check_scope_value,
    check_text,
    parse_timestamp,
)
from memgrid.write.facts import NeverJudge
from memgrid.write.ingest import Message
from memgrid.write.pipeline import Writer
from memgrid.write.units import content_hash, index_text


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        kind, value = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        if kind != "seq":
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError):
        raise InvalidInputError("cursor is not one that list() returned; pass next_cursor as is") from None


class Memory:
    """Long-term memory for agents, embedded: `Memory()` or `Memory(path="./mem.db")`."""

    def __init__(self, path: str | Path | None = None, *, config: MemgridConfig | None = None) -> None:
        config = config or MemgridConfig()
        if path is not None:
            config = config.model_copy(update={"path": Path(path)})
        self.config = config
        self.tenant_id = check_scope_value("tenant_id", config.tenant_id) or "default"
        self.store: Store = open_store(config)
        try:
            self.embedder = create_embedder(config.embedder, config.home)
            self.store.bind_embedder(self.embedder.name, self.embedder.dims)
        except BaseException:
            self.store.close()
            raise
        self.writer = Writer(self.store, self.embedder, config.max_text_chars,
                             judge=None if config.supersession else NeverJudge(), links=config.links)
        self.retriever = Retriever(self.store, self.embedder, config.retrieval)

    # -- scope helpers ---------------------------------------------------------------------

    def _scope(self, user_id: str | None, agent_id: str | None, session_id: str | None,
               require: bool = True) -> Scope:
        scope = Scope(self.tenant_id, check_scope_value("user_id", user_id),
                      check_scope_value("agent_id", agent_id),
                      check_scope_value("session_id", session_id))
        if require and scope.user_id is None and scope.agent_id is None:
            raise InvalidInputError("pass user_id or agent_id: every memory belongs to someone")
        return scope

    def _get(self, memory_id: str) -> StoredMemory:
        check_scope_value("memory id", memory_id)
        memory = self.store.get(self.tenant_id, memory_id)
        if memory is None:
            raise NotFoundError(f"no memory with id {memory_id!r}")
        return memory

    # -- write -----------------------------------------------------------------------------

    def add(self, data: str | dict[str, Any] | list[Any], *, user_id: str | None = None,
            agent_id: str | None = None, session_id: str | None = None,
            visibility: str = "private", timestamp: Any = None,
            metadata: dict[str, Any] | None = None, kind: str = "message",
            source: str = "api") -> list[MemoryRecord]:
        """Store text or chat messages verbatim. Returns the new memories (exact repeats skipped)."""
        if visibility not in ("private", "shared"):
            raise InvalidInputError("visibility must be 'private' or 'shared'")
        scope = self._scope(user_id, agent_id, session_id)
        units = self.writer.prepare(data, scope, visibility=visibility, timestamp=timestamp,
                                    metadata=check_metadata(metadata), kind=kind, source=source)
        return [u.to_record() for u in self.writer.write(units, scope.user_id or scope.agent_id)]

    def update(self, memory_id: str, *, text: str | None = None,
               metadata: dict[str, Any] | None = None, importance: float | None = None,
               event_time: Any = None) -> MemoryRecord:
        """Change a memory in place; the previous version stays in history()."""
        memory = self._get(memory_id)
        changes = self.writer.changes(memory, text=text, metadata=metadata, importance=importance,
                                      event_time=event_time)
        return self.store.update(memory, changes, memory.scope.user_id).to_record()

    def delete(self, memory_id: str) -> None:
        """Remove a memory from search and listing; its versions stay in history() until erase()."""
        memory = self._get(memory_id)
        self.store.delete(memory, memory.scope.user_id)

    def erase(self, *, user_id: str | None = None, agent_id: str | None = None,
              session_id: str | None = None) -> int:
        """Remove every trace of a user (or agent/session): rows, full text, vectors, history."""
        scope = self._scope(user_id, agent_id, session_id, require=False)
        if scope.user_id is None and scope.agent_id is None and scope.session_id is None:
            raise InvalidInputError("erase() needs user_id, agent_id or session_id")
        return self.store.erase(scope)

    # -- read ------------------------------------------------------------------------------

    def get(self, memory_id: str) -> MemoryRecord:
        return self._get(memory_id).to_record()

    def search(self, query: str, *, user_id: str | None = None, agent_id: str | None = None,
               session_id: str | None = None, filters: dict[str, Any] | None = None,
               limit: int = 10, reference_time: Any = None, as_of: Any = None,
               include_archived: bool = False) -> list[SearchHit]:
        """Hybrid recall (dense, BM25, entity, time) fused; each hit explains its channel ranks.
        Current facts rank above the ones they superseded; `as_of=T` returns what was true at T;
        archived (cold) memories join only with `include_archived=True`."""
        query = check_text(query, self.config.max_text_chars, "query")
        if not 1 <= limit <= 1000:
            raise InvalidInputError("limit must be between 1 and 1000")
        scope = self._scope(user_id, agent_id, session_id)
        parsed = Filters.parse(filters)
        parsed.as_of = parse_timestamp(as_of, "as_of")
        parsed.include_archived = include_archived
        return self.retriever.search(query, scope, parsed, limit,
                                     parse_timestamp(reference_time, "reference_time"))

    def context(self, query: str, *, user_id: str | None = None, agent_id: str | None = None,
                session_id: str | None = None, filters: dict[str, Any] | None = None,
                token_budget: int = 800, reference_time: Any = None) -> str:
        """Prompt-ready memories for `query`, within `token_budget`, oldest first, with ids."""
        if token_budget < 16:
            raise InvalidInputError("token_budget must be at least 16")
        hits = self.search(query, user_id=user_id, agent_id=agent_id, session_id=session_id,
                           filters=filters, limit=min(1000, max(10, token_budget // 8)),
                           reference_time=reference_time)
        return assemble(hits, token_budget)

    def list(self, *, user_id: str | None = None, agent_id: str | None = None,
             session_id: str | None = None, filters: dict[str, Any] | None = None,
             cursor: str | None = None, limit: int = 100) -> Page:
        """Memories in insertion order, a page at a time (pass next_cursor back for more)."""
        if not 1 <= limit <= 10_000:
            raise InvalidInputError("limit must be between 1 and 10000")
        scope = self._scope(user_id, agent_id, session_id)
        parsed = Filters.parse(filters)
        parsed.include_archived = True  # a listing shows every memory; records say if archived
        rows = self.store.list_memories(scope, parsed, decode_cursor(cursor), limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].seq) if more and rows[-1].seq is not None else None
        return Page(items=[r.to_record() for r in rows], next_cursor=next_cursor)

    def profile(self, *, user_id: str) -> dict[str, MemoryRecord]:
        """Core memory: every fact currently true about the user and the people they talk about,
        keyed "<subject>|<attribute>", each the verbatim memory that states it."""
        facts = current_facts(self.store, self._scope(user_id, None, None))
        return {key: m.to_record() for key, m in facts.items()}

    def consolidate(self, *, user_id: str | None = None,
                    agent_id: str | None = None) -> ConsolidationReport:
        """Build or refresh the derived session units and topic summaries of a user (incremental:
        only sessions and topics whose members changed are rewritten). Run it after imports or
        periodically; search then ranks sessions by their whole transcript as well as by single
        turns. Topic summaries are listed with kind "topic" and dereference to their members."""
        scope = self._scope(user_id, agent_id, None)
        return consolidate(self.store, self.writer, scope, self.config.max_text_chars, self.config.topics)

    def chain(self, memory_id: str) -> builtins.list[MemoryRecord]:
        """A fact's versions across memories, oldest first: what it superseded and what replaced it."""
        return [m.to_record() for m in fact_chain(self.store, self._get(memory_id))]

    def related(self, memory_id: str, *, limit: int = 10) -> builtins.list[RelatedMemory]:
        """Memories linked to this one on write: nearest in meaning and naming the same things."""
        if not 1 <= limit <= 100:
            raise InvalidInputError("limit must be between 1 and 100")
        return related_memories(self.store, self._get(memory_id), limit, Filters())

    def archive_cold(self, *, user_id: str | None = None, threshold: float = DEFAULT_ARCHIVE_THRESHOLD,
                     half_life_days: float | None = None, now: Any = None) -> int:
        """Move memories whose retention fell below `threshold` to the archive tier. They stay
        stored, listed and searchable with include_archived=True; nothing is deleted."""
        if not 0.0 < threshold < 1.0:
            raise InvalidInputError("threshold must be between 0 and 1")
        scope = self._scope(user_id, None, None, require=False)
        at = parse_timestamp(now, "now") or time.time()
        half_life = half_life_days or self.config.retrieval.retention_half_life_days
        return archive_cold(self.store, scope, at, threshold, half_life)

    def history(self, memory_id: str) -> builtins.list[HistoryEntry]:
        entries = self.store.history(self.tenant_id, memory_id)
        if not entries:
            raise NotFoundError(f"no memory or history with id {memory_id!r}")
        return entries

    def stats(self, *, user_id: str | None = None) -> Stats:
        scope = self._scope(user_id, None, None, require=False)
        return Stats(**self.store.stats(scope))

    # -- bulk ------------------------------------------------------------------------------

    def export(self, *, user_id: str | None = None, agent_id: str | None = None) -> Iterator[MemoryRecord]:
        """Every memory of a scope (or the whole tenant when none is given), in insertion order."""
        scope = self._scope(user_id, agent_id, None, require=False)
        after: int | None = None
        while True:
            rows = self.store.list_memories(scope, Filters.everything(), after, 1000)
            yield from (r.to_record() for r in rows)
            if len(rows) < 1000:
                return
            after = rows[-1].seq

    def import_records(self, records: Iterable[dict[str, Any] | MemoryRecord],
                       batch_size: int = 512) -> int:
        """Load exported memories, keeping ids, times and provenance; skips ones already here."""
        added = 0
        batch: builtins.list[StoredMemory] = []
        for raw in records:
            batch.append(self._from_record(raw))
            if len(batch) >= batch_size:
                added += self._import_batch(batch)
                batch = []
        return added + self._import_batch(batch)

    def _from_record(self, raw: dict[str, Any] | MemoryRecord) -> StoredMemory:
        try:
            record = raw if isinstance(raw, MemoryRecord) else MemoryRecord.model_validate(
                {"tenant_id": self.tenant_id, **raw})
        except ValueError as exc:
            raise InvalidInputError(f"not an exported memory record: {exc}") from None
        scope = self._scope(record.user_id, record.agent_id, record.session_id)
        text = check_text(record.text, self.config.max_text_chars)
        message = Message(content=text, role=record.role or "user", speaker=record.speaker,
                          kind=record.kind, metadata=check_metadata(record.metadata))
        when = record.event_time.timestamp() if record.event_time else None
        return StoredMemory(
            id=record.id, text=text, index_text=index_text(message, when), kind=record.kind,
            scope=scope, visibility=record.visibility, role=record.role, speaker=record.speaker,
            provenance=Provenance(**{**record.provenance.model_dump(), "source": "import"}),
            content_hash=content_hash(message, scope, when),
            created_at=record.created_at.timestamp(), updated_at=time.time(), event_time=when,
            valid_from=record.valid_from.timestamp() if record.valid_from else None,
            valid_to=record.valid_to.timestamp() if record.valid_to else None,
            version=record.version, supersedes=record.supersedes, superseded_by=record.superseded_by,
            importance=record.importance, metadata=message.metadata, keywords=record.keywords,
            entities=record.entities, position=record.position,
        )

    def _import_batch(self, batch: builtins.list[StoredMemory]) -> int:
        fresh = [m for m in batch if self.store.get(self.tenant_id, m.id) is None]
        by_scope: dict[tuple[str | None, ...], builtins.list[StoredMemory]] = {}
        for m in fresh:
            by_scope.setdefault((m.scope.user_id, m.scope.agent_id, m.scope.session_id), []).append(m)
        keep: builtins.list[StoredMemory] = []
        for group in by_scope.values():
            known = self.store.existing_hashes(group[0].scope, [m.content_hash for m in group])
            keep.extend(m for m in group if m.content_hash not in known)
        return len(self.writer.write(keep, "import", keep_positions=True))

    # -- lifecycle -------------------------------------------------------------------------

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> Memory:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()




class AsyncMemory:
    """The same engine for asyncio code: each call runs the sync method in a worker thread."""

    def __init__(self, path: str | Path | None = None, *, config: MemgridConfig | None = None) -> None:
        self.sync = Memory(path, config=config)

    add = in_thread(Memory.add)
    update = in_thread(Memory.update)
    delete = in_thread(Memory.delete)
    erase = in_thread(Memory.erase)
    get = in_thread(Memory.get)
    search = in_thread(Memory.search)
    context = in_thread(Memory.context)
    list = in_thread(Memory.list)
    history = in_thread(Memory.history)
    chain = in_thread(Memory.chain)
    related = in_thread(Memory.related)
    profile = in_thread(Memory.profile)
    consolidate = in_thread(Memory.consolidate)
    archive_cold = in_thread(Memory.archive_cold)
    stats = in_thread(Memory.stats)
    close = in_thread(Memory.close)
