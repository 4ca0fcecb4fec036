"""`Memory`: the one public facade. Async callers use `AsyncMemory`, built from the same methods."""

from __future__ import annotations

import base64
import builtins
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from memgrid.config import MemgridConfig
from memgrid.embedders import create_embedder
from memgrid.errors import InvalidInputError, LLMError, NoModelError, NotFoundError
from memgrid.lifecycle.archive import DEFAULT_ARCHIVE_THRESHOLD, archive_cold
from memgrid.lifecycle.consolidate import ConsolidationReport, consolidate
from memgrid.lifecycle.profile import current_facts, fact_chain
from memgrid.llm.answer import Answer, answer_from, reference_day
from memgrid.llm.background import QUEUE, ExtractionStatus, ExtractionWorker, WorkerPolicy
from memgrid.llm.client import LLMClient
from memgrid.llm.deep import deep_search
from memgrid.llm.fact_reader import ModelFactReader
from memgrid.llm.infer import infer_facts
from memgrid.llm.judge import ModelFactJudge
from memgrid.llm.procedures import learn
from memgrid.models import (
    Added,
    ExportedLink,
    ExportedMemory,
    FactEvent,
    HistoryEntry,
    MemoryRecord,
    Owner,
    Page,
    RelatedMemory,
    Scope,
    SearchHit,
    Stats,
    StoredMemory,
    to_datetime,
)
from memgrid.read.assemble import assemble
from memgrid.read.pipeline import Retriever
from memgrid.read.related import related_memories
from memgrid.storage import Store, open_store
from memgrid.storage.base import Link
from memgrid.threads import in_thread
from memgrid.validation import (
    Filters,
    check_bool,
    check_int,
    check_metadata,
    check_scope_value,
    check_text,
    parse_timestamp,
)
from memgrid.write.ingest import Message
from memgrid.write.judges import FactJudge, NeverJudge
from memgrid.write.pipeline import Writer
from memgrid.write.units import content_hash, index_text


def _epoch(value: datetime | None) -> float | None:
    return None if value is None else value.timestamp()


def encode_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"seq:{seq}".encode()).decode()


def decode_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    try:
        if not isinstance(cursor, str):
            raise ValueError
        kind, value = base64.urlsafe_b64decode(cursor.encode()).decode().split(":")
        if kind != "seq" or not 0 <= int(value) < 2**63:
            raise ValueError
        return int(value)
    except (ValueError, UnicodeError):
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
        self._llm: LLMClient | None = None
        self._llm_lock = threading.Lock()
        judge: FactJudge | None = None
        if not config.supersession:
            judge = NeverJudge()
        elif config.fact_judge == "model":
            if not config.llm.enabled:
                self.store.close()
                raise NoModelError("fact_judge='model' needs a model: set MEMGRID_LLM_BASE_URL or "
                                   "MemgridConfig.llm, or use fact_judge='values'")
            judge = ModelFactJudge(lambda: self.llm)
        # with the model as judge it also reads what the zero-LLM detector could not
        reader = ModelFactReader(lambda: self.llm) if config.fact_judge == "model" else None
        self.writer = Writer(self.store, self.embedder, config.max_text_chars, judge=judge,
                             links=config.links, reader=reader)
        self.retriever = Retriever(self.store, self.embedder, config.retrieval)
        self._worker: ExtractionWorker | None = None
        if config.llm.enabled and config.extraction_worker:
            due = self.store.job_counts(None, QUEUE)
            if due.pending or due.running:  # left by a process that stopped or crashed: resume
                self._extractions().start()

    @property
    def llm(self) -> LLMClient:
        """The model of `config.llm`, made on first use. Nothing on the zero-LLM path asks for it."""
        self.require_model()
        with self._llm_lock:  # the extraction worker may ask at the same moment: one client
            if self._llm is None:
                self._llm = LLMClient(self.config.llm, self.config.home / "models")
            return self._llm

    def require_model(self) -> None:
        """NoModelError unless a model is configured; starts nothing (a packaged local model
        loads on first use, by whoever runs the work)."""
        if not self.config.llm.enabled:
            raise NoModelError(
                "this needs a model: set MEMGRID_LLM_BASE_URL (an OpenAI-compatible endpoint such "
                "as http://127.0.0.1:8080/v1, or 'local' for the packaged one) or MemgridConfig.llm")

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
            source: str = "api", idempotency_key: str | None = None, infer: bool = False,
            background: bool = False) -> Added:
        """Store text or chat messages verbatim. Returns the new memories (exact repeats
        skipped), with `.events`: per input message ADD, UPDATE (it superseded a fact) or NONE.
        Pass the same `idempotency_key` when retrying an add that may have been stored.
        `infer=True` (needs a model) also extracts facts about the user from the user's turns
        and decides each against their current facts; `.facts` says what became of each. With
        `background=True` as well, the turns are queued for extraction in the transaction that
        stores them and `add` returns at once (`.queued`); `extraction_status()` tells progress."""
        if visibility not in ("private", "shared"):
            raise InvalidInputError("visibility must be 'private' or 'shared'")
        check_scope_value("kind", kind)
        check_scope_value("source", source)
        scope = self._scope(user_id, agent_id, session_id)
        check_scope_value("idempotency_key", idempotency_key)
        units = self.writer.prepare(data, scope, visibility=visibility, timestamp=timestamp,
                                    metadata=check_metadata(metadata), kind=kind, source=source,
                                    idempotency_key=idempotency_key)
        check_bool(infer, "infer")
        check_bool(background, "background")
        if background and not infer:
            raise InvalidInputError("background=True queues fact extraction: pass infer=True too")
        # no model configured: refused before anything is stored; queued work needs none loaded here
        if background:
            self.require_model()
        llm = self.llm if infer and not background else None
        written, events = self.writer.add(units, scope.user_id or scope.agent_id,
                                          queue=QUEUE if background else None)
        if background:
            if written:
                self.wake_extraction()
            return Added([u.to_record() for u in written], events, queued=bool(written))
        facts: builtins.list[FactEvent] = []
        if llm is not None:
            try:
                facts = infer_facts(self, written, scope.user_id or scope.agent_id)
            except LLMError as exc:
                raise LLMError(f"the turns are stored ({', '.join(u.id for u in written) or 'repeats'}); "
                               f"fact extraction failed: {exc}") from exc
        return Added([u.to_record() for u in written], events, facts)

    def _extractions(self) -> ExtractionWorker:
        if self._worker is None:
            self._worker = ExtractionWorker(self, WorkerPolicy(lease_s=self.config.extraction_lease_s))
        return self._worker

    def wake_extraction(self) -> None:
        """Work was queued: this process's worker (if it runs one) starts on it now."""
        if self.config.extraction_worker:
            worker = self._extractions()
            worker.start()
            worker.wake()

    def extraction_status(self, *, user_id: str | None = None) -> ExtractionStatus:
        """Progress of background fact extraction in this tenant (or for one user)."""
        counts = self.store.job_counts(self.tenant_id, QUEUE, check_scope_value("user_id", user_id))
        return ExtractionStatus.of(counts)

    def drain_extractions(self, *, max_jobs: int | None = None) -> ExtractionStatus:
        """Run the store's queued fact extraction (every tenant's) in this thread until none is
        due (or `max_jobs` ran): for scripts, and for a worker process when
        `extraction_worker=False`. Needs a model. Returns this tenant's progress."""
        if max_jobs is not None:
            check_int(max_jobs, "max_jobs", 1, 10**9)
        self.require_model()  # said before any job is claimed
        self._extractions().drain(max_jobs)
        return self.extraction_status()

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
              session_id: str | None = None, all_owners: bool = False) -> int:
        """Remove every trace of a user (or agent, or one owner's session): rows, full text,
        vectors, history. A session id alone names that session of every owner (imports give
        each conversation `session_1`...), so it needs `all_owners=True`."""
        scope = self._erase_scope(user_id, agent_id, session_id, all_owners)
        return self.store.erase(scope)

    def erase_preview(self, *, user_id: str | None = None, agent_id: str | None = None,
                      session_id: str | None = None, all_owners: bool = False) -> builtins.list[Owner]:
        """What erase() with the same arguments would remove: each owner and its memory count."""
        return self._owners(self._erase_scope(user_id, agent_id, session_id, all_owners))

    def _erase_scope(self, user_id: str | None, agent_id: str | None, session_id: str | None,
                     all_owners: bool) -> Scope:
        scope = self._scope(user_id, agent_id, session_id, require=False)
        if scope.user_id is None and scope.agent_id is None:
            if scope.session_id is None:
                raise InvalidInputError("erase() needs user_id, agent_id or session_id")
            if not all_owners:
                raise InvalidInputError(
                    f"session {scope.session_id!r} may exist for several users: pass user_id or "
                    f"agent_id, or all_owners=True to erase it for every owner")
        return scope

    def users(self) -> builtins.list[Owner]:
        """Every user and agent with memories here, with counts."""
        return self._owners(Scope(self.tenant_id))

    def _owners(self, scope: Scope) -> builtins.list[Owner]:
        return [Owner(user_id=u, agent_id=a, memories=n, sessions=s, latest=to_datetime(t))
                for u, a, n, s, t in self.store.owners(scope)]

    def find_id(self, prefix: str) -> str:
        """The one memory id (stored, or deleted with its history kept) starting with `prefix`:
        tables show ids shortened."""
        if check_scope_value("memory id", prefix) is None:
            raise InvalidInputError("give a memory id (or a unique prefix of one)")
        found = self.store.ids_with_prefix(self.tenant_id, prefix)
        if not found:
            raise NotFoundError(f"no memory with id {prefix!r}")
        if len(found) > 1 and prefix not in found:
            raise InvalidInputError(f"id prefix {prefix!r} matches several memories; give more of it")
        return prefix if prefix in found else found[0]

    # -- read ------------------------------------------------------------------------------

    def get(self, memory_id: str) -> MemoryRecord:
        return self._get(memory_id).to_record()

    def search(self, query: str, *, user_id: str | None = None, agent_id: str | None = None,
               session_id: str | None = None, filters: dict[str, Any] | None = None,
               limit: int = 10, reference_time: Any = None, as_of: Any = None,
               include_archived: bool = False, deep: bool = False) -> list[SearchHit]:
        """Hybrid recall (dense, BM25, entity, time) fused; each hit explains its channel ranks.
        Current facts rank above the ones they superseded; `as_of=T` returns what was true at T;
        archived (cold) memories join only with `include_archived=True`. `deep=True` (needs a
        model) splits a multi-hop question into searches and has the model rerank the top."""
        query = check_text(query, self.config.max_text_chars, "query")
        check_int(limit, "limit", 1, 1000)
        scope = self._scope(user_id, agent_id, session_id)
        parsed = Filters.parse(filters)
        parsed.as_of = parse_timestamp(as_of, "as_of")
        parsed.include_archived = check_bool(include_archived, "include_archived")
        when = parse_timestamp(reference_time, "reference_time")
        if check_bool(deep, "deep"):
            return deep_search(self.llm, query, lambda text, k: self.retriever.search(
                check_text(text, self.config.max_text_chars, "query"), scope, parsed, k, when), limit)
        return self.retriever.search(query, scope, parsed, limit, when)

    def context(self, query: str, *, user_id: str | None = None, agent_id: str | None = None,
                session_id: str | None = None, filters: dict[str, Any] | None = None,
                token_budget: int = 800, reference_time: Any = None) -> str:
        """Prompt-ready memories for `query`, within `token_budget`, oldest first, with ids."""
        check_int(token_budget, "token_budget", 16, 100_000)
        hits = self.search(query, user_id=user_id, agent_id=agent_id, session_id=session_id,
                           filters=filters, limit=min(1000, max(10, token_budget // 8)),
                           reference_time=reference_time)
        return assemble(hits, token_budget)

    def list(self, *, user_id: str | None = None, agent_id: str | None = None,
             session_id: str | None = None, filters: dict[str, Any] | None = None,
             cursor: str | None = None, limit: int = 100) -> Page:
        """Memories in insertion order, a page at a time (pass next_cursor back for more)."""
        check_int(limit, "limit", 1, 10_000)
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
        check_int(limit, "limit", 1, 100)
        return related_memories(self.store, self._get(memory_id), limit, Filters())

    def archive_cold(self, *, user_id: str | None = None, threshold: float = DEFAULT_ARCHIVE_THRESHOLD,
                     half_life_days: float | None = None, now: Any = None) -> int:
        """Move memories whose retention fell below `threshold` to the archive tier. They stay
        stored, listed and searchable with include_archived=True; nothing is deleted."""
        if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0.0 < threshold < 1.0:
            raise InvalidInputError("threshold must be a number between 0 and 1")
        if half_life_days is not None and (isinstance(half_life_days, bool) or not isinstance(
                half_life_days, int | float) or not 0 < half_life_days <= 36_500):
            raise InvalidInputError("half_life_days must be a number of days in (0, 36500]")
        scope = self._scope(user_id, None, None, require=False)
        at = parse_timestamp(now, "now")  # None: the user's own clock
        half_life = half_life_days or self.config.retrieval.retention_half_life_days
        return archive_cold(self.store, scope, at, threshold, half_life)

    def history(self, memory_id: str) -> builtins.list[HistoryEntry]:
        check_scope_value("memory id", memory_id)
        entries = self.store.history(self.tenant_id, memory_id)
        if not entries:
            raise NotFoundError(f"no memory or history with id {memory_id!r}")
        return entries

    def stats(self, *, user_id: str | None = None) -> Stats:
        scope = self._scope(user_id, None, None, require=False)
        return Stats(**self.store.stats(scope))

    # -- bulk ------------------------------------------------------------------------------

    def export(self, *, user_id: str | None = None,
               agent_id: str | None = None) -> Iterator[ExportedMemory]:
        """Every memory of a scope (or the whole tenant when none is given), in insertion order,
        with its versions and outgoing links: `import_records` rebuilds it exactly."""
        scope = self._scope(user_id, agent_id, None, require=False)
        after: int | None = None
        while True:
            rows = self.store.list_memories(scope, Filters.everything(), after, 1000)
            yield from self._exported(rows)
            if len(rows) < 1000:
                return
            after = rows[-1].seq

    def _exported(self, rows: builtins.list[StoredMemory]) -> Iterator[ExportedMemory]:
        histories = self.store.histories(self.tenant_id, [m.id for m in rows])
        edges = self.store.out_links([m.seq for m in rows if m.seq is not None])
        ids = {m.seq: m.id for m in rows}
        others = {dst for found in edges.values() for dst, _, _ in found} - set(ids)
        ids.update({seq: m.id for seq, m in self.store.get_by_seq(sorted(others)).items()})
        for m in rows:
            links = [ExportedLink(to=ids[dst], kind=kind, weight=weight)
                     for dst, weight, kind in edges.get(m.seq or -1, []) if dst in ids]
            yield ExportedMemory.model_validate({
                **m.record_fields(), "index_text": m.index_text, "content_hash": m.content_hash,
                "history": histories.get(m.id, []), "links": links})

    def import_records(self, records: Iterable[dict[str, Any] | MemoryRecord],
                       batch_size: int = 512) -> int:
        check_int(batch_size, "batch_size", 1, 100_000)
        """Load exported memories exactly as they were (ids, times, provenance, facts, versions,
        links, supersession); skips ones already here. All lines are checked before any is
        written, so a bad line changes nothing."""
        if isinstance(records, str | bytes | dict) or not isinstance(records, Iterable):
            raise InvalidInputError("import_records takes a list (or iterable) of exported records")
        parsed = [self._from_record(raw) for raw in records]
        added: builtins.list[StoredMemory] = []
        for start in range(0, len(parsed), batch_size):
            added += self._import_batch(parsed[start : start + batch_size])
        self._import_links(parsed, added)
        return len(added)

    def _from_record(self, raw: dict[str, Any] | MemoryRecord) -> ExportedMemory:
        try:
            if isinstance(raw, ExportedMemory):
                record = raw
            else:
                fields = raw.model_dump() if isinstance(raw, MemoryRecord) else raw
                if not isinstance(fields, dict):
                    raise InvalidInputError(
                        f"each import line must be a JSON object, not {type(fields).__name__}")
                record = ExportedMemory.model_validate({**fields, "tenant_id": self.tenant_id})
        except ValueError as exc:
            if isinstance(exc, InvalidInputError):
                raise
            raise InvalidInputError(f"not an exported memory record: {exc}") from None
        self._scope(record.user_id, record.agent_id, record.session_id)
        check_scope_value("memory id", record.id)
        check_text(record.text, self.config.max_text_chars)
        check_metadata(record.metadata)
        return record

    def _import_batch(self, batch: builtins.list[ExportedMemory]) -> builtins.list[StoredMemory]:
        units = [self._to_stored(r) for r in batch if self.store.get(self.tenant_id, r.id) is None]
        history = {r.id: r.history for r in batch if r.history}
        return self.writer.restore(units, history)

    def _to_stored(self, record: ExportedMemory) -> StoredMemory:
        scope = Scope(self.tenant_id, record.user_id, record.agent_id, record.session_id)
        message = Message(content=record.text, role=record.role or "user", speaker=record.speaker,
                          kind=record.kind, metadata=record.metadata)
        when = _epoch(record.event_time)
        return StoredMemory(
            id=record.id, text=record.text,
            index_text=record.index_text or index_text(message, when), kind=record.kind,
            scope=scope, visibility=record.visibility, role=record.role, speaker=record.speaker,
            provenance=record.provenance,
            content_hash=record.content_hash or content_hash(message, scope, when),
            created_at=record.created_at.timestamp(), updated_at=record.updated_at.timestamp(),
            event_time=when, valid_from=_epoch(record.valid_from), valid_to=_epoch(record.valid_to),
            version=record.version, supersedes=record.supersedes, superseded_by=record.superseded_by,
            importance=record.importance, access_count=record.access_count,
            last_accessed_at=_epoch(record.last_accessed_at), metadata=dict(record.metadata),
            keywords=list(record.keywords), entities=list(record.entities), position=record.position,
            fact_key=record.fact_key, fact_value=record.fact_value,
            mentioned_from=_epoch(record.mentioned_from), mentioned_to=_epoch(record.mentioned_to),
            archived=record.archived,
        )

    def _import_links(self, records: builtins.list[ExportedMemory],
                      added: builtins.list[StoredMemory]) -> None:
        """Links of the imported memories, once every end of them is stored."""
        fresh = {m.id: m for m in added}
        seqs: dict[str, int | None] = {m.id: m.seq for m in added}
        links: builtins.list[Link] = []
        for record in records:
            src = fresh.get(record.id)
            for link in record.links if src is not None else []:
                if link.to not in seqs:
                    found = self.store.get(self.tenant_id, link.to)
                    seqs[link.to] = None if found is None else found.seq
                dst = seqs[link.to]
                if src is not None and dst is not None:
                    links.append(Link(src, dst, link.kind, link.weight))
        if links:
            self.store.add_links(links)

    # -- lifecycle -------------------------------------------------------------------------

    # -- with a model (config.llm) ---------------------------------------------------------

    def answer(self, question: str, *, user_id: str | None = None, agent_id: str | None = None,
               session_id: str | None = None, filters: dict[str, Any] | None = None,
               token_budget: int = 1500, reference_time: Any = None, as_of: Any = None) -> Answer:
        """The model's answer to `question` from the memories search finds (within
        `token_budget`), citing their ids; "I don't know" when they do not hold it."""
        check_int(token_budget, "token_budget", 64, 100_000)
        hits = self.search(question, user_id=user_id, agent_id=agent_id, session_id=session_id,
                           filters=filters, limit=min(1000, max(20, token_budget // 8)),
                           reference_time=reference_time, as_of=as_of)
        when = parse_timestamp(as_of, "as_of") or parse_timestamp(reference_time, "reference_time")
        return answer_from(self.llm, question, hits, token_budget, reference_day(when))

    def learn(self, task: str, trajectory: str | builtins.list[Any], outcome: str, *,
              user_id: str | None = None, agent_id: str | None = None,
              distill: bool | None = None) -> builtins.list[MemoryRecord]:
        """Remember how a task went (`outcome` "success" or "failure"). The trajectory is kept
        verbatim; with a model (the default when one is configured; `distill=False` to skip it)
        strategy items are distilled from it as "procedure" memories pointing at it."""
        return learn(self, task, trajectory, outcome, user_id=user_id, agent_id=agent_id, distill=distill)

    def strategies(self, task: str, *, user_id: str | None = None, agent_id: str | None = None,
                   limit: int = 5) -> builtins.list[SearchHit]:
        """What was learned on similar tasks ("procedure" memories), best first."""
        return self.search(task, user_id=user_id, agent_id=agent_id, filters={"kind": "procedure"},
                           limit=limit)

    def close(self) -> None:
        """Stop the extraction worker after the job in hand (the rest stays queued), then close."""
        if self._worker is not None:
            self._worker.stop()
        if self._llm is not None:
            self._llm.close()
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
    users = in_thread(Memory.users)
    import_records = in_thread(Memory.import_records)
    stats = in_thread(Memory.stats)
    answer = in_thread(Memory.answer)
    learn = in_thread(Memory.learn)
    strategies = in_thread(Memory.strategies)
    extraction_status = in_thread(Memory.extraction_status)
    drain_extractions = in_thread(Memory.drain_extractions)
    close = in_thread(Memory.close)
