"""Fusion of channel rankings: weighted reciprocal ranks plus each channel's own score scaled to
[0, 1] over its candidates. Ranks put channels whose raw scores live on different scales on one
footing; the scaled score keeps what ranks throw away: how far the best hits stand above the rest
(measured on the LoCoMo dev split: see docs/benchmarks.md)."""

from __future__ import annotations

import math

Explain = dict[int, dict[str, tuple[int, float]]]  # seq -> channel -> (rank, raw score)


def fuse(channels: dict[str, list[tuple[int, float]]], weights: dict[str, float],
         k: float, score_weight: float = 0.0) -> tuple[dict[int, float], Explain]:
    """A channel's best hit gains up to `score_weight` times what rank 1 gives it. A raw score
    that is no number (pgvector's cosine against a zero vector: a query of no words) counts as 0."""
    channels = {name: [(seq, raw if math.isfinite(raw) else 0.0) for seq, raw in ranked]
                for name, ranked in channels.items()}
    scores: dict[int, float] = {}
    explain: Explain = {}
    for name, ranked in channels.items():
        weight = weights.get(name, 0.0)
        raws = [raw for _, raw in ranked]
        bottom, top = min(raws, default=0.0), max(raws, default=0.0)
        for rank, (seq, raw) in enumerate(ranked, start=1):
            if weight > 0:
                scaled = (raw - bottom) / (top - bottom) if top > bottom else 1.0  # all tied best
                share = 1 / (k + rank) + score_weight * scaled / (k + 1)
                scores[seq] = scores.get(seq, 0.0) + weight * share
            explain.setdefault(seq, {})[name] = (rank, raw)
    return scores, explain
