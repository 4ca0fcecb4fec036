"""Consolidation without an LLM: one derived `session` unit per conversation session, and topic
summaries across sessions (lifecycle.topics).

A session unit holds the session's turns as one transcript, so full-text search can match a
question whose words are spread over several turns (the coarse granularity that turn-level
units miss). It is derived, never a replacement: provenance lists every source turn, verbatim
turns stay as they are, and search uses session units only to rank sessions (their turns are
what it returns). Incremental: a session is rewritten only when its turns changed since the last
run (the old unit is replaced; its history remains); `erase` removes session units too.
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

from memgrid.config import TopicConfig
from memgrid.lifecycle.reports import UnitCounts
from memgrid.lifecycle.topics import TopicReport, build_topics
from memgrid.models import Provenance, Scope, StoredMemory
from memgrid.storage.base import Store
from memgrid.validation import Filters
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
                "unchanged": self.unchanged, "topics": t.topics, "topics_created": t.created,
                "topics_updated": t.updated, "topics_unchanged": t.unchanged, "topics_removed": t.removed,
                "backfilled": self.backfilled}


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


def consolidate(store: Store, writer: Writer, scope: Scope, max_chars: int,
                topics: TopicConfig | None = None) -> ConsolidationReport:
    """Create or refresh the session units and topic summaries of one user (or agent) scope."""
    sessions: dict[str | None, list[StoredMemory]] = {}
    existing: dict[str | None, StoredMemory] = {}
    after: int | None = None
    listed: list[StoredMemory] = []  # one scan serves sessions, link backfill and topics
    while page := store.list_memories(scope, Filters.everything(), after, 1000):
        after = page[-1].seq
        listed.extend(page)
    verbatim = [m for m in listed if m.provenance.method == "verbatim"]
    for m in listed:
        if m.kind == SESSION_KIND:
            existing[m.scope.session_id] = m
    for m in verbatim:
        if m.scope.session_id is not None:
            sessions.setdefault(m.scope.session_id, []).append(m)
    report = ConsolidationReport(sessions=len(sessions), backfilled=writer.backfill_links(verbatim))
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
            content_hash=fingerprint, created_at=now, updated_at=now, event_time=when,
            metadata=metadata))
    writer.write(fresh, "consolidate")
    report.created = len(fresh) - report.updated
    report.units.extend(m.id for m in fresh)
    report.topics = build_topics(store, writer, scope, listed, topics or TopicConfig(), max_chars)
    store.tidy()  # the pass run after imports is where an import's index maintenance belongs
    return report
