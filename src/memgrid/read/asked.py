"""Which standing facts a question asks for, and of when: the read side ranks the current
holder of the asked key first ("where do I live now?"), or the value it replaced ("where did I
use to live?"), or the one valid at a time the planner resolves.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memgrid.text import entities
from memgrid.write.attributes import ASKED
from memgrid.write.values import clean

_ASKED = [(name, re.compile(rf"\b(?:{words})\b", re.I)) for name, words in ASKED.items()]
_PAST = re.compile(r"\b(?:used to|before|previously|formerly|originally|at first|was|were|did|had|ago|"
                   r"back then|last (?:year|month|week)|in (?:19|20)\d\d)\b", re.I)
_SELF = re.compile(r"\b(?:i|my|me|i'm)\b", re.I)
_EARLIER = re.compile(r"\b(?:used to|use to|before|previously|formerly|originally|at first|back then|old|"
                      r"former)\b", re.I)


@dataclass(frozen=True, slots=True)
class AskedFacts:
    keys: list[str]  # "<subject>|<attribute>" the question asks for
    when: str  # "now"; "earlier" (used to, before: the value the current one replaced); "then" (a time)


def asked_facts(question: str) -> AskedFacts:
    """Which fact keys a question asks for, and of when: "where do I live now?" -> self|residence
    now; "where did I use to live?" -> earlier; "where did I live in March 2023?" -> then (the
    planner resolves the time)."""
    attributes = [name for name, pattern in _ASKED if pattern.search(question)]
    subjects = ["self"] if _SELF.search(question) else []
    subjects += [clean(n.removesuffix("'s")) for n in entities(question) if n not in ("I", "What", "Who")]
    keys = [f"{subject}|{a}" for subject in subjects for a in attributes]
    if not _PAST.search(question):
        return AskedFacts(keys, "now")
    return AskedFacts(keys, "earlier" if _EARLIER.search(question) else "then")


def asked_fact_keys(question: str) -> list[str]:
    """The fact keys a question about the present asks for; none for one about the past."""
    asked = asked_facts(question)
    return asked.keys if asked.when == "now" else []
