"""Zero-LLM fact signatures for supersession: which (subject, attribute) a memory sets, to what.

Patterns cover the facts people update most (where they live, work, who they are with, what they
like best, how many of something they have), in the first person. A memory that states a new
value for a key its owner already has a current value for supersedes it. `FactJudge` is the hook
for a smarter (e.g. LLM) decision; the default only compares normalised values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from memgrid.models import StoredMemory

_NAME = r"([A-Z][\w'.-]*(?:\s+(?:of\s+|de\s+)?[A-Z][\w'.-]*){0,3})"
_PHRASE = r"([\w'-]+(?:\s+[\w'-]+){0,3})"
_NUMBER = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|no)"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("residence", re.compile(rf"\bI(?:'ve| have)?\s+(?:just\s+|finally\s+|recently\s+)?(?:moved|relocated)"
                             rf"\s+(?:back\s+)?to\s+{_NAME}")),
    ("residence", re.compile(rf"\bI(?:\s+now|'m\s+now|\s+currently)?\s+(?:live|living)\s+in\s+{_NAME}")),
    ("employer", re.compile(rf"\bI(?:'m|\s+am)?\s+(?:now\s+|currently\s+)?(?:work|working|employed)\s+"
                            rf"(?:at|for)\s+{_NAME}")),
    ("employer", re.compile(rf"\b(?:I\s+got\s+a|[Mm]y\s+new)\s+job\s+(?:at|with)\s+{_NAME}")),
    ("job title", re.compile(rf"\bI(?:'m|\s+am)\s+now\s+(?:a|an)\s+{_PHRASE}")),
    ("job title", re.compile(rf"\b(?:I\s+got\s+a|[Mm]y\s+new)\s+job\s+as\s+(?:a|an)\s+{_PHRASE}")),
    ("partner", re.compile(rf"\bI(?:'m|\s+am)\s+(?:now\s+)?(?:dating|engaged\s+to|married\s+to|seeing)"
                           rf"\s+{_NAME}")),
    ("partner", re.compile(rf"\b[Mm]y\s+(?:new\s+)?(?:girlfriend|boyfriend|partner|wife|husband|fianc[ée]e?)"
                           rf"(?:'s\s+name)?\s+is\s+{_NAME}")),
]
_PREFERENCE = re.compile(rf"\bmy\s+(?:new\s+)?favou?rite\s+{_PHRASE}\s+is\s+(?:now\s+)?{_PHRASE}", re.I)
_COUNT = re.compile(rf"\bI\s+(?:now\s+)?have\s+{_NUMBER}\s+(kids|children|dogs|cats|pets|sisters|brothers)\b",
                    re.I)
_NUMBERS = {w: str(i) for i, w in enumerate("no one two three four five six seven eight nine ten".split())}


@dataclass(frozen=True, slots=True)
class Fact:
    key: str  # "<subject>|<attribute>"
    value: str


def _clean(value: str) -> str:
    return " ".join(value.strip(" .,!?;:'\"").lower().split())


def extract_fact(text: str, subject: str) -> Fact | None:
    """The first fact the text states about its speaker, or None."""
    subject = _clean(subject) or "self"
    for attribute, pattern in _PATTERNS:
        m = pattern.search(text)
        if m:
            value = _clean(m.group(1))
            if attribute == "job title":  # "a nurse at the clinic" -> "nurse"
                value = re.split(r"\s(?:at|in|for|with|and)\s", value)[0]
            return Fact(f"{subject}|{attribute}", value)
    m = _PREFERENCE.search(text)
    if m:
        return Fact(f"{subject}|favourite {_clean(m.group(1))}", _clean(m.group(2)))
    m = _COUNT.search(text)
    if m:
        number = m.group(1).lower()
        return Fact(f"{subject}|number of {m.group(2).lower()}", _NUMBERS.get(number, number))
    return None


class FactJudge(Protocol):
    """Decides whether `new` replaces `old` (same key). Plug an LLM judge in here."""

    def supersedes(self, old: StoredMemory, new: StoredMemory) -> bool: ...


class ValueChangeJudge:
    """Default: a different value for the same key, stated at the same time or later."""

    def supersedes(self, old: StoredMemory, new: StoredMemory) -> bool:
        return old.fact_value != new.fact_value and (new.event_time or 0.0) >= (old.event_time or 0.0)


class NeverJudge:
    """Supersession off: facts are still extracted, never linked."""

    def supersedes(self, old: StoredMemory, new: StoredMemory) -> bool:
        return False
