"""The read path in one place: plan the query, run channels, fuse, rerank, return explained hits."""

from __future__ import annotations

import math
import time

from memgrid.config import RetrievalConfig
from memgrid.embedders.base import CachedEmbedder
from memgrid.models import ChannelScore, Scope, SearchHit
from memgrid.read import channels
from memgrid.read.fusion import rrf
from memgrid.read.query import plan_query
from memgrid.storage.base import Store
from memgrid.validation import Filters


class Retriever:
    def __init__(self, store: Store, embedder: CachedEmbedder, config: RetrievalConfig) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config

    def search(self, query: str, scope: Scope, filters: Filters, limit: int,
               reference_time: float | None = None) -> list[SearchHit]:
        cfg = self.config
        now = time.time() if reference_time is None else reference_time
        plan = plan_query(query, now)
        vector = self.embedder.embed([query])[0]
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
        scores, explain = rrf(ranked, weights, cfg.rrf_k)
        if cfg.neighbor_weight > 0:
            self._spread_to_neighbors(scores, explain, k)
        memories = self.store.get_by_seq(list(scores))
        if cfg.recency_weight > 0:
            half_life = cfg.recency_half_life_days * 86400.0
            for seq, memory in memories.items():
                age = max(0.0, now - (memory.event_time or memory.created_at))
                boost = cfg.recency_weight / (cfg.rrf_k + 1) * math.exp(-age * math.log(2) / half_life)
                scores[seq] += boost
                explain[seq]["recency"] = ChannelScore(rank=0, score=boost)
        best = sorted((s for s in scores if s in memories), key=lambda s: -scores[s])[:limit]
        self.store.touch(best, time.time())
        return [SearchHit(score=scores[s], memory=memories[s].to_record(), explain=explain[s])
                for s in best]

    def _spread_to_neighbors(self, scores: dict[int, float],
                             explain: dict[int, dict[str, ChannelScore]], k: int) -> None:
        """Adjacent turns share context ('What did she say to that?'): pass them part of a score."""
        top = sorted(scores, key=lambda s: -scores[s])[:k]
        spread: dict[int, float] = {}
        for seq, near in self.store.neighbors(top, radius=1).items():
            for other in near:
                spread[other] = max(spread.get(other, 0.0), scores[seq] * self.config.neighbor_weight)
        for seq, bonus in spread.items():
            scores[seq] = scores.get(seq, 0.0) + bonus
            explain.setdefault(seq, {})["neighbor"] = ChannelScore(rank=0, score=bonus)
