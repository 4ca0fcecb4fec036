"""Retrieval metrics as LoCoMo and LongMemEval evaluations define them (binary relevance)."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def recall_at_k(retrieved: Sequence[str], relevant: set[str], k: int) -> float:
    """Fraction of the relevant items found in the top k (LoCoMo 'evidence recall')."""
    if not relevant:
        return 0.0
    return len(set(retrieved[:k]) & relevant) / len(relevant)


def hit_at_k(retrieved: Sequence[str], relevant: set[str], k: int) -> float:
    """1 if any relevant item is in the top k (LongMemEval 'recall_any')."""
    return float(bool(set(retrieved[:k]) & relevant))


def all_at_k(retrieved: Sequence[str], relevant: set[str], k: int) -> float:
    """1 if every relevant item is in the top k (LongMemEval 'recall_all')."""
    return float(bool(relevant) and relevant <= set(retrieved[:k]))


def ndcg_at_k(retrieved: Sequence[str], relevant: set[str], k: int) -> float:
    dcg = sum(1.0 / math.log2(i + 2) for i, item in enumerate(retrieved[:k]) if item in relevant)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def lme_dcg(relevances: Sequence[float]) -> float:
    """LongMemEval's DCG: rank 1 and rank 2 both count in full, rank r > 2 is divided by
    log2(r) (the standard form divides rank r by log2(r + 1)); its scores use this one."""
    return sum(rel if i == 0 else rel / math.log2(i + 1) for i, rel in enumerate(relevances))


def lme_scores(ranked: Sequence[str], relevant: set[str], corpus_relevant: int,
               k: int) -> tuple[float, float, float]:
    """recall_any@k, recall_all@k and ndcg_any@k as LongMemEval's retrieval evaluation computes
    them. `ranked` may repeat an id (sessions of ranked turns); `corpus_relevant` is how many
    items of the whole corpus carry a relevant id (the ideal ranking puts them all first)."""
    top = ranked[:k]
    found = set(top)
    ideal = lme_dcg([1.0] * min(corpus_relevant, k))
    ndcg = lme_dcg([1.0 if item in relevant else 0.0 for item in top]) / ideal if ideal else 0.0
    return (float(any(r in found for r in relevant)), float(all(r in found for r in relevant)), ndcg)


def sessions_of_turns(ranked_sessions: Sequence[str], k: int) -> int:
    """How deep a ranking of turns (given as their sessions) must go to hold k distinct sessions:
    LongMemEval scores sessions ranked through their turns at that depth."""
    seen: set[str] = set()
    for depth, session in enumerate(ranked_sessions, 1):
        seen.add(session)
        if len(seen) >= k:
            return depth
    return len(ranked_sessions)


def percentile_ms(samples_s: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples_s) * 1000.0, q)) if samples_s else 0.0


def unique_in_order(items: Sequence[str]) -> list[str]:
    """A turn reached twice (e.g. through two units) counts once, at its first rank."""
    return list(dict.fromkeys(items))
