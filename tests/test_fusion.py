"""Fusion: ranks put channels on one footing; scaled scores keep the margin of a clear winner."""

from memgrid.read.fusion import fuse


def test_rank_only_fusion_ignores_raw_scores() -> None:
    ranked = {"a": [(1, 100.0), (2, 1.0)], "b": [(2, 0.9), (1, 0.1)]}
    scores, explain = fuse(ranked, {"a": 1.0, "b": 1.0}, k=60)
    assert scores[1] == scores[2]  # rank 1 once and rank 2 once each
    assert explain[1] == {"a": (1, 100.0), "b": (2, 0.1)}


def test_scaled_scores_reward_a_clear_margin() -> None:
    # channel a is sure of 1; channel b barely prefers 2: the clear margin decides
    ranked = {"a": [(1, 10.0), (2, 1.0), (3, 0.0)], "b": [(2, 0.51), (1, 0.50), (3, 0.0)]}
    scores, _ = fuse(ranked, {"a": 1.0, "b": 1.0}, k=60, score_weight=4.0)
    assert scores[1] > scores[2] > scores[3]
    rank_only, _ = fuse(ranked, {"a": 1.0, "b": 1.0}, k=60)
    assert rank_only[1] == rank_only[2]


def test_zero_weight_channel_is_explained_but_not_scored() -> None:
    scores, explain = fuse({"a": [(1, 1.0)], "b": [(2, 5.0)]}, {"a": 1.0, "b": 0.0}, k=60, score_weight=2)
    assert 2 not in scores and explain[2] == {"b": (1, 5.0)}


def test_a_lone_or_tied_candidate_counts_as_its_channels_best() -> None:
    scores, _ = fuse({"a": [(1, 3.0), (2, 3.0)], "b": [(3, 0.2)]}, {"a": 1.0, "b": 1.0}, k=60, score_weight=2)
    assert scores[1] > scores[2] > 0  # rank still orders ties
    assert scores[3] == scores[1]  # a channel's only hit is its best one
