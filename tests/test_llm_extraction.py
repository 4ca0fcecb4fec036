"""add(..., infer=True) against a scripted model: facts come from the user's turns only, point at
the turn they came from, and each ADD / UPDATE / DELETE / NOOP decision lands as a memgrid
change that keeps every piece of evidence."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from memgrid import LLMError, Memory, NoModelError
from memgrid.config import LLMConfig
from memgrid.llm.extract import EXTRACT_SYSTEM
from tests.conftest import hashing_config
from tests.scripted_llm import scripted_llm

# what the scripted model "reads" in a turn -> (fact, attribute)
FACTS = {"Lyon": ("The user lives in Lyon.", "residence"),
         "Berlin": ("The user lives in Berlin.", "residence"),
         "Acme": ("The user works at Acme.", "employer"),
         "quit": ("The user no longer works at Acme.", "employer"),
         "pottery": ("The user does pottery on Thursdays.", "hobby")}


def model(judge: Callable[[str, list[str]], dict[str, Any]]) -> Callable[[dict[str, Any]], str]:
    def reply(body: dict[str, Any]) -> str:
        system, user = body["messages"][0]["content"], body["messages"][-1]["content"]
        if system == EXTRACT_SYSTEM:
            turns = [line.split(". ", 1) for line in user.splitlines()[1:]]
            facts = [{"fact": fact, "turn": int(n), "attribute": attribute}
                     for n, text in turns for cue, (fact, attribute) in FACTS.items() if cue in text]
            return json.dumps({"facts": facts})
        existing = [line.split(". ", 1)[1] for line in user.split("\n\n")[0].splitlines()[1:]]
        return json.dumps(judge(user.split("New fact: ")[1], existing))
    return reply


def judge(new: str, existing: list[str]) -> dict[str, Any]:
    for i, old in enumerate(existing, 1):
        if "lives in" in new and "lives in" in old:
            return {"event": "UPDATE", "target": i}
        if "no longer works" in new and "works at" in old:
            return {"event": "DELETE", "target": i}
    return {"event": "ADD", "target": None}


def _memory(tmp_path: Path, model_home: Path, url: str | None) -> Memory:
    config = hashing_config(model_home, tmp_path / "mem.db")
    config.llm = LLMConfig(base_url=url, model="scripted")
    return Memory(config=config)


def test_facts_are_extracted_decided_and_kept_as_evidence(tmp_path: Path, model_home: Path) -> None:
    with scripted_llm(model(judge)) as llm:
        mem = _memory(tmp_path, model_home, llm.url)
        first = mem.add([{"role": "user", "content": "Hi! I live in Lyon and I work at Acme."},
                         {"role": "assistant", "content": "Nice, I work at Acme too and love Berlin."}],
                        user_id="dana", timestamp="2024-01-10T09:00:00", infer=True)
        assert [(f.event, f.text) for f in first.facts] == [("ADD", "The user lives in Lyon."),
                                                          ("ADD", "The user works at Acme.")]
        assert "love Berlin" not in llm.requests[0]["messages"][-1]["content"]  # assistant: never extracted
        lyon = mem.get(first.facts[0].id or "")
        assert lyon.kind == "fact" and lyon.provenance.method == "extracted"
        assert list(lyon.provenance.source_ids) == [first[0].id] == first.facts[0].source_ids
        moved = mem.add("I moved to Berlin in March; pottery on Thursdays now", user_id="dana",
                        timestamp="2024-03-20T09:00:00", infer=True)
        events = {f.text: f for f in moved.facts}
        update = events["The user lives in Berlin."]
        assert update.event == "UPDATE" and update.target == lyon.id
        assert events["The user does pottery on Thursdays."].event == "ADD"
        old = mem.get(lyon.id)  # still there, marked: true until the move
        assert old.superseded_by == update.id and old.valid_to is not None
        assert mem.get(update.id or "").supersedes == lyon.id
        assert mem.profile(user_id="dana")["self|residence"].text == "The user lives in Berlin."
        quit_ = mem.add("I quit my job last week", user_id="dana", timestamp="2024-04-02T09:00:00",
                        infer=True)
        [deleted] = quit_.facts
        acme = first.facts[1].id or ""
        assert deleted.event == "DELETE" and deleted.target == acme and deleted.id is None
        assert mem.get(acme).valid_to is not None and mem.get(acme).superseded_by is None
        assert [e.event for e in mem.history(acme)] == ["ADD", "UPDATE"]  # marked, never removed
        calls = len(llm.requests)
        again = mem.add("Yes, I live in Berlin now", user_id="dana", infer=True)
        assert [f.event for f in again.facts] == ["NOOP"]  # the same words: no judge call
        assert len(llm.requests) == calls + 1
        assert mem.search("where does dana live", user_id="dana", filters={"kind": "fact"})[0].memory.text \
            == "The user lives in Berlin."
        mem.close()


def test_infer_needs_a_model_and_a_failing_model_loses_no_turn(tmp_path: Path, model_home: Path) -> None:
    mem = _memory(tmp_path, model_home, None)
    with pytest.raises(NoModelError):
        mem.add("I live in Lyon", user_id="dana", infer=True)
    assert mem.list(user_id="dana").items == []  # refused before anything was stored
    mem.close()
    with scripted_llm(lambda body: (400, "no such model")) as llm:
        mem = _memory(tmp_path / "b", model_home, llm.url)
        with pytest.raises(LLMError, match=r"are stored .*fact extraction failed"):
            mem.add("I live in Lyon", user_id="dana", infer=True)
        assert [r.text for r in mem.list(user_id="dana").items] == ["I live in Lyon"]
        mem.close()


def test_mem0_compat_infers_facts_when_a_model_is_configured(tmp_path: Path, model_home: Path) -> None:
    from memgrid.compat.mem0 import Memory as Mem0Memory

    with scripted_llm(model(judge)) as llm:
        config = hashing_config(model_home, tmp_path / "mem.db")
        config.llm = LLMConfig(base_url=llm.url, model="scripted")
        m = Mem0Memory(config)
        first = m.add([{"role": "user", "content": "I live in Lyon"}], user_id="dana")["results"]
        assert [(r["event"], r["memory"]) for r in first] == [("ADD", "The user lives in Lyon.")]
        moved = m.add("I moved to Berlin", user_id="dana")["results"]
        assert moved[0]["event"] == "UPDATE" and moved[0]["previous_memory"] == "The user lives in Lyon."
        verbatim = m.add("Pottery on Thursdays", user_id="dana", infer=False)["results"]
        assert [r["memory"] for r in verbatim] == ["Pottery on Thursdays"]  # the message, no model call
        m.memgrid.close()


def test_a_long_session_is_read_a_few_turns_at_a_time_and_copied_turns_are_no_facts(
        tmp_path: Path, model_home: Path) -> None:
    """Small models copy turns and lose count over a long session: each call sees at most
    TURNS_PER_CALL turns, and a "fact" that is a whole turn is dropped."""
    from memgrid.llm.extract import TURNS_PER_CALL

    def copier(body: dict[str, Any]) -> str:
        if body["messages"][0]["content"] != EXTRACT_SYSTEM:
            return json.dumps({"event": "ADD", "target": None})
        turns = [line.split(". ", 1)[1] for line in body["messages"][-1]["content"].splitlines()[1:]]
        plan = {"fact": "The user has a plan.", "turn": len(turns), "attribute": "other"}
        return json.dumps({"facts": [{"fact": turns[0], "turn": 1, "attribute": "other"}, plan]})  # a copy

    with scripted_llm(copier) as llm:
        config = hashing_config(model_home, tmp_path / "mem.db")
        config.llm = LLMConfig(base_url=llm.url, model="scripted")
        mem = Memory(config=config)
        said = [{"role": "user", "content": f"Turn number {i} says something about my week."}
                for i in range(13)]
        added = mem.add(said, user_id="ana", infer=True)
        calls = [r for r in llm.requests if r["messages"][0]["content"] == EXTRACT_SYSTEM]
        assert len(calls) == -(-13 // TURNS_PER_CALL)
        assert all(len(r["messages"][-1]["content"].splitlines()) - 1 <= TURNS_PER_CALL for r in calls)
        # once: the same words from the later calls are NOOP
        assert [f.text for f in added.facts if f.event == "ADD"] == ["The user has a plan."]
        # each fact points at the last turn of its own call
        assert {tuple(f.source_ids) for f in added.facts} == {
            (added[i].id,) for i in (TURNS_PER_CALL - 1, 2 * TURNS_PER_CALL - 1, 12)}
        mem.close()
