"""Fusion: ranks put channels on one footing; scaled scores keep the margin of a clear winner."""

from datetime import UTC, datetime

from memgrid.config import RetrievalConfig
from memgrid.read.fusion import Explain, fuse
from memgrid.read.query import plan_query
from memgrid.read.rerank import discount_questions, prefer_dated, prefer_named_speakers
from memgrid.storage.base import Placement
from memgrid.text import question_share


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


def test_question_share_counts_question_sentences_by_length() -> None:
    assert question_share("What got you into running?") == 1.0
    assert question_share("I ran 10k today. It was great!") == 0.0
    mixed = question_share("I signed up for a pottery class. Have you tried it?")
    assert 0.3 < mixed < 0.7
    assert question_share("") == 0.0 and question_share("no punctuation at all") == 0.0


def test_turns_that_only_ask_rank_below_turns_that_tell() -> None:
    def at(text: str) -> Placement:
        return Placement("s1", 0.0, None, 0.5, 0, None, text, None)

    placed = {1: at("What do you love about camping?"), 2: at("Camping by the lake resets me."),
              3: at("Wow! Camping, huh? I went to the mountains last week.")}
    scores = {1: 1.0, 2: 1.0, 3: 1.0}
    explain: Explain = {}
    discount_questions(RetrievalConfig(question_discount=0.25), scores, explain, placed)
    assert scores[1] == 0.75 and scores[2] == 1.0 and 0.75 < scores[3] < 1.0
    assert explain[1]["question"] == (0, 1.0) and 2 not in explain


def test_turns_by_the_speaker_the_query_names_rank_first() -> None:
    def by(speaker: str | None) -> Placement:
        return Placement("s1", 0.0, None, 0.5, 0, None, "I love hiking.", speaker)

    placed = {1: by("Melanie"), 2: by("Caroline"), 3: by(None)}
    cfg = RetrievalConfig(speaker_discount=0.1)
    scores = {1: 1.0, 2: 1.0, 3: 1.0}
    explain: Explain = {}
    prefer_named_speakers(cfg, ["melanie"], scores, explain, placed)
    assert scores == {1: 1.0, 2: 0.9, 3: 0.9} and explain[2]["other_speaker"] == (0, 0.1)
    unchanged = {1: 1.0, 2: 1.0, 3: 1.0}
    prefer_named_speakers(cfg, ["paris"], unchanged, {}, placed)  # names no speaker: no effect
    assert unchanged == {1: 1.0, 2: 1.0, 3: 1.0}


def test_when_questions_prefer_turns_that_say_when() -> None:
    def at(text: str, mentioned_from: float | None = None) -> Placement:
        return Placement("s1", 0.0, None, 0.5, 0, None, text, "Nate", mentioned_from)

    placed = {1: at("Alright, see you tomorrow!", mentioned_from=1.0), 2: at("Alright, see you!"),
              3: at("I won the tournament the other day")}
    scores = {1: 1.0, 2: 1.0, 3: 1.0}
    explain: Explain = {}
    prefer_dated(RetrievalConfig(undated_discount=0.15), scores, explain, placed)
    assert scores == {1: 1.0, 2: 0.85, 3: 1.0} and explain[2]["undated"] == (0, 0.15)
    assert plan_query("When did Nate win his third tourney?", 0.0).asks_when
    assert plan_query("How long has Nate had his turtles?", 0.0).asks_when
    assert not plan_query("What did Nate win?", 0.0).asks_when


def test_dense_query_leaves_out_the_time_the_time_channel_filters_by() -> None:
    ref = datetime(2022, 6, 1, tzinfo=UTC).timestamp()
    dated = plan_query("What did Nate dye in April 2022?", ref)
    assert dated.time_range is not None and dated.semantic_text == "What did Nate dye ?"
    assert "april" in dated.terms  # BM25 still matches the indexed date prefix
    assert plan_query("Where is May's house?", ref).semantic_text == "Where is May's house?"
    assert plan_query("last week", ref).semantic_text == "last week"  # nothing left: keep it all


def test_bench_configurations_switch_exactly_one_thing() -> None:
    from memgrid.bench.locomo import ABLATIONS, retrieval_for

    base = RetrievalConfig()
    for name, change in ABLATIONS.items():
        cfg = retrieval_for(f"memgrid-{name}", base)
        changed = {k for k in RetrievalConfig.model_fields if getattr(cfg, k) != getattr(base, k)}
        assert changed <= set(change) and changed, name  # nothing else moves; something does
    alone = retrieval_for("memgrid-only-time", base)
    assert alone.weight_time == 1 and alone.weight_dense == alone.weight_bm25 == alone.score_weight == 0


def test_a_raw_score_that_is_no_number_counts_as_zero() -> None:
    from memgrid.read.fusion import fuse

    scores, explain = fuse({"dense": [(1, float("nan")), (2, 0.5)], "bm25": [(1, 2.0)]},
                           {"dense": 1.0, "bm25": 1.0}, k=60, score_weight=12)
    assert all(value == value for value in scores.values())  # no NaN reaches a hit's score
    assert explain[1]["dense"] == (1, 0.0)
