from __future__ import annotations

import json
from pathlib import Path

import pytest

from memgrid.bench.longmemeval import load, messages_of, parse_date, run_longmemeval
from memgrid.errors import InvalidInputError

FIXTURE = Path(__file__).parent / "fixtures" / "longmemeval_tiny.json"


def test_loader_reads_the_format() -> None:
    questions = load(FIXTURE)
    sessions = messages_of(questions[0])
    assert [s[0] for s in sessions] == ["s_a", "s_b", "s_c"]
    assert sessions[2][1] == parse_date("2023/05/20 (Sat) 02:21")
    assert sessions[1][2][0]["metadata"] == {"turn_id": "s_b_0", "has_answer": True}


def test_loader_rejects_other_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([{"question": "x"}]))
    with pytest.raises(InvalidInputError, match="not LongMemEval"):
        load(bad)
    with pytest.raises(InvalidInputError):
        parse_date("May 20th")


def test_harness_scores_the_fixture(tmp_path: Path, model_home: Path) -> None:
    out = tmp_path / "lme.json"
    results = run_longmemeval(FIXTURE, ["memgrid", "bm25"], "hashing", model_home,
                              json_out=out, log=lambda *_: None)
    r = results["bm25"]
    assert r["questions"] == 2  # the _abs question is excluded
    assert r["session_recall_any@1"] == 1.0  # distinct words: BM25 must rank the answer first
    assert r["session_recall_all@3"] == 1.0
    assert set(r["per_category"]) == {"single-session-user", "multi-session"}
    assert r["per_category"]["multi-session"]["session_recall_all@1"] == 0.0  # two answer sessions
    assert json.loads(out.read_text()).keys() == {"memgrid", "bm25"}
