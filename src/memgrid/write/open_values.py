"""Values no vocabulary lists, read from a slot whose words leave no doubt of the attribute:
"I've taken up falconry", "my new hobby is lockpicking", "I'm majoring in oceanography".
The vocabularies (`attributes.py`) hold the common values; these slots are for the rest.
Only slots this strong are read: a weak one ("into X", "learning the X") would take "into the
car" or "learning the ropes" for a value.
"""

from __future__ import annotations

import re

# the phrase after a slot: one to three lower-case words, up to a time, a place or the clause's end
_PHRASE = (r"([a-z][a-z-]*(?:\s+[a-z][a-z-]*){0,2}?)"
           r"(?=\s+(?:at|in|for|with|since|this|that|today|now|and|but|so|because|these|from|last|lately|"
           r"recently|again|every|on|after|when|which|as)\b|\s*[.,!;:)]|\s*$)")
_SLOTS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("hobby", re.compile(r"\bmy\s+(?:new\s+|latest\s+)?(?:hobby|pastime|passion)\s+(?:these days\s+|now\s+)?"
                         rf"is\s+(?:now\s+)?{_PHRASE}", re.I)),
    ("hobby", re.compile(r"\b(?:i've|i have|i|we've|we)\s+(?:just\s+|recently\s+|finally\s+)?"
                         rf"(?:taken|took)\s+up\s+{_PHRASE}", re.I)),
    ("major", re.compile(rf"\bmajoring\s+in\s+{_PHRASE}", re.I)),
    ("major", re.compile(rf"\bmy\s+(?:new\s+)?major\s+(?:is\s+(?:now\s+)?|to\s+){_PHRASE}", re.I)),
    ("major", re.compile(rf"\b(?:switched|changed)\s+(?:my\s+)?major\s+to\s+{_PHRASE}", re.I)),
)
# what a slot may hold that is no value ("took up the offer", "my passion is what drives me")
_NOT_A_VALUE = re.compile(r"^(?:a|an|the|my|our|his|her|their|some|this|that|it|what|something|anything|"
                          r"everything|nothing|more|less|much|lots?|again|now|too|also|one|two|new|old|"
                          # slots that idioms share ("took up residence", "my major is undecided")
                          r"residence|space|room|arms|time|position|post|role|job|offer|challenge|cause|"
                          r"undecided|undeclared|unclear|pending)\b")


def open_value(sentence: str) -> tuple[str, str] | None:
    """(attribute, value) from a strong slot, if the phrase in it can be a value."""
    for attribute, slot in _SLOTS:
        m = slot.search(sentence)
        if m and not _NOT_A_VALUE.match(m.group(1).lower()):
            return attribute, " ".join(m.group(1).lower().split())
    return None
