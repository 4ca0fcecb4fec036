"""Public records: pydantic at the API boundary. The storage layer works on `StoredMemory`."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

Kind = str  # message, fact, event, summary, procedure, profile, ... (open set, validated lightly)
Visibility = Literal["private", "shared"]
Method = Literal["verbatim", "extracted", "consolidated", "derived"]


def to_datetime(epoch: float | None) -> datetime | None:
    return None if epoch is None else datetime.fromtimestamp(epoch, tz=UTC)


class Provenance(BaseModel):
    """Who wrote a memory, how, and from what. Frozen: it never changes after the write."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    writer: str | None = Field(default=None, description="user or principal that wrote it")
    agent_id: str | None = Field(default=None, description="agent acting for the writer")
    source: str = Field(default="api", description="api, cli, import, ...")
    method: Method = "verbatim"
    source_ids: tuple[str, ...] = Field(default=(), description="memories this was derived from")


class MemoryRecord(BaseModel):
    """One memory as a caller sees it."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    kind: Kind
    tenant_id: str
    user_id: str | None
    agent_id: str | None
    session_id: str | None
    visibility: Visibility
    role: str | None
    speaker: str | None
    provenance: Provenance
    created_at: datetime
    updated_at: datetime
    event_time: datetime | None
    valid_from: datetime | None
    valid_to: datetime | None
    version: int
    supersedes: str | None
    superseded_by: str | None
    importance: float
    access_count: int
    last_accessed_at: datetime | None
    metadata: dict[str, Any]
    keywords: list[str]
    entities: list[str]
    position: int | None
    fact_key: str | None = None
    fact_value: str | None = None
    mentioned_from: datetime | None = None
    mentioned_to: datetime | None = None
    archived: bool = False


class ChannelScore(BaseModel):
    """How one retrieval channel ranked a hit: its 1-based rank and raw score."""

    rank: int
    score: float


class SearchHit(BaseModel):
    score: float
    memory: MemoryRecord
    explain: dict[str, ChannelScore] = Field(default_factory=dict)

    @property
    def evidence(self) -> tuple[str, ...]:
        """Ids of the verbatim memories this hit rests on (itself when it is verbatim)."""
        return self.memory.provenance.source_ids or (self.memory.id,)


class RelatedMemory(BaseModel):
    """A memory linked on write to another one: why (kinds) and how strongly (weight, 0..1]."""

    memory: MemoryRecord
    weight: float
    kinds: list[str]


class HistoryEntry(BaseModel):
    memory_id: str
    version: int
    event: Literal["ADD", "UPDATE", "DELETE"]
    text: str
    metadata: dict[str, Any]
    at: datetime
    actor: str | None


class AddEvent(BaseModel):
    """What became of one message passed to `add` (mem0's event names)."""

    index: int = Field(description="its place in the input")
    event: Literal["ADD", "UPDATE", "NONE"] = Field(
        description="ADD: stored; UPDATE: stored, and it superseded an older fact; NONE: an exact "
                    "repeat of a stored memory, not stored again")
    id: str = Field(description="the new memory, or for NONE the stored one it repeats")
    supersedes: str | None = Field(default=None, description="UPDATE: the memory it replaced")


class FactEvent(BaseModel):
    """What `add(..., infer=True)` did with one fact the model extracted (mem0's decisions; none
    removes anything: DELETE marks the old fact no longer true and keeps it)."""

    event: Literal["ADD", "UPDATE", "DELETE", "NOOP"]
    text: str = Field(description="the extracted fact")
    id: str | None = Field(default=None, description="ADD, UPDATE: the new fact memory")
    target: str | None = Field(default=None, description="UPDATE, DELETE, NOOP: the existing fact")
    source_ids: list[str] = Field(default_factory=list, description="the turns it came from")


class Added(list[MemoryRecord]):
    """The memories `add` stored (a list, as before), with `events`: one per input message,
    `facts`: what the model extracted, with `infer=True`, and `queued`: whether extraction was
    left to the background worker instead (`background=True`)."""

    def __init__(self, records: list[MemoryRecord], events: list[AddEvent],
                 facts: list[FactEvent] | None = None, queued: bool = False) -> None:
        super().__init__(records)
        self.events = events
        self.facts = facts or []
        self.queued = queued


class ExportedLink(BaseModel):
    """A link from an exported memory to another (`to`, by id)."""

    to: str
    kind: str
    weight: float


class ExportedMemory(MemoryRecord):
    """One line of `export`: the record plus what a lossless `import` needs to rebuild it (its
    versions, its outgoing links, and how it was indexed)."""

    index_text: str | None = None
    content_hash: str | None = None
    history: list[HistoryEntry] = Field(default_factory=list)
    links: list[ExportedLink] = Field(default_factory=list)


class Page(BaseModel):
    items: list[MemoryRecord]
    next_cursor: str | None


class Counts(BaseModel):
    """What a scope of the store holds."""

    memories: int
    by_kind: dict[str, int]
    users: int
    sessions: int
    history_entries: int
    vectors: int
    db_bytes: int
    embedder: str


class Stats(Counts):
    by_tenant: dict[str, int] = Field(default_factory=dict, description="memories of each tenant")


# -- views of a store for people (the console), over REST --------------------------------


class SessionSummary(BaseModel):
    """One session of a user's timeline, as far as the reader may see it."""

    user_id: str | None
    agent_id: str | None
    session_id: str
    memories: int
    first_at: datetime
    last_at: datetime


class OwnerSummary(BaseModel):
    """A user (with the agent that wrote for it, if any) and how much the store holds of it."""

    user_id: str | None
    agent_id: str | None
    memories: int
    sessions: int
    last_at: datetime | None


class StoreCounts(Counts):
    """What a caller's part of the store holds: the tenant for admins, their own users otherwise
    (never other tenants' counts, which `Stats.by_tenant` has)."""

    scope: str


class ErasePreview(BaseModel):
    """What `POST /v1/erase` would remove for a user, counted before anyone confirms it."""

    user_id: str
    memories: int
    by_kind: dict[str, int]
    sessions: int
    history_entries: int


class GraphEdge(BaseModel):
    source: str
    target: str
    weight: float
    kinds: list[str]


class MemoryGraph(BaseModel):
    """A memory's write-time links out to `depth` hops; unreadable memories are not nodes."""

    center: str
    nodes: list[MemoryRecord]
    edges: list[GraphEdge]


class Owner(BaseModel):
    """A user or agent with memories in a store."""

    user_id: str | None
    agent_id: str | None
    memories: int
    sessions: int
    latest: datetime | None


@dataclass(slots=True)
class Scope:
    """Who a memory belongs to. `None` fields are wildcards when reading."""

    tenant_id: str
    user_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = None


@dataclass(slots=True)
class StoredMemory:
    """A memory row as the storage layer keeps it (epoch-second floats, JSON-ready fields)."""

    id: str
    text: str
    index_text: str
    kind: str
    scope: Scope
    visibility: str
    role: str | None
    speaker: str | None
    provenance: Provenance
    content_hash: str
    created_at: float
    updated_at: float
    event_time: float | None
    valid_from: float | None = None
    valid_to: float | None = None
    version: int = 1
    supersedes: str | None = None
    superseded_by: str | None = None
    importance: float = 0.5
    access_count: int = 0
    last_accessed_at: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    keywords: list[str] = field(default_factory=list)
    entities: list[str] = field(default_factory=list)
    position: int | None = None
    embedding: np.ndarray | None = None
    seq: int | None = None
    fact_key: str | None = None
    fact_value: str | None = None
    mentioned_from: float | None = None
    mentioned_to: float | None = None
    archived: bool = False

    def to_record(self) -> MemoryRecord:
        return MemoryRecord.model_validate(self.record_fields())

    def record_fields(self) -> dict[str, Any]:
        """MemoryRecord's fields, for validating a record, or a hit holding one, in one call
        (pydantic's nested validation beats building each model with its constructor)."""
        return {
            "id": self.id, "text": self.text, "kind": self.kind, "tenant_id": self.scope.tenant_id,
            "user_id": self.scope.user_id, "agent_id": self.scope.agent_id,
            "session_id": self.scope.session_id, "visibility": self.visibility, "role": self.role,
            "speaker": self.speaker, "provenance": self.provenance,
            "created_at": to_datetime(self.created_at), "updated_at": to_datetime(self.updated_at),
            "event_time": to_datetime(self.event_time), "valid_from": to_datetime(self.valid_from),
            "valid_to": to_datetime(self.valid_to), "version": self.version,
            "supersedes": self.supersedes, "superseded_by": self.superseded_by,
            "importance": self.importance, "access_count": self.access_count,
            "last_accessed_at": to_datetime(self.last_accessed_at), "metadata": self.metadata,
            "keywords": self.keywords, "entities": self.entities, "position": self.position,
            "fact_key": self.fact_key, "fact_value": self.fact_value,
            "mentioned_from": to_datetime(self.mentioned_from),
            "mentioned_to": to_datetime(self.mentioned_to), "archived": self.archived,
        }
