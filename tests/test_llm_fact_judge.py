"""The model as FactJudge (`fact_judge="model"`) against a scripted model: it decides whether a
statement the detector keyed replaces the current one, before the write transaction, and a
model that fails leaves the decision to the values, losing no write."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memgrid import Memory, NoModelError
from memgrid.config import LLMConfig
from memgrid.llm.extract import JUDGE_SYSTEM
from memgrid.llm.fact_reader import SYSTEM as READER_SYSTEM
from memgrid.llm.fact_reader import ModelFactReader
from memgrid.llm.judge import ModelFactJudge
from tests.conftest import hashing_config
from tests.scripted_llm import scripted_llm


def _memory(tmp_path: Path, model_home: Path, url: str | None) -> Memory:
    config = hashing_config(model_home, tmp_path / "mem.db", fact_judge="model")
    config.llm = LLMConfig(base_url=url, model="scripted")
    return Memory(config=config)


def swap_judge(body: dict[str, Any]) -> str:
    """A model that reads "gave it all up for" and "my thing now" as a replacement, and
    nothing else."""
    assert body["messages"][0]["content"] == JUDGE_SYSTEM
    new = body["messages"][-1]["content"].split("New fact: ")[1]
    replaces = "my thing now" in new or "for good" in new
    return json.dumps({"event": "UPDATE", "target": 1} if replaces else {"event": "ADD", "target": None})


def test_the_model_tells_a_second_hobby_from_a_swap(tmp_path: Path, model_home: Path) -> None:
    with scripted_llm(swap_judge) as llm:
        mem = _memory(tmp_path, model_home, llm.url)
        [pottery] = mem.add("My new hobby is pottery.", user_id="u", timestamp="2023-01-01")
        [knitting] = mem.add("I took up knitting as well.", user_id="u", timestamp="2023-02-01")
        assert mem.get(pottery.id).superseded_by is None  # the model said ADD: both hobbies hold
        # no cue word of change: the values alone would keep both; the model reads the swap
        [climbing] = mem.add("I took up climbing and it's my thing now.", user_id="u", timestamp="2023-03-01")
        assert climbing.supersedes == knitting.id and mem.get(knitting.id).valid_to is not None
        assert len(llm.requests) == 2  # one question per new value against the current holder
        [again] = mem.add("I took up climbing, honestly.", user_id="u", timestamp="2023-04-01")
        assert again.supersedes is None and len(llm.requests) == 2  # the same value: not asked
        assert [m.id for m in mem.chain(climbing.id)] == [knitting.id, climbing.id]
        mem.close()


def test_a_failing_model_leaves_the_decision_to_the_values(tmp_path: Path, model_home: Path) -> None:
    with scripted_llm(lambda body: (500, "model crashed")) as llm:
        mem = _memory(tmp_path, model_home, llm.url)
        [lyon] = mem.add("I live in Lyon.", user_id="u", timestamp="2023-01-01")
        [berlin] = mem.add("I moved to Berlin.", user_id="u", timestamp="2023-02-01")
        assert berlin.supersedes == lyon.id  # the value changed: the zero-LLM judge's answer
        judge = mem.writer.judge
        assert isinstance(judge, ModelFactJudge) and judge.stats() == {"calls": 1, "failures": 1}
        mem.close()


def test_the_model_judge_needs_a_model(tmp_path: Path, model_home: Path) -> None:
    with pytest.raises(NoModelError, match="fact_judge='model' needs a model"):
        _memory(tmp_path, model_home, None)
    with pytest.raises(ValueError, match="fact_judge"):
        hashing_config(model_home, tmp_path / "x.db", fact_judge="llm")


def test_the_model_judge_decides_for_writes_over_rest(tmp_path: Path, model_home: Path) -> None:
    """A server configured with the model as judge: REST adds go through the same decision."""
    from fastapi.testclient import TestClient

    from memgrid import Client
    from memgrid.server.app import create_app
    from memgrid.server.service import open_service

    with scripted_llm(swap_judge) as llm:
        config = hashing_config(model_home, tmp_path / "s.db", fact_judge="model")
        config.llm = LLMConfig(base_url=llm.url, model="scripted")
        service = open_service(config)
        _, _, admin_key = service.access.create_tenant("acme")
        with TestClient(create_app(service)) as http:
            admin = Client("http://testserver", admin_key, http=http)
            user = admin.create_principal("user", "ana")
            ana = Client("http://testserver", admin.create_key(user.id).secret or "", http=http)
            [knitting] = ana.add("I took up knitting.", timestamp="2023-01-01")
            [chess] = ana.add("I took up chess as well.", timestamp="2023-02-01")
            [climbing] = ana.add("I took up climbing and it's my thing now.", timestamp="2023-03-01")
            assert chess.supersedes is None and climbing.supersedes == chess.id
            assert ana.get(knitting.id).superseded_by is None and len(llm.requests) == 2
        service.memory.close()


def reader_and_judge(body: dict[str, Any]) -> str:
    """Reads "behind the wheel of" as a car and "campus" as nothing; the judge says UPDATE."""
    if body["messages"][0]["content"] == READER_SYSTEM:
        sentence = body["messages"][-1]["content"].split("Sentence: ")[1]
        if "wheel" in sentence:
            return json.dumps({"attribute": "car", "value": "Honda Civic"})
        if "lent" in sentence:  # a value the sentence does not hold: ignored
            return json.dumps({"attribute": "car", "value": "Porsche 911"})
        if "showed" in sentence:  # an attribute it was not offered: ignored
            return json.dumps({"attribute": "email", "value": "Ana"})
        return json.dumps({"attribute": "none", "value": ""})
    return json.dumps({"event": "UPDATE", "target": 1})


def test_the_model_reads_what_the_detector_left_unread(tmp_path: Path, model_home: Path) -> None:
    """Only sentences with a word of change, for attributes their speaker already holds."""
    with scripted_llm(reader_and_judge) as llm:
        mem = _memory(tmp_path, model_home, llm.url)
        [old] = mem.add("I drive a Kia Niro.", user_id="u", timestamp="2023-01-01")
        asked = len(llm.requests)
        [new] = mem.add("I'm behind the wheel of a Honda Civic these days.", user_id="u",
                        timestamp="2023-02-01")
        assert (new.fact_key, new.fact_value) == ("self|car", "honda civic")
        assert new.supersedes == old.id  # then judged against the current holder
        prompts = [r["messages"][-1]["content"] for r in llm.requests[asked:]]
        assert any("Sentence: I'm behind the wheel" in p and "car" in p.split("\n")[0] for p in prompts)
        for text in ("Ana lent me her Honda Jazz just now.", "Ana showed me her new Honda Jazz.",
                     "Ana lent me her Honda Jazz.",  # no word of change: not asked
                     "I tried pottery, it's new to me."):  # a hobby: not one the speaker holds
            [kept] = mem.add(text, user_id="u", timestamp="2023-03-01")
            assert kept.fact_key is None and kept.supersedes is None, text
        assert mem.get(new.id).superseded_by is None
        reader = mem.writer.reader
        assert isinstance(reader, ModelFactReader)
        assert reader.stats() == {"calls": 3, "failures": 0, "keyed": 1}  # the first three only
        edited = mem.update(kept.id, text="I'm behind the wheel of a Honda Civic these days.")
        assert (edited.fact_key, edited.fact_value) == ("self|car", "honda civic")
        assert reader.stats()["calls"] == 4
        mem.close()


def test_without_a_model_judge_nothing_reads_for_the_detector(tmp_path: Path, model_home: Path) -> None:
    mem = Memory(config=hashing_config(model_home, tmp_path / "z.db"))
    assert mem.writer.reader is None
    mem.close()
