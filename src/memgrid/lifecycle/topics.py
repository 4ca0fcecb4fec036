"""Topic summaries without an LLM: one user's memories clustered by meaning across sessions.

Online leader clustering in insertion order, on embeddings of the memories' own text: a memory
joins the nearest topic whose centroid it is close enough to (and which has room), else it seeds
a new topic. Insertion order makes reruns stable: old memories get the same topics again, so
only topics that gained or lost members are rewritten (a fingerprint per topic), and the rest
are left alone.

A topic unit is extractive: a label of its most distinctive keywords and its most central
memories verbatim. Its provenance lists every member and it has a `member` link to each, so a
reader (or search) dereferences it to the exact evidence. Verbatim memories are never touched.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from memgrid.config import TopicConfig
from memgrid.lifecycle.reports import UnitCounts
from memgrid.models import Provenance, Scope, StoredMemory
from memgrid.storage.base import Link, Store
from memgrid.write.pipeline import Writer
from memgrid.write.units import format_date, new_id

TOPIC_KIND = "topic"


@dataclass
class TopicReport(UnitCounts):
    topics: int = 0
    removed: int = 0  # topics whose members all moved elsewhere or were deleted


@dataclass
class _Topic:
    members: list[StoredMemory]
    vectors: list[np.ndarray]
    total: np.ndarray

    def centroid(self) -> np.ndarray:
        return self.total / (np.linalg.norm(self.total) or 1.0)


def cluster(memories: list[StoredMemory], vectors: dict[int, np.ndarray],
            config: TopicConfig) -> list[_Topic]:
    """Leader clustering in the given order (insertion order makes it incremental): a memory
    joins the most similar topic that is close enough and has room. Only topics with room are
    compared, their centroids in one matrix updated in place; a full topic's row goes. Stacking
    every centroid anew for each memory made a 60k-memory store take 112 s to consolidate with
    nothing new."""
    topics: list[_Topic] = []
    centroids = np.empty((0, 0), np.float32)  # rows [0, len(open_topics)) are live
    open_topics: list[int] = []  # the topic of each live row
    for m in memories:
        raw = vectors.get(m.seq or -1)
        if raw is None:
            continue
        v = raw / (np.linalg.norm(raw) or 1.0)
        row = -1
        if open_topics:
            sims = centroids[: len(open_topics)] @ v
            nearest = int(np.argmax(sims))
            if sims[nearest] >= config.min_similarity:
                row = nearest
        if row < 0:
            if len(open_topics) == len(centroids):
                grown = np.empty((max(64, 2 * len(centroids)), len(v)), v.dtype)
                if open_topics:
                    grown[: len(open_topics)] = centroids[: len(open_topics)]
                centroids = grown
            centroids[len(open_topics)] = v
            open_topics.append(len(topics))
            topics.append(_Topic([m], [v], v.copy()))
            continue
        t = topics[open_topics[row]]
        t.members.append(m)
        t.vectors.append(v)
        t.total = t.total + v
        if len(t.members) < config.max_members:
            centroids[row] = t.centroid()
        else:  # full: the last live row takes its place
            last = len(open_topics) - 1
            centroids[row] = centroids[last]
            open_topics[row] = open_topics[last]
            open_topics.pop()
    return [t for t in topics if len(t.members) >= config.min_members]


def _label(topic: _Topic, doc_freq: Counter[str], docs: int, n: int = 5) -> list[str]:
    """Keywords frequent in the topic and rare elsewhere (tf-idf over the user's memories)."""
    tf = Counter(k for m in topic.members for k in set(m.keywords))
    score = {k: c * math.log((1 + docs) / (1 + doc_freq[k])) for k, c in tf.items() if c > 1}
    return sorted(score, key=lambda k: (-score[k], k))[:n]


def _summary(topic: _Topic, label: list[str], central: int, max_chars: int) -> tuple[str, str]:
    """(text a reader sees, text search indexes): the label and the most central members; the
    index also holds every member, so words spread over the topic match it."""
    c = topic.centroid()
    order = sorted(range(len(topic.members)), key=lambda i: -float(topic.vectors[i] @ c))
    first, last = topic.members[0], topic.members[-1]
    head = (f"Topic: {', '.join(label) or 'misc'} ({len(topic.members)} memories, "
            f"{format_date(first.event_time)} to {format_date(last.event_time)})")
    lines = [head]
    for i in order[:central]:
        m = topic.members[i]
        lines.append(f"- [{format_date(m.event_time)}] {m.speaker or m.role or 'user'}: {m.text}")
    text = "\n".join(lines)[:max_chars]
    index = "\n".join([head, *(f"{m.speaker or ''}: {m.text}" for m in topic.members)])[:max_chars]
    return text, index


def build_topics(store: Store, writer: Writer, scope: Scope, listed: Sequence[StoredMemory],
                 config: TopicConfig, max_chars: int) -> TopicReport:
    """Create, refresh or remove the topic units of one user (or agent) scope, given every
    memory of the scope in insertion order (consolidate has listed them already)."""
    report = TopicReport()
    if not config.enabled:
        return report
    existing = {m.metadata["seed"]: m for m in listed
                if m.kind == TOPIC_KIND and isinstance(m.metadata.get("seed"), str)}
    memories = [m for m in listed if m.provenance.method == "verbatim" and not m.archived]
    # what was said, not the indexed "[date] speaker:" form: dates and names would make topics
    # of days and people rather than of subjects
    vectors: dict[int, np.ndarray] = {}
    if memories:
        embedded = writer.embedder.embed([m.text for m in memories])
        vectors = {m.seq: v for m, v in zip(memories, embedded, strict=True) if m.seq is not None}
    topics = cluster(memories, vectors, config)
    doc_freq = Counter(k for m in memories for k in set(m.keywords))
    report.topics = len(topics)
    fresh: list[StoredMemory] = []
    links: list[Link] = []
    now = time.time()
    for topic in topics:
        seed = topic.members[0]
        fingerprint = hashlib.sha256(
            "\x1f".join(m.id + str(m.version) for m in topic.members).encode()).hexdigest()
        old = existing.pop(seed.id, None)
        if old is not None and old.metadata.get("fingerprint") == fingerprint:
            report.unchanged += 1
            continue
        if old is not None:
            store.delete(old, "consolidate")  # replaced; its history keeps the old version
            report.updated += 1
        label = _label(topic, doc_freq, len(memories))
        text, index = _summary(topic, label, config.central, max_chars)
        unit = StoredMemory(
            id=new_id(), text=text, index_text=index, kind=TOPIC_KIND,
            scope=Scope(scope.tenant_id, seed.scope.user_id, seed.scope.agent_id, None),
            visibility="shared" if all(m.visibility == "shared" for m in topic.members) else "private",
            role="system", speaker=None,
            provenance=Provenance(writer=seed.scope.user_id, source="consolidate", method="derived",
                                  source_ids=tuple(m.id for m in topic.members)),
            content_hash=fingerprint, created_at=now, updated_at=now, event_time=seed.event_time,
            metadata={"seed": seed.id, "fingerprint": fingerprint, "label": label,
                      "members": len(topic.members)})
        fresh.append(unit)
        c = topic.centroid()
        links += [Link(unit, m.seq, "member", round(max(float(v @ c), 1e-3), 4))
                  for m, v in zip(topic.members, topic.vectors, strict=True) if m.seq is not None]
    for stale in existing.values():  # its members moved or were deleted
        store.delete(stale, "consolidate")
        report.removed += 1
    writer.write(fresh, "consolidate", links)
    report.created = len(fresh) - report.updated
    report.units.extend(m.id for m in fresh)
    return report
