"""The write path in one place: ingest -> extract -> resolve -> link -> store, with no LLM call."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from memgrid.config import LinkConfig
from memgrid.embedders.base import CachedEmbedder
from memgrid.errors import InvalidInputError
from memgrid.models import Provenance, Scope, StoredMemory
from memgrid.storage.base import Closing, Link, Store
from memgrid.validation import check_metadata, check_text, parse_timestamp
from memgrid.write.facts import FactJudge, ValueChangeJudge
from memgrid.write.ingest import Message, normalize
from memgrid.write.links import find_links
from memgrid.write.units import CAPTION_KEY, signals, to_unit


class Writer:
    def __init__(self, store: Store, embedder: CachedEmbedder, max_chars: int,
                 judge: FactJudge | None = None, links: LinkConfig | None = None) -> None:
        self.store = store
        self.links = links or LinkConfig()
        self.embedder = embedder
        self.max_chars = max_chars
        self.judge: FactJudge = judge or ValueChangeJudge()

    def prepare(self, data: Any, scope: Scope, *, visibility: str = "private",
                timestamp: Any = None, metadata: dict[str, Any] | None = None,
                kind: str = "message", source: str = "api") -> list[StoredMemory]:
        """Validate and build units (no I/O beyond a dedupe lookup); raises before any write.
        Turns are numbered 0..n-1 here; the store places them after the session's end when it
        writes them, in the same transaction."""
        messages = normalize(data, self.max_chars, kind)
        default_time = parse_timestamp(timestamp, "timestamp")
        now = time.time()
        provenance = Provenance(writer=scope.user_id, agent_id=scope.agent_id, source=source)
        units = []
        for offset, message in enumerate(messages):
            if metadata:
                message.metadata = {**metadata, **message.metadata}
            event_time = message.timestamp if message.timestamp is not None else default_time
            units.append(to_unit(message, scope, visibility, provenance,
                                 event_time if event_time is not None else now, now, offset))
        return self._resolve(units, scope)

    def _resolve(self, units: list[StoredMemory], scope: Scope) -> list[StoredMemory]:
        """Drop exact duplicates: of what is stored, and within the batch itself."""
        stored = self.store.existing_hashes(scope, [u.content_hash for u in units])
        fresh: list[StoredMemory] = []
        for unit in units:
            if unit.content_hash not in stored:
                stored.add(unit.content_hash)
                fresh.append(unit)
        return fresh

    def changes(self, memory: StoredMemory, *, text: str | None = None,
                metadata: dict[str, Any] | None = None, importance: float | None = None,
                event_time: Any = None) -> dict[str, Any]:
        """Validated column changes for an update; new text is re-indexed and re-embedded."""
        changes: dict[str, Any] = {}
        if metadata is not None:
            changes["metadata"] = check_metadata(metadata)
        if importance is not None:
            if not 0.0 <= importance <= 1.0:
                raise InvalidInputError("importance must be between 0 and 1")
            changes["importance"] = float(importance)
        if event_time is not None:
            changes["event_time"] = parse_timestamp(event_time, "event_time")
        if text is not None:
            changes["text"] = check_text(text, self.max_chars)
        if not changes:
            raise InvalidInputError("update needs text, metadata, importance or event_time")
        caption = changes.get("metadata", memory.metadata).get(CAPTION_KEY)
        if "text" in changes or "event_time" in changes or caption != memory.metadata.get(CAPTION_KEY):
            message = Message(content=changes.get("text", memory.text), role=memory.role or "user",
                              speaker=memory.speaker, kind=memory.kind,
                              metadata=changes.get("metadata", memory.metadata))
            changes.update(signals(message, memory.scope, changes.get("event_time", memory.event_time)))
            if changes["index_text"] != memory.index_text:
                changes["embedding"] = self.embedder.embed([changes["index_text"]])[0]
        return changes

    def write(self, units: list[StoredMemory], actor: str | None, links: Sequence[Link] = (),
              keep_positions: bool = False) -> list[StoredMemory]:
        """Embed in batches, then one transaction for rows, full text, vectors, history, links
        (found here, plus any the caller made) and the facts the new memories supersede.
        `keep_positions` for imports: their turns' places in a session are already known."""
        if units:
            vectors = self.embedder.embed([u.index_text for u in units])
            for unit, vector in zip(units, vectors, strict=True):
                unit.embedding = vector
            self.store.insert(units, actor, closes=self._supersede(units),
                              links=[*find_links(self.store, units, self.links), *links],
                              keep_positions=keep_positions)
        return units

    def backfill_links(self, memories: Sequence[StoredMemory], batch: int = 256) -> int:
        """Link stored memories that have no links yet (written before links existed, e.g. a
        database upgraded in place). Idempotent; returns how many it searched links for (a
        memory that nothing relates to stays unlinked; consolidate searches again for it when it
        next reads every memory, not when it reads only new ones)."""
        candidates = [m for m in memories if m.seq is not None and m.provenance.method == "verbatim"]
        linked = self.store.linked([m.seq for m in candidates if m.seq is not None])
        missing = [m for m in candidates if m.seq not in linked]
        for start in range(0, len(missing), batch):
            chunk = missing[start : start + batch]
            for m, vector in zip(chunk, self.embedder.embed([m.index_text for m in chunk]), strict=True):
                m.embedding = vector
            self.store.add_links(find_links(self.store, chunk, self.links))
        return len(missing)

    def _supersede(self, units: list[StoredMemory]) -> list[Closing]:
        """Chain each fact key through the batch, starting from its current holder in the store.
        Nothing is deleted: the old memory gets valid_to and superseded_by, the new supersedes."""
        with_facts = [u for u in units if u.fact_key]
        if not with_facts:
            return []
        current = self.store.current_facts(with_facts[0].scope, [u.fact_key or "" for u in with_facts])
        closes: list[Closing] = []
        for unit in sorted(with_facts, key=lambda u: (u.event_time or 0.0, u.position or 0)):
            key = unit.fact_key or ""
            old = current.get(key)
            if old is not None and self.judge.supersedes(old, unit):
                unit.supersedes = old.id
                if old.seq is None:  # earlier in this same batch, not yet stored
                    old.valid_to, old.superseded_by = unit.event_time, unit.id
                else:
                    closes.append((old, unit.event_time, unit.id))
            elif old is not None and self.judge.supersedes(unit, old):
                # an older statement arriving late (an import): it was already outdated
                unit.valid_to, unit.superseded_by = old.event_time, old.id
                continue
            current[key] = unit
        return closes
