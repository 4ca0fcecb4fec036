"""Fact extraction with a model (Mem0, HaluMem): atomic facts about the user from the user's own
turns, each decided against the user's current facts as ADD / UPDATE / DELETE / NOOP.

Mem0's decisions, mapped so that no evidence is lost: UPDATE writes the new fact and supersedes
the old one (`valid_to`, `superseded_by`); DELETE marks the old fact no longer true (`valid_to`)
and keeps it; NOOP writes nothing. The verbatim turns are always stored first (the zero-LLM
path), and every fact points at the turns it came from (`provenance.source_ids`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from memgrid.llm.client import LLMClient
from memgrid.models import StoredMemory
from memgrid.write.attributes import ATTRIBUTE_CUES

ATTRIBUTES = [a.name for a in ATTRIBUTE_CUES]
Event = Literal["ADD", "UPDATE", "DELETE", "NOOP"]

EXTRACT_SYSTEM = (
    "You extract facts about the user from what the user said. Write each fact as a short "
    "sentence about the user in the third person (\"The user lives in Lyon.\"). Only facts the user "
    "states about themselves: their life, work, people, plans, preferences, possessions, health, "
    "routines. Skip questions, greetings, hypotheticals, and things about other people that say "
    "nothing about the user. For each fact give the number of the turn it comes from and its "
    f"attribute, one of: {', '.join(ATTRIBUTES)}, or other. Each fact is one short sentence of at "
    "most 20 words that starts with \"The user\"; never copy a turn whole. No facts: an empty list. "
    # without an example the packaged 1.5B answered an empty list for every HaluMem session
    "Example: for the turns \"1. I moved to Lyon last year, and I still love my job as a nurse.\" and "
    "\"2. Any tips for the weekend?\" the answer is {\"facts\": [{\"fact\": \"The user moved to Lyon "
    "last year.\", \"turn\": 1, \"attribute\": \"residence\"}, {\"fact\": \"The user works as a "
    "nurse.\", \"turn\": 1, \"attribute\": \"job title\"}]}."
)
TURNS_PER_CALL = 6  # a small model copies turns and loses count over a long session
LONGEST_FACT = 40  # words: longer is a turn copied, not a fact

JUDGE_SYSTEM = (
    "You keep a user's facts true. Given a new fact and the user's numbered existing facts, "
    "decide: ADD if it is new information; UPDATE if it replaces an existing fact (the same "
    "subject with a changed value: moved, new job, switched, no longer...) and give that fact's "
    "number; DELETE if it says an existing fact is no longer true without a new value, with that "
    "number; NOOP if an existing fact already says the same."
)


class ExtractedFact(BaseModel):
    fact: str = Field(description="one short sentence about the user")
    turn: int = Field(description="number of the turn it comes from")
    attribute: str = Field(description="the attribute, or other")


class Extraction(BaseModel):
    facts: list[ExtractedFact]


class Decision(BaseModel):
    event: Event
    target: int | None = Field(default=None, description="the existing fact's number (UPDATE, DELETE, NOOP)")


def extract(llm: LLMClient, turns: list[StoredMemory]) -> list[tuple[ExtractedFact, list[StoredMemory]]]:
    """Facts in the user's turns, each with the turn it came from (all the turns of its call when
    the model names no valid one), asked `TURNS_PER_CALL` turns at a time. A "fact" that is a
    turn copied whole is dropped."""
    found = []
    for start in range(0, len(turns), TURNS_PER_CALL):
        chunk = turns[start:start + TURNS_PER_CALL]
        numbered = "\n".join(f"{i}. {t.text}" for i, t in enumerate(chunk, 1))
        out, _ = llm.structured([{"role": "system", "content": EXTRACT_SYSTEM},
                                 {"role": "user", "content": f"The user's turns:\n{numbered}"}],
                                Extraction, task="extract")
        said = {" ".join(t.text.split()).lower() for t in chunk}
        for fact in out.facts:
            text = " ".join(fact.fact.split())
            if not text or len(text.split()) > LONGEST_FACT or text.lower() in said:
                continue
            sources = [chunk[fact.turn - 1]] if 1 <= fact.turn <= len(chunk) else chunk
            found.append((fact.model_copy(update={"fact": text}), sources))
    return found


def decide(llm: LLMClient, fact: str, existing: list[StoredMemory]) -> tuple[Event, StoredMemory | None]:
    """ADD / UPDATE / DELETE / NOOP against the user's current facts; no model call when there is
    nothing to compare with or the same words are already there."""
    if not existing:
        return "ADD", None
    for old in existing:
        if _same(old.text, fact):
            return "NOOP", old
    numbered = "\n".join(f"{i}. {m.text}" for i, m in enumerate(existing, 1))
    out, _ = llm.structured([{"role": "system", "content": JUDGE_SYSTEM},
                             {"role": "user", "content": f"Existing facts:\n{numbered}\n\nNew fact: {fact}"}],
                            Decision, task="judge", max_tokens=64)
    target = existing[out.target - 1] if out.target is not None and 1 <= out.target <= len(existing) else None
    if out.event in ("UPDATE", "DELETE", "NOOP") and target is None:
        return "ADD", None  # a decision about no existing fact: keep the new one
    return out.event, target


def _same(a: str, b: str) -> bool:
    return " ".join(a.lower().rstrip(".").split()) == " ".join(b.lower().rstrip(".").split())


def attribute_of(name: str) -> str | None:
    name = name.strip().lower()
    return name if name in ATTRIBUTES else None

