"""`bench locomo --answer` against a scripted model: every system answers the same sampled
questions with the same budget, the judge's verdicts are tallied per category, and the run
records the model, the sample and the tokens it spent."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memgrid import NoModelError
from memgrid.bench.answers import JUDGE_SYSTEM, pack, sample_questions, turn_lines
from memgrid.bench.locomo import run_locomo_answers
from memgrid.config import LLMConfig
from memgrid.importers import load_locomo
from tests.conftest import LOCOMO
from tests.scripted_llm import scripted_llm

CONV = LOCOMO / "conv-26.json"
pytestmark = pytest.mark.skipif(not CONV.exists(), reason="needs ../shared/data/locomo")


def reply(body: dict[str, Any]) -> str:
    system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
    if system == JUDGE_SYSTEM:
        gold = user.split("Gold answer: ")[1].split("\nAnswer: ")[0]
        answer = user.split("\nAnswer: ")[1]
        return json.dumps({"verdict": "CORRECT" if gold.lower() in answer.lower() else "WRONG"})
    memories = user.split("Memories:\n")[1].split("\n\nQuestion:")[0]
    return json.dumps({"answer": memories, "citations": []})  # "answers" with all it was shown


def test_answer_accuracy_per_system(tmp_path: Path, model_home: Path) -> None:
    conv = load_locomo(CONV)
    sample = sample_questions([conv], 8, seed=3)
    assert [q.qa["question"] for q in sample] == [q.qa["question"] for q in sample_questions([conv], 8, 3)]
    assert all(int(q.qa["category"]) in (1, 2, 3, 4) for q in sample)
    lines = turn_lines(conv)
    context, used = pack(list(lines), lines, 200)
    assert used <= 200 and context == sorted(context)  # within budget, oldest first
    with scripted_llm(reply) as llm:
        results = run_locomo_answers(CONV, ["memgrid", "bm25"], "hashing", model_home, questions=8, seed=3,
                                     budget=300, log=lambda *a: None, json_out=tmp_path / "a.json",
                                     llm=LLMConfig(base_url="local", model="scripted").model_copy(
                                         update={"base_url": llm.url}))
    for name in ("memgrid", "bm25"):
        r = results[name]
        assert r["questions"] == 8 and 0.0 <= r["answer_accuracy"] <= 1.0
        assert 0 < r["context_tokens_mean"] <= 300 and r["prompt_tokens"] > 0
        assert set(r["by_category"]) <= {"multi-hop", "temporal", "open-domain", "single-hop"}
    assert results["full-context"]["questions"] == 8  # a remote model: no window to check against
    assert results["_run"]["model"] == "scripted" and results["_run"]["usage"]["bench-judge"]["calls"] > 0
    assert json.loads((tmp_path / "a.json").read_text())["memgrid"]["questions"] == 8


def test_deep_path_recall_on_chosen_categories(model_home: Path) -> None:
    from memgrid.bench.locomo import run_locomo
    from memgrid.llm.deep import REWRITE_SYSTEM

    def deep_reply(body: dict[str, Any]) -> str:
        if body["messages"][0]["content"] == REWRITE_SYSTEM:
            return json.dumps({"queries": [body["messages"][-1]["content"].removeprefix("Question: ")]})
        shown = body["messages"][-1]["content"].split("Memories:\n")[1].splitlines()
        return json.dumps({"relevant": list(range(1, len(shown) + 1))})  # keeps the fused order

    with scripted_llm(deep_reply) as llm:
        results = run_locomo(CONV, ["memgrid", "memgrid-deep"], "hashing", model_home, log=lambda *a: None,
                             llm=LLMConfig(base_url=llm.url, model="scripted"), categories=["open-domain"])
    plain, deep = results["memgrid"], results["memgrid-deep"]
    assert set(plain["per_category"]) == set(deep["per_category"]) == {"open-domain"}
    assert plain["questions"] == deep["questions"] > 0
    assert len(llm.requests) == 2 * deep["questions"]  # a rewrite and a rerank per question
    model = deep["llm"]  # what the model cost is in the results, per task
    assert model["model"] == "scripted" and model["failed"] == 0
    assert model["by_task"]["deep-rewrite"]["calls"] == model["by_task"]["deep-rerank"]["calls"] \
        == deep["questions"]
    assert "llm" not in plain


HALUMEM = LOCOMO.parent / "halumem" / "pilot_slice_user0.jsonl"


@pytest.mark.skipif(not HALUMEM.exists(), reason="needs ../shared/data/halumem")
def test_halumem_scores_extraction_updates_and_questions(tmp_path: Path, model_home: Path) -> None:
    from memgrid.bench.halumem import MATCH_SYSTEM, run_halumem
    from memgrid.llm.answer import SYSTEM as ANSWER_SYSTEM
    from memgrid.llm.extract import EXTRACT_SYSTEM
    from memgrid.llm.extract import JUDGE_SYSTEM as DECIDE_SYSTEM

    def halu_reply(body: dict[str, Any]) -> str:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        if system == EXTRACT_SYSTEM:  # every user turn is "a fact", from its own turn
            turns = user.splitlines()[1:]
            said = [" ".join(t.split(". ", 1)[1].split()[:12]) for t in turns[:3]]
            return json.dumps({"facts": [{"fact": f"The user said {s}", "turn": i, "attribute": "other"}
                                         for i, s in enumerate(said, 1)]})
        if system == DECIDE_SYSTEM:
            return json.dumps({"event": "ADD", "target": None})
        if system == MATCH_SYSTEM:  # a pair at a time: the nearest candidate is the same fact
            return json.dumps({"same": True})
        if system == ANSWER_SYSTEM:
            return json.dumps({"answer": "I don't know", "citations": []})
        return json.dumps({"verdict": "WRONG"})

    with scripted_llm(halu_reply) as llm:
        result = run_halumem(HALUMEM, LLMConfig(base_url=llm.url, model="scripted"), model_home, "hashing",
                             infer=True, sessions=2, json_out=tmp_path / "h.json", log=lambda *a: None)
        alone = run_halumem(HALUMEM, LLMConfig(base_url=llm.url, model="scripted"), model_home, "hashing",
                            infer=True, sessions=2, log=lambda *a: None, qa=False)
        calls = sum(r["messages"][0]["content"] == EXTRACT_SYSTEM for r in llm.requests) // 2
    e = result["extraction"]
    # up to 3 facts a call, a call per TURNS_PER_CALL user turns
    assert result["sessions"] == 2 and calls > 2 and 3 * (calls - 2) < e["extracted"] <= 3 * calls
    assert alone["questions"] == 0 and alone["extraction"]["extracted"] == e["extracted"]  # --no-qa
    assert e["gold_points"] > 0
    assert e["recall"] == 1.0 and e["precision"] == 1.0  # the scripted judge matches everything
    pairs = [r["messages"][-1]["content"] for r in llm.requests
             if r["messages"][0]["content"] == MATCH_SYSTEM]
    assert pairs and all(p.startswith("First note: ") and p.count("Second note: ") == 1 for p in pairs)
    assert e["update_accuracy"] == 0.0  # no fact superseded one: no update was linked
    assert result["questions"] == 3 and set(result["qa_by_type"]) <= {
        "Basic Fact Recall", "Memory Boundary", "Generalization & Application", "Memory Conflict",
        "Dynamic Update", "Multi-hop Inference"}
    boundary = result["qa_by_type"].get("Memory Boundary")
    assert boundary is None or boundary["accuracy"] == 1.0  # "I don't know" is right there
    assert json.loads((tmp_path / "h.json").read_text())["questions"] == 3


@pytest.mark.skipif(not HALUMEM.exists(), reason="needs ../shared/data/halumem")
def test_halumem_extraction_counts_only_pairs_the_judge_calls_the_same(model_home: Path) -> None:
    """A judge that rejects every pair gives recall and precision 0, each target asked about at
    most its two nearest candidates: a pick among candidates can no longer pass for a match."""
    from memgrid.bench.halumem import CANDIDATES, MATCH_SYSTEM, run_halumem
    from memgrid.llm.extract import EXTRACT_SYSTEM
    from memgrid.llm.extract import JUDGE_SYSTEM as DECIDE_SYSTEM

    def reply(body: dict[str, Any]) -> str:
        system = body["messages"][0]["content"]
        if system == EXTRACT_SYSTEM:
            return json.dumps({"facts": [{"fact": "The user likes tea", "turn": 1, "attribute": "other"}]})
        if system == DECIDE_SYSTEM:
            return json.dumps({"event": "ADD", "target": None})
        assert system == MATCH_SYSTEM
        return json.dumps({"same": False})

    with scripted_llm(reply) as llm:
        result = run_halumem(HALUMEM, LLMConfig(base_url=llm.url, model="scripted"), model_home, "hashing",
                             infer=True, sessions=1, log=lambda *a: None, qa=False)
        asked = sum(r["messages"][0]["content"] == MATCH_SYSTEM for r in llm.requests)
    e = result["extraction"]
    assert e["extracted"] > 0 and e["gold_points"] > 0
    assert e["recall"] == 0.0 and e["precision"] == 0.0 and e["update_accuracy"] == 0.0
    most = e["gold_points"] * min(CANDIDATES, e["extracted"]) + e["extracted"] * CANDIDATES
    assert 0 < asked <= most


def test_halumem_without_a_model_reports_the_zero_llm_links(tmp_path: Path, model_home: Path) -> None:
    """A two-session user in HaluMem's format: the move is linked to the old home, with both texts."""
    from memgrid.bench.halumem import run_halumem

    def session(start: str, said: str, updates: int) -> dict[str, Any]:
        return {"start_time": start, "end_time": start, "questions": [{"question": "Where?", "answer": "x",
                                                                       "question_type": "Dynamic Update"}],
                "memory_points": [{"memory_content": said, "is_update": "True" if updates else "False"}],
                "dialogue": [{"role": "user", "content": said, "timestamp": start},
                             {"role": "assistant", "content": "Nice!", "timestamp": start}]}
    data = tmp_path / "user.jsonl"
    data.write_text(json.dumps({"sessions": [session("Jan 05, 2025, 10:00:00", "I live in Lyon.", 0),
                                             session("Mar 05, 2025, 10:00:00", "I moved to Berlin.", 1)]}))
    result = run_halumem(data, LLMConfig(base_url=None), model_home, "hashing", log=lambda *a: None)
    assert result["questions"] == 0 and result["model"] is None and result["gold_updates"] == 1
    assert result["links"] == [{"session": 2, "old": "I live in Lyon.", "new": "I moved to Berlin."}]
    assert result["zero_llm_supersession_links"] == 1
    with pytest.raises(NoModelError, match="--infer needs a model"):
        run_halumem(data, LLMConfig(base_url=None), model_home, "hashing", infer=True, log=lambda *a: None)
