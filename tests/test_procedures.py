"""Procedural memory: learn() keeps the trajectory and (with a model) distils strategy items that
point at it; strategies() finds them for a new task; without a model the trajectory is the
procedure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from memgrid import InvalidInputError, Memory, NoModelError
from memgrid.config import LLMConfig
from memgrid.llm.procedures import DISTILL_SYSTEM
from tests.conftest import hashing_config
from tests.scripted_llm import scripted_llm

STEPS = [{"role": "user", "content": "Book a table for 4 in Lisbon on Friday"},
         {"role": "assistant", "content": "search_restaurants(city='Lisbon')"},
         {"role": "tool", "content": "12 results"},
         {"role": "assistant", "content": "Booked Taberna at 20:00, confirmation sent"}]


def _memory(tmp_path: Path, model_home: Path, url: str | None) -> Memory:
    config = hashing_config(model_home, tmp_path / "mem.db")
    config.llm = LLMConfig(base_url=url, model="scripted")
    return Memory(config=config)


def test_without_a_model_the_trajectory_is_the_procedure(tmp_path: Path, model_home: Path) -> None:
    mem = _memory(tmp_path, model_home, None)
    [proc] = mem.learn("book a restaurant table", STEPS, "success", agent_id="concierge")
    assert proc.kind == "procedure" and proc.metadata["outcome"] == "success"
    assert "search_restaurants" in proc.text and proc.text.startswith("Task: book a restaurant table")
    mem.learn("cancel a hotel booking", "called the hotel; it had no record", "failure", agent_id="concierge")
    hits = mem.strategies("reserve a restaurant for dinner", agent_id="concierge", limit=1)
    assert hits[0].memory.id == proc.id
    with pytest.raises(InvalidInputError, match="outcome must be"):
        mem.learn("x", "y", "maybe", agent_id="concierge")
    with pytest.raises(InvalidInputError, match="trajectory must be"):
        mem.learn("x", 42, "success", agent_id="concierge")  # type: ignore[arg-type]
    with pytest.raises(NoModelError):
        mem.learn("x", "y", "success", agent_id="concierge", distill=True)
    mem.close()


def test_a_model_distils_strategies_that_point_at_the_trajectory(tmp_path: Path, model_home: Path) -> None:
    def reply(body: dict[str, Any]) -> str:
        assert body["messages"][0]["content"] == DISTILL_SYSTEM
        failed = "Outcome: failure" in body["messages"][1]["content"]
        items = [{"title": "Confirm before booking" if failed else "Search by city first",
                  "description": "what to do", "content": "Check availability, then book."}]
        return json.dumps({"items": items})

    with scripted_llm(reply) as llm:
        mem = _memory(tmp_path, model_home, llm.url)
        evidence, item = mem.learn("book a restaurant table", STEPS, "success", user_id="ana")
        assert evidence.kind == "trajectory" and "Taberna" in evidence.text
        assert item.kind == "procedure" and item.text.startswith("Search by city first:")
        assert item.provenance.method == "derived" and list(item.provenance.source_ids) == [evidence.id]
        assert item.metadata["title"] == "Search by city first" and item.metadata["outcome"] == "success"
        _, lesson = mem.learn("book a flight", "paid before the seat was confirmed", "failure", user_id="ana")
        assert lesson.metadata["outcome"] == "failure" and lesson.text.startswith("Confirm before booking")
        found = mem.strategies("reserve dinner for six", user_id="ana")
        assert {h.memory.kind for h in found} == {"procedure"}  # never the raw trajectories
        [plain] = mem.learn("book a table", STEPS, "success", user_id="ana", distill=False)
        assert plain.kind == "procedure"
        mem.close()
