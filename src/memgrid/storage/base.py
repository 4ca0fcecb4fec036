"""The storage interface. Every backend keeps rows, full text and vectors consistent in one write."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from memgrid.models import HistoryEntry, Scope, StoredMemory
from memgrid.storage.jobs import Job, JobCounts
from memgrid.validation import Filters

VectorHit = tuple[int, float]  # (seq, cosine similarity)
TextHit = tuple[int, float]  # (seq, relevance; higher is better)


@dataclass(frozen=True, slots=True)
class Placement:
    """What rerank stages need of a candidate, without reading the full row."""

    session_id: str | None
    when: float  # event time, else creation time
    superseded_by: str | None
    importance: float
    access_count: int
    last_access: float | None
    text: str
    speaker: str | None
    mentioned_from: float | None = None  # start of the time its text talks about, if it names one
    role: str | None = None


@dataclass(frozen=True, slots=True)
class Neighbor:
    """A turn near a candidate in its session, with what rerank needs of it."""

    seq: int
    offset: int  # its position minus the position of the turn it neighbours
    placement: Placement


Closing = tuple[StoredMemory, float | None, str]  # (superseded memory, its valid_to, superseded_by)


class TxReader(Protocol):
    """What a write decides inside its own transaction, where no other write to the same owner
    can interleave: which memories are already stored, which facts are current."""

    def existing_hashes(self, scope: Scope, hashes: Sequence[str]) -> dict[str, str]: ...

    def existing_ids(self, tenant_id: str, ids: Sequence[str]) -> set[str]: ...

    def current_facts(self, scope: Scope, keys: Sequence[str]) -> dict[str, StoredMemory]: ...


# Given the transaction's view: the memories to insert (duplicates dropped) and the facts they close
Plan = Callable[[TxReader], tuple[list[StoredMemory], list[Closing]]]


@dataclass(frozen=True, slots=True)
class Link:
    """An association made on write. `src` is a memory of the batch being inserted (its seq is
    assigned then); `dst` is another of the batch or the seq of a stored memory."""

    src: StoredMemory
    dst: StoredMemory | int
    kind: str  # "similar" (nearest in meaning), "entity" (same names), "member" (topic -> member)
    weight: float  # in (0, 1]


Edge = tuple[int, float, str]  # (other seq, weight, kind)


@dataclass(frozen=True, slots=True)
class Digest:
    """An order-free summary of a set of rows. Seqs only grow and every update bumps a version,
    so any insert, delete or update changes it: equal digests mean the same rows, unchanged."""

    count: int = 0
    seq_sum: int = 0
    version_sum: int = 0
    max_seq: int = 0

    @classmethod
    def of(cls, memories: Sequence[StoredMemory]) -> Digest:
        seqs = [m.seq for m in memories if m.seq is not None]
        return cls(len(seqs), sum(seqs), sum(m.version for m in memories if m.seq is not None),
                   max(seqs, default=0))

    def __add__(self, other: Digest) -> Digest:
        return Digest(self.count + other.count, self.seq_sum + other.seq_sum,
                      self.version_sum + other.version_sum, max(self.max_seq, other.max_seq))


class Store(Protocol):
    """What the write and read paths need from a backend, and nothing more."""

    def bind_embedder(self, name: str, dims: int) -> None:
        """Record (or verify) which embedder built the stored vectors."""

    def insert(self, memories: Sequence[StoredMemory], actor: str | None,
               plan: Plan | None = None, links: Sequence[Link] = (),
               keep_positions: bool = False,
               history: dict[str, list[HistoryEntry]] | None = None,
               queue: str | None = None) -> list[StoredMemory]:
        """Write rows, full text, vectors, links and ADD history atomically. `plan` runs first in
        the same transaction, with other writes to the same owner held off: it drops what is
        already stored and names the facts to close (valid_to, superseded_by, a new version in
        their history). Turns numbered 0..n-1 follow their session's stored ones, unless
        `keep_positions` (an import brings the places it had). `history` (an import) replaces
        the ADD entry of the memories it names. `queue`: the inserted memories also become one
        job of that queue, in the same transaction. Returns what was inserted."""

    def claim_jobs(self, queue: str, limit: int, lease_s: float) -> list[Job]:
        """Up to `limit` jobs due now, oldest first, leased for `lease_s` seconds: no other
        worker, in this process or another, gets them until the lease runs out."""

    def end_job(self, job: Job, error: str | None, max_attempts: int, retry_after: float) -> None:
        """Done (no error); else pending again after a wait that doubles with each attempt, or
        failed for good once `max_attempts` claims failed."""

    def job_counts(self, tenant_id: str | None, queue: str, user_id: str | None = None) -> JobCounts:
        """Jobs by state, and the newest errors, of a tenant (or one user; None: every tenant)."""

    def current_facts(self, scope: Scope, keys: Sequence[str],
                      at: float | None = None) -> dict[str, StoredMemory]:
        """The memory holding each fact key for the scope's user: now (not superseded), or `at`
        a past moment (the newest statement valid then)."""

    def get(self, tenant_id: str, memory_id: str) -> StoredMemory | None: ...

    def get_by_seq(self, seqs: Sequence[int]) -> dict[int, StoredMemory]: ...

    def update(
        self, memory: StoredMemory, changes: dict[str, Any], actor: str | None
    ) -> StoredMemory:
        """Apply changes (text, index_text, embedding, metadata, ...), bump version, log history."""

    def delete(self, memory: StoredMemory, actor: str | None) -> None: ...

    def erase(self, scope: Scope) -> int:
        """Remove every trace of a scope: rows, full text, vectors and history."""

    def list_memories(
        self, scope: Scope, filters: Filters, after_seq: int | None, limit: int,
        newest_first: bool = False,
    ) -> list[StoredMemory]:
        """A page in insertion order, or newest first; `after_seq` is the last seq seen."""

    def sessions(self, scope: Scope, filters: Filters, limit: int) -> list[tuple[Any, ...]]:
        """(user, agent, session, memories, first time, last time) per session, latest first."""

    def digest(self, scope: Scope, filters: Filters, upto_seq: int | None) -> Digest:
        """The digest of the rows the scope and filters select (those at or below `upto_seq`):
        one aggregate query, so a caller can tell whether anything changed since it looked."""

    def history_mark(self, scope: Scope) -> int:
        """The newest history entry of the scope's user (0 if none, or the scope has no user): a
        point to ask later what was updated since."""

    def updated_since(self, scope: Scope, mark: int) -> list[str]:
        """The ids of the memories of the scope's user updated after `mark`, once per update."""

    def exclusive(self, scope: Scope, name: str) -> AbstractContextManager[None]:
        """Held while a lifecycle pass `name` runs over a scope: another pass of that name over
        the same scope waits, in this process or in another sharing the store."""

    def text_vectors(self, seqs: Sequence[int]) -> dict[int, np.ndarray]:
        """Saved vectors of these memories' own text (float32 from float16), where present:
        a memory's goes when it is deleted or its text changes."""

    def save_text_vectors(self, vectors: dict[int, np.ndarray]) -> None:
        """Keep them, as float16, for memories that still exist."""

    def load_state(self, scope: Scope, name: str) -> str | None:
        """Bookkeeping a lifecycle pass keeps for a scope between runs (e.g. consolidate's)."""

    def save_state(self, scope: Scope, name: str, value: str) -> None:
        """Store it; `erase` drops every state of the tenant (it may hold the erased words)."""

    def history(self, tenant_id: str, memory_id: str) -> list[HistoryEntry]: ...

    def histories(self, tenant_id: str, memory_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        """history() of many memories in one go (export)."""

    def out_links(self, seqs: Sequence[int]) -> dict[int, list[Edge]]:
        """Links stored from each of these memories (not to them): what export carries."""

    def history_owner(self, tenant_id: str, memory_id: str) -> str | None:
        """The user a memory (possibly deleted) belonged to, from its history."""

    def existing_hashes(self, scope: Scope, hashes: Sequence[str]) -> dict[str, str]:
        """Which of these content hashes the scope already stores: hash -> memory id."""

    def dense_search(
        self, scope: Scope, filters: Filters, vector: np.ndarray, k: int
    ) -> list[VectorHit]: ...

    def dense_search_many(
        self, scope: Scope, filters: Filters, vectors: np.ndarray, k: int
    ) -> list[list[VectorHit]]:
        """dense_search for many query vectors at once (linking a batch on write)."""

    def text_search(
        self, scope: Scope, filters: Filters, terms: Sequence[str], k: int, column: str | None
    ) -> list[TextHit]: ...

    def matching(self, seqs: Sequence[int], scope: Scope, filters: Filters) -> set[int]:
        """Which of these memories the scope and filters (access rule included) admit."""

    def placement(self, seqs: Sequence[int]) -> dict[int, Placement]:
        """What rerank stages read of many candidates (session, time, text, speaker), without
        full rows."""

    def neighbors(self, seqs: Sequence[int], radius: int, scope: Scope,
                  filters: Filters) -> dict[int, list[Neighbor]]:
        """Each seq's turns within `radius` positions in its session that the scope and filters
        admit, with what rerank needs of them (one query, not three). Memories without a session
        have no neighbours: separate adds are not a conversation."""
        ...

    def mentions(self, scope: Scope, filters: Filters, names: Sequence[str],
                 per_name: int) -> dict[int, list[str]]:
        """The latest memories naming each of `names` (lowercase words), with all the names each
        one mentions. Unranked and bounded per name, so linking costs the same at any size."""

    def add_links(self, links: Sequence[Link]) -> None:
        """Store links between memories already stored (a backfill); existing ones are kept."""

    def links(self, seqs: Sequence[int]) -> dict[int, list[Edge]]:
        """Links of each memory, in both directions, strongest first."""

    def linked(self, seqs: Sequence[int]) -> set[int]:
        """Which of these memories have any link (two index probes each; no edges read)."""

    def touch(self, seqs: Sequence[int], at: float) -> None:
        """Count a recall (access_count, last_accessed_at) without creating a version."""

    def flush_recalls(self) -> None:
        """Write the recalls `touch` buffered, for a decision that reads them (archiving)."""

    def tidy(self) -> None:
        """After bulk writes: bounded maintenance that makes later searches cheaper (merge
        full-text index segments, refresh planner statistics). Changes no data."""

    def stats(self, scope: Scope, all_tenants: bool = True) -> dict[str, Any]:
        """Counts of a scope, and (with `all_tenants`) every tenant's memory count."""

    def owners(self, scope: Scope) -> list[tuple[Any, ...]]:
        """(user, agent, memories, sessions, latest event or creation time) per owner."""

    def ids_with_prefix(self, tenant_id: str, prefix: str) -> list[str]:
        """Up to two ids of memories (or deleted memories' history) starting with `prefix`."""

    def close(self) -> None: ...
