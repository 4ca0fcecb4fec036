"""The write path in one place: ingest -> extract -> resolve -> link -> store, with no LLM call."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from memgrid.config import LinkConfig
from memgrid.embedders.base import CachedEmbedder
from memgrid.errors import InvalidInputError
from memgrid.models import AddEvent, HistoryEntry, Provenance, Scope, StoredMemory
from memgrid.storage.base import Closing, Link, Store, TxReader
from memgrid.validation import check_metadata, check_text, parse_timestamp
from memgrid.write.answers import read_answers
from memgrid.write.attributes import ATTRIBUTE_CUES
from memgrid.write.facts import OpenStatement, subject_of
from memgrid.write.ingest import Message, normalize
from memgrid.write.judges import FactJudge, FactReader, ValueChangeJudge
from memgrid.write.links import find_links
from memgrid.write.restated import restate
from memgrid.write.states import StateDetector, said_to_change
from memgrid.write.units import CAPTION_KEY, signals, to_unit


class Writer:
    def __init__(self, store: Store, embedder: CachedEmbedder, max_chars: int,
                 judge: FactJudge | None = None, links: LinkConfig | None = None,
                 reader: FactReader | None = None) -> None:
        """`reader`: reads what the detector left unread (a model); None, zero-LLM."""
        self.store = store
        self.reader = reader
        self.links = links or LinkConfig()
        self.embedder = embedder
        self.max_chars = max_chars
        self.judge: FactJudge = judge or ValueChangeJudge()
        self.states = StateDetector(embedder)

    def prepare(self, data: Any, scope: Scope, *, visibility: str = "private",
                timestamp: Any = None, metadata: dict[str, Any] | None = None,
                kind: str = "message", source: str = "api",
                idempotency_key: str | None = None) -> list[StoredMemory]:
        """Validate and build units (no I/O); raises before any write. Turns are numbered
        0..n-1 here; the store places them after the session's end when it writes them, in the
        same transaction. With an `idempotency_key`, a unit's identity is the key and its place
        in the batch, not its words and time: a retried add (whose time is 'now' again) is
        recognised as the same."""
        messages = normalize(data, self.max_chars, kind)
        default_time = parse_timestamp(timestamp, "timestamp")
        now = time.time()
        provenance = Provenance(writer=scope.user_id, agent_id=scope.agent_id, source=source)
        units: list[StoredMemory] = []
        for offset, message in enumerate(messages):
            if metadata:
                message.metadata = {**metadata, **message.metadata}
            # an undated message takes the add's timestamp, else the time of the message before
            # it (a reply to a dated question), else now
            event_time = message.timestamp if message.timestamp is not None else default_time
            if default_time is None and message.timestamp is None and units:
                event_time = units[-1].event_time
            unit = to_unit(message, scope, visibility, provenance,
                           event_time if event_time is not None else now, now, offset)
            if idempotency_key is not None:
                unit.content_hash = hashlib.sha256(
                    f"idempotency\x1f{idempotency_key}\x1f{offset}".encode()).hexdigest()
            units.append(unit)
        return units

    def derived_units(self, entries: Sequence[tuple[str, dict[str, Any]]], scope: Scope, visibility: str,
                      event_time: float | None, provenance: Provenance, kind: str,
                      role: str = "system") -> list[StoredMemory]:
        """Memories made from others by a model (facts, strategies): (text, metadata) each, in the
        sources' scope and at their time, with the provenance that names them. No I/O."""
        now = time.time()
        return [to_unit(Message(content=check_text(text, self.max_chars), role=role, kind=kind,
                                metadata=check_metadata(metadata)),
                        scope, visibility, provenance, event_time, now, offset)
                for offset, (text, metadata) in enumerate(entries)]

    def add(self, units: list[StoredMemory], actor: str | None,
            queue: str | None = None) -> tuple[list[StoredMemory], list[AddEvent]]:
        """Write new units and say, per input message, what became of it (as mem0's events do):
        ADD, UPDATE (it superseded a fact) or NONE (an exact repeat of a stored memory).
        `queue`: what was written is also queued there, in the same transaction."""
        repeats: dict[str, str] = {}
        if units:  # repeats of stored memories are not embedded (checked again when writing)
            stored = self.store.existing_hashes(units[0].scope, [u.content_hash for u in units])
            for unit in units:
                if unit.content_hash in stored:
                    repeats[unit.id] = stored[unit.content_hash]
                else:
                    stored[unit.content_hash] = unit.id
        written = self.write([u for u in units if u.id not in repeats], actor, repeats=repeats,
                             queue=queue)
        events = [AddEvent(index=i, event="NONE", id=repeats[u.id]) if u.id in repeats else
                  AddEvent(index=i, event="UPDATE" if u.supersedes else "ADD", id=u.id,
                           supersedes=u.supersedes)
                  for i, u in enumerate(units)]
        return written, events

    def changes(self, memory: StoredMemory, *, text: str | None = None,
                metadata: dict[str, Any] | None = None, importance: float | None = None,
                event_time: Any = None) -> dict[str, Any]:
        """Validated column changes for an update; new text is re-indexed and re-embedded."""
        changes: dict[str, Any] = {}
        if metadata is not None:
            changes["metadata"] = check_metadata(metadata)
        if importance is not None:
            if isinstance(importance, bool) or not isinstance(importance, int | float) or not (
                    0.0 <= importance <= 1.0):
                raise InvalidInputError("importance must be a number between 0 and 1")
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
            if not changes["fact_key"]:  # the embedding side reads what the lexicon could not
                probe = replace(memory, text=message.content, fact_key=None, fact_value=None)
                todo = self.states.candidates([probe])
                if todo:
                    self._key_statements([probe], todo, self.embedder.embed([st.masked for _, st in todo]))
                changes["fact_key"], changes["fact_value"] = probe.fact_key, probe.fact_value
            if changes["index_text"] != memory.index_text:
                changes["embedding"] = self.embedder.embed([changes["index_text"]])[0]
        return changes

    def write(self, units: list[StoredMemory], actor: str | None, links: Sequence[Link] = (),
              keep_positions: bool = False, history: dict[str, list[HistoryEntry]] | None = None,
              repeats: dict[str, str] | None = None,
              replaces: dict[str, StoredMemory] | None = None,
              queue: str | None = None) -> list[StoredMemory]:
        """Embed in batches, then one transaction for rows, full text, vectors, history, links
        (found here, plus any the caller made) and the facts the new memories supersede. What is
        already stored and which facts are current are decided inside that transaction, so two
        writes at once can neither both store a repeat nor both keep a fact current.
        `keep_positions` for imports: their turns' places in a session are already known.
        `repeats` collects the units found already stored: unit id -> the stored memory's id.
        `replaces` (unit id -> older memory) is a decision already taken (by a model): those units
        supersede exactly those memories, and no fact key is matched for the batch."""
        if not units:
            return []
        # a model's decision (replaces) is taken; the detector's is not needed. Its sentences are
        # embedded in the turns' call: a call costs more than a few short texts in it
        todo = self.states.candidates(units) if replaces is None else []
        vectors = self.embedder.embed([u.index_text for u in units] + [s.masked for _, s in todo])
        for unit, vector in zip(units, vectors, strict=False):
            unit.embedding = vector
        self._key_statements(units, todo, vectors[len(units):])
        found = [*find_links(self.store, units, self.links), *links]
        if replaces is None:
            read_answers(self.store, units)
            restate(self.store, units)
            self._judge_first(units)

        def plan(tx: TxReader) -> tuple[list[StoredMemory], list[Closing]]:
            fresh = _unseen(units, tx, repeats)
            if replaces is None:
                return fresh, self._supersede(fresh, tx)
            closes: list[Closing] = []
            for unit in fresh:
                if (old := replaces.get(unit.id)) is not None:
                    unit.supersedes = old.id
                    closes.append((old, unit.event_time, unit.id))
            return fresh, closes

        return self.store.insert(units, actor, plan=plan, links=found, keep_positions=keep_positions,
                                 history=history, queue=queue)

    def restore(self, units: list[StoredMemory],
                history: dict[str, list[HistoryEntry]]) -> list[StoredMemory]:
        """Write exported memories as they were: their own history, places, supersession and
        provenance; no links are searched and no fact is re-decided (the export says both).
        A memory already stored (by id) is skipped, decided in the insert's transaction; two
        memories with the same words and time are still two (an edit can make them so)."""
        if not units:
            return []
        for unit, vector in zip(units, self.embedder.embed([u.index_text for u in units]), strict=True):
            unit.embedding = vector
        def plan(tx: TxReader) -> tuple[list[StoredMemory], list[Closing]]:
            stored = tx.existing_ids(units[0].scope.tenant_id, [u.id for u in units])
            return [u for u in units if u.id not in stored], []

        return self.store.insert(units, "import", plan=plan,
                                 keep_positions=True, history=history)

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

    def _key_statements(self, units: list[StoredMemory], todo: Sequence[tuple[StoredMemory, OpenStatement]],
                        vectors: np.ndarray) -> None:
        """The detector's embedding side for the sentences the lexicon left (`vectors`: theirs),
        then the model's reading, if any, of what it left. A sentence with a word of change may
        change what its speaker already holds: a smaller margin there, and only there the model."""
        if not todo:
            return
        held = self._held(units)
        changing = [held.get(subject_of(unit), set()) if said_to_change(statement.sentence) else set()
                    for unit, statement in todo]
        self.states.assign(todo, vectors, changing)
        if self.reader is not None:
            self.reader.read([(unit, statement, attributes) for (unit, statement), attributes
                              in zip(todo, changing, strict=True) if attributes and not unit.fact_key])

    def _held(self, units: list[StoredMemory]) -> dict[str, set[str]]:
        """Per speaker of the batch, the attributes with a current value (one read), the batch's
        own statements included."""
        keys = [f"{subject}|{a.name}" for subject in {subject_of(u) for u in units} for a in ATTRIBUTE_CUES]
        held: dict[str, set[str]] = {}
        stored = self.store.current_facts(units[0].scope, keys)
        for key in [*stored, *(u.fact_key for u in units if u.fact_key)]:
            subject, _, attribute = key.partition("|")
            held.setdefault(subject, set()).add(attribute)
        return held

    def _judge_first(self, units: list[StoredMemory]) -> None:
        """A judge that is slow (a model) decides the likely pairs before the write transaction,
        so the store is not held while it thinks; the transaction still reads the current
        holders itself, and asks again only if one changed meanwhile."""
        prepare = getattr(self.judge, "prepare", None)
        keyed = sorted((u for u in units if u.fact_key), key=lambda u: (u.event_time or 0.0, u.position or 0))
        if prepare is None or not keyed:
            return
        holders = self.store.current_facts(keyed[0].scope, [u.fact_key or "" for u in keyed])
        pairs = []
        for unit in keyed:
            if (old := holders.get(unit.fact_key or "")) is not None:
                pairs.append((old, unit))
            holders[unit.fact_key or ""] = unit
        prepare(pairs)

    def _supersede(self, units: list[StoredMemory], tx: TxReader) -> list[Closing]:
        """Chain each fact key through the batch, starting from its current holder in the store.
        Nothing is deleted: the old memory gets valid_to and superseded_by, the new supersedes."""
        with_facts = [u for u in units if u.fact_key]
        if not with_facts:
            return []
        current = tx.current_facts(with_facts[0].scope, [u.fact_key or "" for u in with_facts])
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


def _unseen(units: list[StoredMemory], tx: TxReader,
            repeats: dict[str, str] | None = None) -> list[StoredMemory]:
    """Units whose content hash is stored nowhere in their scope, nor earlier in the batch."""
    by_scope: dict[tuple[str | None, ...], list[StoredMemory]] = {}
    for u in units:
        by_scope.setdefault((u.scope.user_id, u.scope.agent_id, u.scope.session_id), []).append(u)
    seen: dict[tuple[tuple[str | None, ...], str], str] = {}
    for key, group in by_scope.items():
        found = tx.existing_hashes(group[0].scope, [u.content_hash for u in group])
        seen.update(((key, h), mid) for h, mid in found.items())
    fresh = []
    for u in units:
        marked = ((u.scope.user_id, u.scope.agent_id, u.scope.session_id), u.content_hash)
        if marked in seen:
            if repeats is not None:
                repeats[u.id] = seen[marked]
            continue
        seen[marked] = u.id
        fresh.append(u)
    return fresh
