"""The read path in one place: plan the query, run channels, fuse, rerank, return explained hits."""

from __future__ import annotations

import time
from dataclasses import replace

from memgrid.config import RetrievalConfig
from memgrid.embedders.base import CachedEmbedder
from memgrid.lifecycle.consolidate import SESSION_KIND
from memgrid.lifecycle.topics import TOPIC_KIND
from memgrid.models import Scope, SearchHit
from memgrid.read import channels, rerank
from memgrid.read.asked import asked_facts
from memgrid.read.fusion import fuse
from memgrid.read.query import plan_query
from memgrid.storage.base import Store
from memgrid.validation import Filters


class Retriever:
    def __init__(self, store: Store, embedder: CachedEmbedder, config: RetrievalConfig) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config

    def search(self, query: str, scope: Scope, filters: Filters, limit: int,
               reference_time: float | None = None, config: RetrievalConfig | None = None) -> list[SearchHit]:
        """`config` overrides the instance's read-path settings for one call (a tenant's policy)."""
        cfg = config or self.config
        if not filters.kinds:  # derived units rank what they summarise; they are not hits themselves
            filters = replace(filters, exclude_kinds=(*filters.exclude_kinds, SESSION_KIND, TOPIC_KIND))
        now = time.time() if reference_time is None else reference_time
        plan = plan_query(query, now)
        vector = self.embedder.embed([plan.semantic_text if cfg.dense_without_time else query])[0]
        k = max(cfg.candidates, limit)
        ranked = {
            "dense": channels.dense(self.store, scope, filters, vector, k),
            "bm25": channels.bm25(self.store, scope, filters, plan, k),
            "entity": channels.entity(self.store, scope, filters, plan, k) if cfg.weight_entity else [],
            "time": channels.time_scoped(self.store, scope, filters, plan, vector, k)
            if cfg.weight_time else [],
        }
        weights = {"dense": cfg.weight_dense, "bm25": cfg.weight_bm25,
                   "entity": cfg.weight_entity, "time": cfg.weight_time}
        fused, explain = fuse(ranked, weights, cfg.rrf_k, cfg.score_weight)
        # rerank only the head of the fused list: on the dev split keeping 60 ranks exactly as
        # keeping all, and every stage below costs per candidate
        scores = {s: fused[s] for s in sorted(fused, key=lambda s: -fused[s])[: max(cfg.rerank_depth, limit)]}
        units = (channels.derived_units(self.store, scope, filters, plan, 10, SESSION_KIND)
                 if cfg.weight_session_units > 0 and SESSION_KIND in filters.exclude_kinds else [])
        # one lookup for the candidates and the session units; neighbours bring their own
        placed = self.store.placement([*scores, *(s for s, _ in units)])
        unit_placed = {s: placed.pop(s) for s, _ in units if s in placed and s not in scores}
        if cfg.neighbor_weight > 0 or cfg.reply_weight > 0 or cfg.second_neighbor_weight > 0:
            rerank.spread_to_neighbors(cfg, self.store, scope, filters, scores, explain, placed)
        if cfg.link_weight > 0:
            rerank.spread_along_links(cfg, self.store, scope, filters, scores, explain)
            placed.update(self.store.placement([s for s in scores if s not in placed]))
        if cfg.session_weight > 0:
            rerank.boost_sessions(cfg, scores, explain, placed)
        if unit_placed:
            rank = {unit_placed[s].session_id: r for r, (s, _) in enumerate(units, 1) if s in unit_placed}
            rerank.boost_ranked_sessions(cfg, scores, explain, placed, rank)
        if cfg.weight_topic_units > 0 and TOPIC_KIND in filters.exclude_kinds:
            topics = channels.derived_units(self.store, scope, filters, plan, cfg.topic_top, TOPIC_KIND)
            rerank.boost_topic_members(cfg, self.store, scores, explain, topics)
        if cfg.recency_weight > 0:
            rerank.boost_recent(cfg, scores, explain, placed, now)
        if cfg.retention_weight > 0:
            rerank.weight_retention(cfg, scores, explain, placed, now)
        if filters.as_of is None:  # "as of T" already keeps only what was true then
            rerank.prefer_current(cfg, self.store, scope, filters, scores, explain, placed)
        if cfg.question_discount > 0:
            rerank.discount_questions(cfg, scores, explain, placed)
        rerank.rank_echoes_below(scores, explain, placed)
        if cfg.undated_discount > 0 and plan.asks_when:
            rerank.prefer_dated(cfg, scores, explain, placed)
        if cfg.speaker_discount > 0 and plan.names:
            rerank.prefer_named_speakers(cfg, plan.names, scores, explain, placed)
        rerank.put_current_fact_first(self.store, scope, filters, asked_facts(query), scores, explain,
                                      then=plan.time_range[1] - 1e-3 if plan.time_range else None)
        best = sorted(scores, key=lambda s: -scores[s])[:limit]
        memories = self.store.get_by_seq(best)
        best = [s for s in best if s in memories]  # deleted by another writer meanwhile
        self.store.touch(best, time.time())
        # one validation per hit, nested models included: cheaper than their constructors
        return [SearchHit.model_validate({
            "score": scores[s], "memory": memories[s].record_fields(),
            "explain": {c: {"rank": r, "score": v} for c, (r, v) in explain[s].items()}})
            for s in best]
