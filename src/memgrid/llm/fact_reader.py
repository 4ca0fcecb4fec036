"""The model reads the sentences the zero-LLM detector could not (`fact_judge="model"`): a user's
statement that passed the detector's refusals (no question, plan, negation or someone else's
news) and holds a value some attribute could take, but that neither the lexicon nor the nearest
examples gave a key ("I'm behind the wheel of a Honda Civic these days"). The model names the
attribute among those the sentence's values could belong to, and the value as written.

Only those sentences are asked about (about a quarter of a chat's user turns hold such a value,
fewer still are left unread), so the cost is a short call for a fraction of the turns. A value
the sentence does not contain, or an attribute its values cannot take, is ignored: the model
can only choose, never invent. It runs before the write transaction, as the judge does.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from pydantic import BaseModel, Field

from memgrid.errors import LLMError
from memgrid.llm.client import LLMClient
from memgrid.models import StoredMemory
from memgrid.write.facts import OpenStatement, subject_of, value_of

log = logging.getLogger(__name__)

SYSTEM = ("You read one sentence a user wrote in a chat. Decide whether the user says what one of their "
          "own standing facts is now. Answer with JSON: {\"attribute\": one of the listed attributes, or "
          "\"none\", \"value\": the new value, copied word for word from the sentence, or \"\"}. Answer "
          "none for things that happened once, plans, questions, opinions and facts about other people.")


class StatedFact(BaseModel):
    attribute: str = Field(max_length=40)
    value: str = Field(default="", max_length=120)


class ModelFactReader:
    def __init__(self, llm: Callable[[], LLMClient]) -> None:
        self._llm = llm
        self.calls = self.failures = self.keyed = 0

    def read(self, todo: Sequence[tuple[StoredMemory, OpenStatement, set[str]]]) -> None:
        """Key the units whose sentences the model reads as a change of a standing fact their
        speaker already holds (the set beside each sentence: empty unless it says a word of
        change), which is what supersession needs. Asked of every unread sentence, the 1.5B
        keyed 477 of the 1,170 it was shown, mostly LoCoMo filler, and link precision fell to
        0.63."""
        for unit, statement, held in todo:
            attributes = [a for a in statement.possible if a in held]
            if unit.fact_key or not attributes:  # read already (an earlier sentence), or not a change
                continue
            found = self._ask(replace(statement, possible=attributes))
            if found is not None:
                unit.fact_key = f"{subject_of(unit)}|{found[0]}"
                unit.fact_value = found[1]
                self.keyed += 1

    def _ask(self, statement: OpenStatement) -> tuple[str, str] | None:
        self.calls += 1
        prompt = f"Attributes: {', '.join(statement.possible)}\nSentence: {statement.sentence}"
        try:
            out, _ = self._llm().structured([{"role": "system", "content": SYSTEM},
                                             {"role": "user", "content": prompt}],
                                            StatedFact, task="read_fact", max_tokens=60)
        except LLMError as exc:  # a model that is down must not lose the write
            self.failures += 1
            log.warning("fact reader: the model failed (%s); the sentence stays unread", exc)
            return None
        attribute = out.attribute.strip().lower()
        if attribute not in statement.possible:
            return None  # "none", or an attribute no value of the sentence can take
        return _value(attribute, statement.sentence, out.value)

    def stats(self) -> dict[str, Any]:
        return {"calls": self.calls, "failures": self.failures, "keyed": self.keyed}


def _value(attribute: str, sentence: str, said: str) -> tuple[str, str] | None:
    """The model's value if the sentence holds it (else the model is reading something else),
    in the detector's reading where it has one ("Dr. Okoro" -> okoro)."""
    said = " ".join(said.strip(" .,!?;:'\"").split())
    if not said or len(said.split()) > 4 or not re.search(rf"(?<!\w){re.escape(said)}(?!\w)", sentence, re.I):
        return None
    value = value_of(attribute, sentence)
    return attribute, value if value and value in said.lower() else said.lower()
