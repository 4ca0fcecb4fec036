"""Weighted reciprocal-rank fusion: robust to channels whose raw scores are not comparable."""

from __future__ import annotations

Explain = dict[int, dict[str, tuple[int, float]]]  # seq -> channel -> (rank, raw score)


def rrf(channels: dict[str, list[tuple[int, float]]], weights: dict[str, float],
        k: float) -> tuple[dict[int, float], Explain]:
    scores: dict[int, float] = {}
    explain: Explain = {}
    for name, ranked in channels.items():
        weight = weights.get(name, 0.0)
        for rank, (seq, raw) in enumerate(ranked, start=1):
            if weight > 0:
                scores[seq] = scores.get(seq, 0.0) + weight / (k + rank)
            explain.setdefault(seq, {})[name] = (rank, raw)
    return scores, explain
