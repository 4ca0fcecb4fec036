"""One configuration object for a memgrid instance (no globals, no hidden env reads after init)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from memgrid.errors import InvalidInputError


def default_home() -> Path:
    """$MEMGRID_HOME, else ~/.memgrid: where the default database and cached models live."""
    return Path(os.environ.get("MEMGRID_HOME") or Path.home() / ".memgrid")


class EmbedderConfig(BaseModel):
    """Which embedder to use. `static` is the measured default (see docs/design.md, Embedders)."""

    model_config = ConfigDict(extra="forbid")

    provider: Literal["static", "minilm", "openai", "hashing"] = "static"
    model: str | None = Field(default=None, description="model name for openai; path override")
    dims: int | None = Field(default=None, description="output dims (hashing; openai if allowed)")
    base_url: str = "https://api.openai.com/v1"
    api_key: str | None = None
    batch_size: int = Field(default=256, ge=1)
    cache_size: int = Field(default=20_000, ge=0, description="LRU entries keyed by text hash")


class RetrievalConfig(BaseModel):
    """Read-path knobs. Weights were tuned on a dev split of LoCoMo (see docs/benchmarks.md)."""

    model_config = ConfigDict(extra="forbid")

    candidates: int = Field(default=70, ge=1, description="hits each channel contributes")
    rrf_k: float = Field(default=60.0, gt=0)
    score_weight: float = Field(default=12.0, ge=0,
                                description="channel scores scaled to [0, 1], times rank 1's share")
    weight_dense: float = Field(default=0.5, ge=0)
    weight_bm25: float = Field(default=1.0, ge=0)
    weight_entity: float = Field(default=0.0, ge=0)
    weight_time: float = Field(default=0.5, ge=0)
    dense_without_time: bool = Field(default=True,
                                     description="embed a dated query without its date words")
    recency_weight: float = Field(default=0.0, ge=0, description="boost for recent memories")
    recency_half_life_days: float = Field(default=30.0, gt=0)
    rerank_depth: int = Field(default=60, ge=1, description="fused hits the rerank stages see (or limit)")
    neighbor_weight: float = Field(default=0.35, ge=0, description="share of score passed to adjacent turns")
    second_neighbor_weight: float = Field(default=0.25, ge=0, description="share passed to turns two away")
    reply_weight: float = Field(default=0.8, ge=0,
                                description="extra share a question passes to the turn after it")
    neighbor_from: int = Field(default=20, ge=1, description="how many top hits pass score to neighbours")
    session_weight: float = Field(default=3.0, ge=0, description="boost from the hit's session rank")
    question_discount: float = Field(default=0.25, ge=0, le=1,
                                     description="score cut for turns that only ask")
    undated_discount: float = Field(default=0.15, ge=0, le=1,
                                    description="score cut for turns that say no time, in 'when' questions")
    speaker_discount: float = Field(default=0.1, ge=0, le=1,
                                    description="score cut for turns by others if the query names a speaker")
    superseded_weight: float = Field(default=0.5, ge=0, le=1, description="score factor for superseded facts")
    retention_weight: float = Field(default=0.0, ge=0, le=1, description="how much forgetting weights rank")
    retention_half_life_days: float = Field(default=30.0, gt=0)
    weight_session_units: float = Field(default=24.0, ge=0,
                                        description="rank sessions by their consolidated transcripts")
    weight_topic_units: float = Field(default=0.0, ge=0, description="lift members of matching topics")
    topic_top: int = Field(default=5, ge=1, description="how many matching topics lift their members")
    session_top: int = Field(default=3, ge=1, description="turn scores summed into a session score")
    link_weight: float = Field(default=0.0, ge=0, description="share of a hit's score spread along its links")
    link_from: int = Field(default=10, ge=1, description="how many top hits spread along links")
    link_hops: int = Field(default=1, ge=1, le=3, description="how far activation spreads")


class LinkConfig(BaseModel):
    """Links made on write (A-MEM style): a memory's nearest memories in meaning and the memories
    that name the same things, within its user. Read them with Memory.related; search follows
    them when RetrievalConfig.link_weight > 0."""

    model_config = ConfigDict(extra="forbid")

    neighbors: int = Field(default=5, ge=0, le=50, description="links of each kind per memory; 0 = none")
    min_similarity: float = Field(default=0.5, ge=-1, le=1, description="cosine for a 'similar' link")


class TopicConfig(BaseModel):
    """Topic summaries made by consolidate: memories clustered by meaning across sessions."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    min_similarity: float = Field(default=0.7, ge=-1, le=1, description="cosine to join a topic")
    max_members: int = Field(default=20, ge=2, le=500)
    min_members: int = Field(default=3, ge=2, description="smaller clusters get no summary")
    central: int = Field(default=5, ge=1, le=50, description="members quoted in the summary")


def _env(name: str) -> str | None:
    return os.environ.get(name) or None


class LLMConfig(BaseModel):
    """The optional model (any OpenAI-compatible endpoint; `local` = llama.cpp in this process).
    Unset, memgrid calls no model: add and search stay zero-LLM. Read from MEMGRID_LLM_* once,
    when the config is built."""

    model_config = ConfigDict(extra="forbid")

    base_url: str | None = Field(default_factory=lambda: _env("MEMGRID_LLM_BASE_URL"),
                                 description="e.g. http://127.0.0.1:8080/v1, or 'local'")
    model: str | None = Field(default_factory=lambda: _env("MEMGRID_LLM_MODEL"),
                              description="the model name the endpoint expects")
    api_key: str | None = Field(default_factory=lambda: _env("MEMGRID_LLM_API_KEY"))
    local_model: Literal["0.5b", "1.5b"] = Field(
        default="1.5b", description="with base_url 'local': which packaged Qwen2.5-Coder to run")
    timeout: float = Field(default=300.0, gt=0, description="seconds for one call")
    max_tokens: int = Field(default=512, ge=1, le=32_768, description="most tokens an answer may have")
    max_retries: int = Field(default=2, ge=0, le=10,
                             description="retries of a failed call or of output that breaks the schema")
    cache_size: int = Field(default=2_000, ge=0, description="answers kept, keyed by prompt hash")
    context_tokens: int = Field(default=8_192, ge=512, description="'local': the model's context window")

    @property
    def enabled(self) -> bool:
        return bool(self.base_url)

    @property
    def packaged_model(self) -> Literal["0.5b", "1.5b"]:
        """With base_url 'local': the packaged model to run; `model` may name it
        (`--llm-base-url local --llm-model 0.5b`), else `local_model`."""
        if not self.model:
            return self.local_model
        if self.model not in ("0.5b", "1.5b"):
            raise InvalidInputError(f"the local model is 0.5b or 1.5b, not {self.model!r}: "
                                    f"--llm-model / MEMGRID_LLM_MODEL 0.5b or 1.5b, or leave it unset")
        return "0.5b" if self.model == "0.5b" else "1.5b"


class MemgridConfig(BaseModel):
    """Everything a Memory needs. Build it once and pass it in; nothing else is read later."""

    model_config = ConfigDict(extra="forbid")

    path: Path | None = Field(default=None, description="SQLite file; default <home>/memgrid.db")
    db_url: str | None = Field(default=None, description="postgresql://... to use PostgreSQL instead")
    pool_size: int = Field(default=8, ge=1, le=1000,
                           description="most PostgreSQL connections a process holds (opened on demand)")
    home: Path = Field(default_factory=default_home)
    embedder: EmbedderConfig = Field(default_factory=EmbedderConfig)
    retrieval: RetrievalConfig = Field(default_factory=RetrievalConfig)
    links: LinkConfig = Field(default_factory=LinkConfig)
    topics: TopicConfig = Field(default_factory=TopicConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    tenant_id: str = "default"
    max_text_chars: int = Field(default=32_000, ge=1)
    durability: Literal["full", "normal"] = Field(
        default="full", description="SQLite synchronous mode; full survives power loss"
    )
    supersession: bool = Field(default=True, description="link facts that replace older ones")
    fact_judge: Literal["values", "model"] = Field(
        default_factory=lambda: _env("MEMGRID_FACT_JUDGE") or "values", validate_default=True,
        description="whether a new statement replaces the old one holding the same "
        "fact: decided by comparing values (zero-LLM) or by the model of `llm` (Mem0's decision), "
        "which then also reads the sentences the zero-LLM detector left without a key")
    extraction_worker: bool = Field(
        default=True, description="run fact extraction queued by add(infer=True, background=True) "
        "in a thread of this process; False: another process drains it (`memgrid extract drain`)")
    extraction_lease_s: float = Field(
        default=900.0, gt=0, description="how long a worker holds a queued extraction job before "
        "another may take it over (it died); longer than one add's extraction takes")
    vector_save_every: int = Field(
        default=5_000, ge=1, description="writes between saves of the vector index file"
    )
    sqlite_mmap_mb: int = Field(
        # a search at 100k memories, same process, alternating: p50 5.8 -> 5.2 ms (256 MiB);
        # the mapped pages the store reads count in the process's RSS (file-backed, reclaimable)
        default=256, ge=0, description="SQLite: MiB of the file read through a memory map (0: off)"
    )
    text_index_from: int | None = Field(
        # FTS5 scores every row holding a query term (5 ms p50 at 100k recombined LoCoMo turns,
        # 54 ms at 1M); tantivy stays near 1 ms but commits (an fsync) before the first search
        # after each write, so below this size FTS5 is the cheaper of the two
        default=100_000, ge=0,
        description="SQLite: memories from which full text is ranked by tantivy instead of FTS5 "
                    "(None: always FTS5)",
    )

    def db_path(self) -> Path:
        return self.path if self.path is not None else self.home / "memgrid.db"
