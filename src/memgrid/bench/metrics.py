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


def percentile_ms(samples_s: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples_s) * 1000.0, q)) if samples_s else 0.0


def unique_in_order(items: Sequence[str]) -> list[str]:
    """A turn reached twice (e.g. through two units) counts once, at its first rank."""
    return list(dict.fromkeys(items))
