"""The read path in one place: plan the query, run channels, fuse, rerank, return explained hits."""

from __future__ import annotations

import math
import time

from memgrid.config import RetrievalConfig
from memgrid.embedders.base import CachedEmbedder
from memgrid.models import ChannelScore, Scope, SearchHit
from memgrid.read import channels
from memgrid.read.fusion import Explain, rrf
from memgrid.read.query import plan_query
from memgrid.storage.base import Placement, Store
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
            self._spread_to_neighbors(scores, explain, cfg.neighbor_from)
        if cfg.session_weight > 0 or cfg.recency_weight > 0:
            placed = self.store.placement(list(scores))
            if cfg.session_weight > 0:
                self._boost_sessions(scores, explain, placed)
            if cfg.recency_weight > 0:
                self._boost_recent(scores, explain, placed, now)
        best = sorted(scores, key=lambda s: -scores[s])[:limit]
        memories = self.store.get_by_seq(best)
        best = [s for s in best if s in memories]  # deleted by another writer meanwhile
        self.store.touch(best, time.time())
        return [SearchHit(score=scores[s], memory=memories[s].to_record(),
                          explain={c: ChannelScore(rank=r, score=v) for c, (r, v) in explain[s].items()})
                for s in best]

    def _boost_recent(self, scores: dict[int, float], explain: Explain,
                      placed: dict[int, Placement], now: float) -> None:
        half_life = self.config.recency_half_life_days * 86400.0
        for seq, (_, when) in placed.items():
            age = max(0.0, now - when)
            boost = self.config.recency_weight / (self.config.rrf_k + 1) * math.exp(
                -age * math.log(2) / half_life)
            scores[seq] += boost
            explain.setdefault(seq, {})["recency"] = (0, boost)

    def _boost_sessions(self, scores: dict[int, float], explain: Explain,
                        placed: dict[int, Placement]) -> None:
        """Coarse granularity: a session many strong hits fall in lifts all its turns."""
        per_session: dict[str | None, list[float]] = {}
        for seq, (session, _) in placed.items():
            per_session.setdefault(session, []).append(scores[seq])
        session_score = {sid: sum(sorted(v, reverse=True)[: self.config.session_top])
                         for sid, v in per_session.items()}
        ranked = sorted(session_score, key=lambda s: -session_score[s])
        rank_of = {sid: r for r, sid in enumerate(ranked, start=1)}
        for seq, (session, _) in placed.items():
            r = rank_of[session]
            scores[seq] += self.config.session_weight / (self.config.rrf_k + r)
            explain.setdefault(seq, {})["session"] = (r, session_score[session])

    def _spread_to_neighbors(self, scores: dict[int, float], explain: Explain, k: int) -> None:
        """Adjacent turns share context ('What did she say to that?'): pass them part of a score."""
        top = sorted(scores, key=lambda s: -scores[s])[:k]
        spread: dict[int, float] = {}
        for seq, near in self.store.neighbors(top, radius=1).items():
            for other in near:
                spread[other] = max(spread.get(other, 0.0), scores[seq] * self.config.neighbor_weight)
        for seq, bonus in spread.items():
            scores[seq] = scores.get(seq, 0.0) + bonus
            explain.setdefault(seq, {})["neighbor"] = (0, bonus)
