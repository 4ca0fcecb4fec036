"""Whether a new value of a key replaces the current one. `ValueChangeJudge` is the zero-LLM
default; a model plugs in behind `FactJudge` (`llm/judge.py`) and `FactReader`
(`llm/fact_reader.py`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from memgrid.models import StoredMemory
from memgrid.write.attributes import ATTRIBUTE_CUES, BESIDES, PRESENT, REPLACE
from memgrid.write.facts import MOMENT, STANDING, OpenStatement

_REPLACE = re.compile(rf"\b(?:{REPLACE})\b", re.I)
_PRESENT = re.compile(rf"\b(?:{PRESENT})\b", re.I)
_BESIDES = re.compile(rf"\b(?:{BESIDES})\b", re.I)


class FactReader(Protocol):
    """Reads the sentences the detector left without a key (`OpenStatement`s of user turns, each
    with the attributes it may change) and keys the turns that state a standing fact. A model
    plugs in here (`llm/fact_reader.py`)."""

    def read(self, todo: Sequence[tuple[StoredMemory, OpenStatement, set[str]]]) -> None: ...


class FactJudge(Protocol):
    """Decides whether `new` replaces `old` (same key). Plug an LLM judge in here."""

    def supersedes(self, old: StoredMemory, new: StoredMemory) -> bool: ...


_SEVERAL = {a.name for a in ATTRIBUTE_CUES if a.change}


def said_to_replace(memory: StoredMemory) -> bool:
    """A new hobby, pet, team or instrument joins the old ones (people have several at once)
    unless the words say it replaces them ("switched", "no more", ...), name it the one of the
    present ("now", "these days") or "my favourite" without keeping the old beside it ("also",
    "too")."""
    attribute = (memory.fact_key or "").partition("|")[2]
    text = memory.text
    if attribute not in _SEVERAL or _REPLACE.search(text):
        return True
    if _BESIDES.search(text):
        return False
    if _THE_FAVOURITE.search(text) or _THE_ONE.search(text):  # "tacos have become my favourite
        return True  # food", "nothing tops curry", "what I crave most": there is one
    if not _PRESENT.search(text):
        return False
    # not a passing moment ("I'm running late now"), unless a habit ("I'm taking lessons every week")
    return bool(STANDING.search(text) or _HABIT.search(text)) or not MOMENT.search(text)


_HABIT = re.compile(r"\b(?:every|each)\s+(?:day|week|morning|evening|night|weekend)|\b(?:daily|weekly)\b",
                    re.I)
# said to be the one above the others (a superlative, all of one's time) or to be so now after
# another ("I've become a Celtics supporter")
_THE_ONE = re.compile(r"\b(?:nothing (?:tops|beats)|the only|all my (?:free |spare )?time|go-to|top spot|"
                      r"(?:have|has|'ve|'s)\s+(?:recently\s+|now\s+|just\s+|finally\s+)?become|became|converted|"
                      r"number one|the best\b(?! of)|"
                      r"(?:the )?most(?=\s*(?:[.,!;]|$|(?:of all|these days|lately|now)\b)))",
                      re.I)
_THE_FAVOURITE = re.compile(r"(?<!one of )\b(?:my|our)\s+(?:new\s+|absolute\s+|all-time\s+)?favou?rite"
                            r"(?!s)\b", re.I)


class ValueChangeJudge:
    """Default: a different value for the same key, stated at the same time or later, and for
    an attribute people hold several values of at once, said to replace the old one."""

    def supersedes(self, old: StoredMemory, new: StoredMemory) -> bool:
        return (old.fact_value != new.fact_value and (new.event_time or 0.0) >= (old.event_time or 0.0)
                and said_to_replace(new))


class NeverJudge:
    """Supersession off: facts are still extracted, never linked."""

    def supersedes(self, old: StoredMemory, new: StoredMemory) -> bool:
        return False
