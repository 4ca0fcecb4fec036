"""What consolidate keeps per scope between runs, so a run over a large store with little new
reads only what is new.

A run records the digest of the source memories it consolidated and of the derived units it
left, where the user's history log stood when it began, the open topics of its clustering, and
the keyword counts its labels weigh words by. The next run compares digests (one aggregate
query each): nothing changed; memories appended after the recorded ones, and older ones updated
without a change to what clustering read (a superseded fact, new metadata): resume from the
state; anything else (a delete, an edited text, an archived memory, a derived unit removed,
other settings): start over from every memory.
"""

from __future__ import annotations

import base64
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from memgrid.lifecycle.topics import KeywordCounts, Topic
from memgrid.models import Scope, StoredMemory
from memgrid.storage.base import Digest, Store

STATE_NAME = "consolidate"
FORMAT = 2


@dataclass
class ConsolidationState:
    settings: str  # what the results depend on besides the memories (config, embedder)
    sources: Digest  # the memories consolidated (derived kinds excluded)
    derived: Digest = field(default_factory=Digest)  # the session and topic units as this run left them
    history_mark: int = 0  # the user's newest history entry when this run began
    sessions: int = 0
    topic_units: int = 0
    open_topics: list[Topic] = field(default_factory=list)
    keywords: KeywordCounts = field(default_factory=KeywordCounts)

    def dump(self) -> str:
        totals = np.stack([t.total for t in self.open_topics]).astype(np.float32) \
            if self.open_topics else np.empty((0, 0), np.float32)
        return json.dumps({
            "format": FORMAT, "settings": self.settings, "sources": _digest_list(self.sources),
            "derived": _digest_list(self.derived), "history_mark": self.history_mark,
            "sessions": self.sessions,
            "topic_units": self.topic_units,
            "open": [[t.unit, t.seqs] for t in self.open_topics],
            "totals": base64.b64encode(totals.tobytes()).decode(), "dims": totals.shape[1],
            "docs": self.keywords.docs, "keywords": dict(self.keywords.freq)})

    @classmethod
    def load(cls, raw: str | None, settings: str) -> ConsolidationState | None:
        """The saved state if it was made with these settings, else None (start over)."""
        if raw is None:
            return None
        try:
            data: dict[str, Any] = json.loads(raw)
            if data.get("format") != FORMAT or data.get("settings") != settings:
                return None
            totals = np.frombuffer(base64.b64decode(data["totals"]), np.float32)
            totals = totals.reshape(len(data["open"]), int(data["dims"]) if data["open"] else 0)
            return cls(settings, Digest(*data["sources"]), Digest(*data["derived"]),
                       int(data["history_mark"]), int(data["sessions"]), int(data["topic_units"]),
                       [Topic(list(seqs), totals[i].copy(), unit)
                        for i, (unit, seqs) in enumerate(data["open"])],
                       KeywordCounts(int(data["docs"]), Counter(data["keywords"])))
        except (ValueError, KeyError, TypeError):
            return None  # unreadable (a crash mid-write cannot cause it; a hand edit can): start over


def edited_since(store: Store, scope: Scope, state: ConsolidationState, older: Digest,
                 derived_kinds: tuple[str, ...]) -> list[StoredMemory] | None:
    """The memories the last run consolidated that were updated since, when `older` (their
    digest now) shows only updates and the history log explains every version bump, and none
    changed the text clustering read. None: the caller starts over."""
    before = state.sources
    if scope.user_id is None and scope.agent_id is None:
        return None  # a tenant-wide pass: no log to read
    if (older.count, older.seq_sum) != (before.count, before.seq_sum):
        return None  # a delete (nothing new can take a seq below the old max)
    updates = store.updated_since(scope, state.history_mark)
    edited: dict[str, StoredMemory] = {}
    for memory_id in dict.fromkeys(updates):
        m = store.get(scope.tenant_id, memory_id)
        if (m is not None and m.seq is not None and m.seq <= before.max_seq
                and m.kind not in derived_kinds
                and scope.agent_id in (None, m.scope.agent_id)):
            edited[memory_id] = m
    if sum(1 for i in updates if i in edited) != older.version_sum - before.version_sum:
        return None  # a version bump the log does not account for
    for m in edited.values():
        then = m.version - updates.count(m.id)  # its version when the last run began
        texts = [h.text for h in store.history(scope.tenant_id, m.id) if h.version == then]
        if texts[-1:] != [m.text]:
            return None
    return list(edited.values())


def _digest_list(d: Digest) -> list[int]:
    return [d.count, d.seq_sum, d.version_sum, d.max_seq]
