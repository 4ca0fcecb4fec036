from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from memgrid.bench.longmemeval import Corpus, conversation_of, load, parse_date, run_longmemeval
from memgrid.bench.metrics import lme_dcg, lme_scores, sessions_of_turns
from memgrid.errors import InvalidInputError

FIXTURE = Path(__file__).parent / "fixtures" / "longmemeval_tiny.json"


def test_loader_reads_the_format() -> None:
    questions = load(FIXTURE)
    conv = conversation_of(questions[0])
    assert conv.sample_id == "q1" and conv.turn_key == "turn_id"
    assert [s[0] for s in conv.sessions] == ["s_a", "s_b", "s_c"]
    assert conv.sessions[2][1] == parse_date("2023/05/20 (Sat) 02:21")
    first = conv.sessions[1][2][0]
    # LongMemEval's turn ids count from 1; the evidence label is not handed to the system
    assert first["metadata"] == {"turn_id": "s_b_1"} and first["role"] == "user"
    assert conv.sessions[1][2][1]["metadata"] == {"turn_id": "s_b_2"}


def test_loader_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"question": "x"}]))
    with pytest.raises(InvalidInputError, match="not LongMemEval"):
        load(bad)
    with pytest.raises(InvalidInputError):
        parse_date("May 20th")


def test_dcg_counts_the_first_two_ranks_in_full() -> None:
    assert lme_dcg([1, 1, 1]) == pytest.approx(2 + 1 / math.log2(3))
    assert lme_dcg([0, 1]) == 1.0  # the standard form would give 1 / log2(3)
    expected = (1.0, 1.0, (1 + 1 / math.log2(3)) / 2)
    assert lme_scores(["a", "x", "b"], {"a", "b"}, 2, 3) == pytest.approx(expected)
    assert lme_scores(["x"], {"a"}, 1, 1) == (0.0, 0.0, 0.0)
    assert sessions_of_turns(["A", "A", "B", "A", "C"], 3) == 5
    assert sessions_of_turns(["A", "B"], 3) == 2  # fewer sessions than k: all of them


def test_scores_follow_longmemevals_corpus_rules() -> None:
    """Answer sessions A and C; A's turn without has_answer counts as its own 'noans' session;
    assistant turns are not in the corpus. Expected values worked out by hand."""
    question = {
        "answer_session_ids": ["A", "C"], "haystack_session_ids": ["A", "B", "C"],
        "haystack_sessions": [
            [{"role": "user", "content": "x", "has_answer": True}, {"role": "assistant", "content": "x"},
             {"role": "user", "content": "x", "has_answer": False}],
            [{"role": "user", "content": "x"}, {"role": "assistant", "content": "x"}],
            [{"role": "user", "content": "x", "has_answer": True}, {"role": "assistant", "content": "x"}]],
    }
    corpus = Corpus.of(question)
    assert corpus.evidence == {"A_1", "C_1"}
    assert corpus.session_of == {"A_1": "A", "A_3": "A (noans)", "B_1": "B", "C_1": "C"}
    row = corpus.scores(["A_2", "A_3", "B_1", "A_1", "C_2", "C_1"])  # user turns: A_3 B_1 A_1 C_1
    third, fourth = 1 / math.log2(3), 1 / math.log2(4)
    assert row["turn_recall_any@1"] == 0.0 and row["turn_ndcg_any@1"] == 0.0
    assert (row["turn_recall_any@3"], row["turn_recall_all@3"]) == (1.0, 0.0)
    assert row["turn_ndcg_any@3"] == pytest.approx(third / 2)
    assert (row["turn_recall_all@5"], row["turn_ndcg_any@5"]) == (1.0, pytest.approx((third + fourth) / 2))
    # sessions in turn order: A (noans), B, A, C
    assert row["session_recall_any@1"] == 0.0
    assert (row["session_recall_any@3"], row["session_recall_all@3"]) == (1.0, 0.0)
    assert row["session_ndcg_any@3"] == pytest.approx(third / 2)
    assert row["session_recall_all@5"] == 1.0
    assert row["session_ndcg_any@5"] == pytest.approx((third + fourth) / 2)


def test_harness_scores_the_fixture(tmp_path: Path, model_home: Path) -> None:
    out = tmp_path / "lme.json"
    results = run_longmemeval(FIXTURE, ["memgrid", "bm25"], "hashing", model_home,
                              json_out=out, log=lambda *_: None)
    r = results["bm25"]
    assert r["questions"] == 2  # the _abs question is excluded
    assert r["skipped_no_user_evidence"] == 1  # q4: only the assistant's turn holds the answer
    assert r["session_recall_any@1"] == 1.0  # distinct words: BM25 must rank the answer first
    assert r["session_recall_all@3"] == 1.0
    assert set(r["per_category"]) == {"single-session-user", "multi-session"}
    assert r["per_category"]["multi-session"]["session_recall_all@1"] == 0.0  # two answer sessions
    assert r["per_category"]["single-session-user"]["turn_recall_any@1"] == 1.0
    assert r["ingest_turns"] == 6 + 8  # every turn of both roles is stored, q4's not at all
    assert results["memgrid"]["questions"] == 2
    for scores in (r, r["per_category"]["multi-session"]):  # the keys every bench JSON has
        assert scores["recall@5"] == scores["hit@5"] == scores["session_recall_any@5"]
        assert scores["ndcg@10"] == scores["session_ndcg_any@10"]
    assert json.loads(out.read_text()).keys() == {"memgrid", "bm25"}


@pytest.mark.slow
def test_mem0_peer_runs_on_longmemeval(tmp_path: Path, model_home: Path) -> None:
    results = run_longmemeval(FIXTURE, ["mem0"], "static", model_home, log=lambda *_: None)
    r = results["mem0"]
    assert r["questions"] == 2 and r["ingest_turns"] == 14
    assert 0.0 <= r["session_recall_any@1"] <= r["session_recall_any@10"] == 1.0  # 3 sessions each
