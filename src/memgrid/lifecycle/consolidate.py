"""Consolidation without an LLM: one derived `session` unit per conversation session, and topic
summaries across sessions (lifecycle.topics).

A session unit holds the session's turns as one transcript, so full-text search can match a
question whose words are spread over several turns (the coarse granularity that turn-level
units miss). It is derived, never a replacement: provenance lists every source turn, verbatim
turns stay as they are, and search uses session units only to rank sessions (their turns are
what it returns). `erase` removes session units too.

Incremental at two levels. A session or topic is rewritten only when its members changed (the
old unit is replaced; its history remains). And a run reads only what changed since the last
one (lifecycle.consolidation_state): nothing new costs a few aggregate queries; new memories, and
older ones updated without a change of text, cost their sessions and topics. A delete, an
edited text or an archived memory makes the run start over from every memory, as the first run
does. One run per scope at a time (Store.exclusive).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from memgrid.config import TopicConfig
from memgrid.lifecycle.consolidation_state import STATE_NAME, ConsolidationState, edited_since
from memgrid.lifecycle.reports import UnitCounts
from memgrid.lifecycle.topics import (
    TOPIC_KIND,
    Clustering,
    Topic,
    TopicReport,
    cluster,
    unit_vectors,
    write_topics,
)
from memgrid.models import Provenance, Scope, StoredMemory
from memgrid.storage.base import Digest, Store
from memgrid.validation import Filters
from memgrid.write.links import DERIVED_KINDS
from memgrid.write.pipeline import Writer
from memgrid.write.units import format_date, new_id

SESSION_KIND = "session"


@dataclass
class ConsolidationReport(UnitCounts):
    """Session units in the inherited counts; topic summaries in `topics`."""

    sessions: int = 0
    topics: TopicReport = field(default_factory=TopicReport)
    backfilled: int = 0  # memories without any link that this pass searched links for

    def counts(self) -> dict[str, int]:
        """Flat numbers for JSON surfaces (CLI --json, REST)."""
        t = self.topics
        return {"sessions": self.sessions, "created": self.created, "updated": self.updated,
                "unchanged": self.unchanged, "removed": self.removed, "topics": t.topics,
                "topics_created": t.created, "topics_updated": t.updated,
                "topics_unchanged": t.unchanged, "topics_removed": t.removed,
                "backfilled": self.backfilled}


def consolidate(store: Store, writer: Writer, scope: Scope, max_chars: int,
                topics: TopicConfig | None = None) -> ConsolidationReport:
    """Create or refresh the session units and topic summaries of one user (or agent) scope.
    One run per scope at a time: two at once would both write the same new units."""
    with store.exclusive(scope, STATE_NAME):
        return _consolidate(store, writer, scope, max_chars, topics or TopicConfig())


def _consolidate(store: Store, writer: Writer, scope: Scope, max_chars: int,
                 config: TopicConfig) -> ConsolidationReport:
    settings = json.dumps([config.model_dump(mode="json"), max_chars, writer.embedder.name])
    state = ConsolidationState.load(store.load_state(scope, STATE_NAME), settings)
    mark = store.history_mark(scope)  # before anything is read: later updates are seen next time
    sources = _sources()
    result: tuple[ConsolidationReport, ConsolidationState] | None = None
    if state is not None and state.derived == store.digest(scope, _derived(), None):
        if state.sources == store.digest(scope, sources, None):
            return _nothing_new(state)
        older = store.digest(scope, sources, state.sources.max_seq)
        edited = [] if older == state.sources else edited_since(store, scope, state, older, DERIVED_KINDS)
        if edited is not None:
            state.sources = older  # the edits' version bumps are now consolidated too
            result = _resume(store, writer, scope, max_chars, config, state, edited)
    report, state = result or _rebuild(store, writer, scope, max_chars, config, settings)
    store.tidy()  # the pass run after imports is where an import's index maintenance belongs
    state.derived = store.digest(scope, _derived(), None)
    state.history_mark = mark
    store.save_state(scope, STATE_NAME, state.dump())
    return report


def _list(store: Store, scope: Scope, after: int | None, filters: Filters) -> list[StoredMemory]:
    listed: list[StoredMemory] = []
    while page := store.list_memories(scope, filters, after, 1000):
        after = page[-1].seq
        listed.extend(page)
    return listed


def _sources() -> Filters:
    """The memories consolidation reads (every kind but its own units, archived included)."""
    return Filters(include_archived=True, exclude_kinds=DERIVED_KINDS)


def _derived() -> Filters:
    return Filters(include_archived=True, kinds=DERIVED_KINDS)


def _verbatim(memories: list[StoredMemory]) -> list[StoredMemory]:
    return [m for m in memories if m.provenance.method == "verbatim"]


def _nothing_new(state: ConsolidationState) -> ConsolidationReport:
    return ConsolidationReport(
        sessions=state.sessions, unchanged=state.sessions,
        topics=TopicReport(topics=state.topic_units, unchanged=state.topic_units))


def _rebuild(store: Store, writer: Writer, scope: Scope, max_chars: int, config: TopicConfig,
             settings: str) -> tuple[ConsolidationReport, ConsolidationState]:
    """Every memory of the scope, read once for sessions, link backfill and topics."""
    listed = _list(store, scope, None, Filters.everything())
    sources = [m for m in listed if m.kind not in DERIVED_KINDS]
    verbatim = _verbatim(sources)
    sessions: dict[str, list[StoredMemory]] = {}
    for m in verbatim:
        if m.scope.session_id is not None:
            sessions.setdefault(m.scope.session_id, []).append(m)
    existing, stale = _one_each(_units(listed, SESSION_KIND), lambda m: m.scope.session_id)
    report = ConsolidationReport(sessions=len(sessions), backfilled=writer.backfill_links(verbatim))
    _write_sessions(store, writer, scope, sessions, existing, max_chars, report)
    stale += [unit for session_id, unit in existing.items() if session_id not in sessions]
    for unit in stale:  # a session whose turns are all gone, or a duplicate
        store.delete(unit, "consolidate")
        report.removed += 1
    state = ConsolidationState(settings, Digest.of(sources), sessions=len(sessions))
    if not config.enabled:
        return report, state
    members = [m for m in verbatim if not m.archived]
    vectors = unit_vectors(store, writer, members)
    clustering = cluster(members, vectors, config)
    found = clustering.summarised()
    units, stale = _one_each(_units(listed, TOPIC_KIND), lambda m: m.metadata.get("seed"))
    state.keywords.add(members)
    report.topics = write_topics(store, writer, scope, found, {m.seq: m for m in members if m.seq},
                                 vectors, units, state.keywords, config, max_chars)
    for unit in stale + list(units.values()):  # its members moved or were deleted, or a duplicate
        store.delete(unit, "consolidate")
        report.topics.removed += 1
    report.topics.topics = state.topic_units = len(found)
    state.open_topics = clustering.open_topics()
    return report, state


def _units(memories: list[StoredMemory], kind: str) -> list[StoredMemory]:
    """Consolidate's own units of a kind (a caller may store memories of any kind)."""
    return [m for m in memories if m.kind == kind and m.provenance.source == "consolidate"
            and m.provenance.method == "derived"]


def _one_each(units: list[StoredMemory], key: Callable[[StoredMemory], Any],
              ) -> tuple[dict[Any, StoredMemory], list[StoredMemory]]:
    """The newest unit for each key, and the others: duplicates that two runs at once (before
    runs took a lock) or a crash between a write and a delete can leave."""
    newest: dict[Any, StoredMemory] = {}
    others: list[StoredMemory] = []
    for unit in units:  # in seq order
        if (k := key(unit)) in newest:
            others.append(newest[k])
        newest[k] = unit
    return newest, others


def _resume(store: Store, writer: Writer, scope: Scope, max_chars: int, config: TopicConfig,
            state: ConsolidationState, edited: list[StoredMemory],
            ) -> tuple[ConsolidationReport, ConsolidationState] | None:
    """Memories appended since the last run, and older ones updated in place (`edited`): their
    sessions, and the topics they join or belong to. None if what the state points to changed
    meanwhile (the caller starts over)."""
    # the units the last run wrote come after its sources: leave them out of the read
    sources = _list(store, scope, state.sources.max_seq, _sources())
    verbatim = _verbatim(sources)
    report = ConsolidationReport(backfilled=writer.backfill_links(verbatim))
    sessions: dict[str, list[StoredMemory]] = {}
    existing: dict[str | None, StoredMemory] = {}
    for session_id in dict.fromkeys(m.scope.session_id for m in verbatim + _verbatim(edited)):
        if session_id is None:
            continue
        rows = _list(store, Scope(scope.tenant_id, scope.user_id, scope.agent_id, session_id), None,
                     Filters.everything())
        sessions[session_id] = _verbatim([m for m in rows if m.kind not in DERIVED_KINDS])
        existing.update((m.scope.session_id, m) for m in _units(rows, SESSION_KIND))
    state.sessions += sum(1 for s in sessions if s not in existing)
    report.sessions = state.sessions
    report.unchanged = state.sessions - len(sessions)  # sessions with no new or edited turn
    _write_sessions(store, writer, scope, sessions, existing, max_chars, report)
    state.sources = state.sources + Digest.of(sources)
    if not config.enabled:
        return report, state
    topics = _resume_topics(store, writer, scope, max_chars, config, state, verbatim, edited)
    if topics is None:
        return None
    report.topics = topics
    return report, state


def _resume_topics(store: Store, writer: Writer, scope: Scope, max_chars: int, config: TopicConfig,
                   state: ConsolidationState, verbatim: list[StoredMemory],
                   edited: list[StoredMemory]) -> TopicReport | None:
    """New memories join the saved open topics; a topic holding an edited memory is rewritten
    (found in the state, or through the `member` link of its unit if it is full)."""
    members = [m for m in verbatim if not m.archived]
    vectors = unit_vectors(store, writer, members)
    clustering = Clustering(config, state.open_topics)
    in_open = {s: i for i, t in enumerate(clustering.topics) for s in t.seqs}
    joined = {clustering.add(m.seq, vectors[m.seq]) for m in members if m.seq in vectors}
    links = store.links([m.seq for m in edited if m.seq is not None])
    full_units: set[int] = set()
    for m in edited:
        topic_of = [other for other, _, kind in links.get(m.seq or -1, []) if kind == "member"]
        clustered = (m.seq in in_open) or bool(topic_of)
        if clustered != (m.provenance.method == "verbatim" and not m.archived):
            return None  # archived, or back from the archive: the clustering itself changes
        if m.seq in in_open:
            joined.add(in_open[m.seq])
        else:  # a full topic's (an open one's unit has member links too)
            full_units.update(topic_of)
    changed = clustering.summarised(joined)
    unit_members = {u: sorted(o for o, _, kind in edges if kind == "member")
                    for u, edges in store.links(sorted(full_units)).items()}
    known = {m.seq: m for m in members if m.seq is not None}
    wanted = {s for t in changed for s in t.seqs} | {s for seqs in unit_members.values() for s in seqs}
    known.update(store.get_by_seq(sorted(wanted - set(known))))
    if not wanted <= set(known):
        return None
    vectors.update(unit_vectors(store, writer, [known[s] for s in sorted(wanted - set(vectors))]))
    full_topics = store.get_by_seq(sorted(unit_members))
    units = {u.metadata["seed"]: u for u in full_topics.values() if isinstance(u.metadata.get("seed"), str)}
    for t in changed:  # open topics: their units are known by id only
        old = store.get(scope.tenant_id, t.unit) if t.unit is not None else None
        if old is not None and isinstance(old.metadata.get("seed"), str):
            units[old.metadata["seed"]] = old
    changed += [Topic.of(seqs, vectors, full_topics[u].id) for u, seqs in unit_members.items()
                if u in full_topics and seqs]
    state.keywords.add(members)
    report = write_topics(store, writer, scope, changed, known, vectors, units,
                          state.keywords, config, max_chars)
    state.topic_units += report.created
    report.topics = state.topic_units
    report.unchanged = state.topic_units - report.created - report.updated
    state.open_topics = clustering.open_topics()
    return report


def _transcript(turns: list[StoredMemory], max_chars: int) -> str:
    lines, used = [], 0
    for t in turns:
        line = f"{t.speaker or t.role or 'user'}: {t.text}"
        caption = t.metadata.get("caption")
        if isinstance(caption, str) and caption:
            line += f" [shared: {caption}]"
        if used + len(line) + 1 > max_chars:
            break  # a session longer than the text limit keeps its first part
        lines.append(line)
        used += len(line) + 1
    return "\n".join(lines)


def _write_sessions(store: Store, writer: Writer, scope: Scope, sessions: dict[str, list[StoredMemory]],
                    existing: dict[str | None, StoredMemory], max_chars: int,
                    report: ConsolidationReport) -> None:
    """Write the unit of each session whose turns changed, replacing its old one."""
    fresh: list[StoredMemory] = []
    for session_id, turns in sessions.items():
        turns.sort(key=lambda t: (t.position or 0, t.seq or 0))
        fingerprint = hashlib.sha256("\x1f".join(t.id + str(t.version) for t in turns).encode()).hexdigest()
        old = existing.get(session_id)
        if old is not None and old.metadata.get("fingerprint") == fingerprint:
            report.unchanged += 1
            continue
        first, last = turns[0], turns[-1]
        when = first.event_time if first.event_time is not None else first.created_at
        text = _transcript(turns, max_chars)
        metadata = {"fingerprint": fingerprint, "turns": len(turns),
                    "from": format_date(when), "to": format_date(last.event_time)}
        index = f"[{format_date(when)}] {text}"
        if old is not None:
            # provenance is immutable and the sources changed: replace the derived unit (its
            # history keeps the old version; verbatim turns are never touched)
            store.delete(old, "consolidate")
            report.updated += 1
        now = time.time()
        fresh.append(StoredMemory(
            id=new_id(), text=text, index_text=index, kind=SESSION_KIND,
            scope=Scope(scope.tenant_id, first.scope.user_id, first.scope.agent_id, session_id),
            # the transcript carries every turn's text: shared only if every turn is shared
            visibility="shared" if all(t.visibility == "shared" for t in turns) else "private",
            role="system", speaker=None,
            provenance=Provenance(writer=first.scope.user_id, source="consolidate", method="derived",
                                  source_ids=tuple(t.id for t in turns)),
            # the kind keeps it apart from a topic of the same turns (the same fingerprint)
            content_hash=f"{SESSION_KIND}:{fingerprint}",
            created_at=now, updated_at=now, event_time=when,
            metadata=metadata))
    writer.write(fresh, "consolidate")
    report.created = len(fresh) - report.updated
    report.units.extend(m.id for m in fresh)
