"""The values a sentence holds, and where: names (capitalised runs that can be a value),
vocabulary words (by set lookups), addresses, numbers and amounts, and which of them is the one
replaced ("switched from piano to cello"). Both sides of the fact detector and the reading of a
change that names the old value share them.
"""

from __future__ import annotations

import re

from memgrid.text import entities
from memgrid.write.attributes import ANIMALS, ATTRIBUTE_CUES, JOBS


def clean(value: str) -> str:
    return " ".join(value.strip(" .,!?;:'\"").lower().split())


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w@])\+?\d[\d\s().-]{5,}\d\b")
MONEY = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*\s?(?:dollars|euros|pounds|yuan)\b", re.I)

_MONTH_NAMES = set(
    "january february march april may june july august september october november december".split())
_DAY_ABBREVIATIONS = {"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}
WEEKDAY = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b", re.I)

_GREETED = re.compile(r"\b(?:hey|hi|hello|thanks|thank you|bye|dear|congrats|congratulations|wow|aww|oh|"
                      r"yo|sorry|welcome|morning|evening|night)[,!]?\s+$", re.I)
_ADDRESSED = re.compile(r"\s*(?:[!?.,;:]|$)")
LEADS_NAME = re.compile(r"^\s*(?:and I\b|moved in with (?:me|us)\b|(?:has\s+)?replaced\b|"
                         r"(?:is|became|has become|has been|is now)\s+(?:now\s+)?my\b|"
                         r"took over\b|is\s+(?:now\s+)?(?:my\s+|our\s+)?home\b)", re.I)

# right before a value: the value replaced, not the new one ("switched from piano to cello",
# "traded in the Civic for a Tesla", "Dr. Ivo instead of Dr. Hannah", "major: economics (was
# biology)"); the new value follows or leads
_OLD_VALUE = re.compile(r"(?:\b(instead of|rather than|from|not|left|quit|after|before|over|gave up|given up|"
                        r"swapped|swapping|traded(?:\s+in)?|trading(?:\s+in)?|exchanged|ditched|dropped|"
                        r"replaced|sold|rehomed)|\(\s*was)"
                        r"\s+(?:(?:the|my|our|a|an)\s+)?(?:dr\.?\s+)?$",
                        re.I)
_ONWARD = re.compile(r"[^.;!?]{0,40}?\b(?:to|into|for)\b", re.I)
_ARROW = re.compile(r"\s*(?:->|=>|\u2192)")


def replaced(sentence: str, start: int, end: int) -> bool:
    """The value at sentence[start:end] is the one replaced. A name or number after "from" only
    where a "to" follows: "a paycheck from Acme", "a call from Dr. Ivo" name a source."""
    m = _OLD_VALUE.search(sentence[:start])
    if m is None:
        return bool(_ARROW.match(sentence, end))  # "$5,000 -> $6,200"
    if (m.group(1) or "").lower() != "from":
        return True
    return sentence[start:start + 1].islower() or bool(_ONWARD.match(sentence, end))


def first_new(pattern: re.Pattern[str], sentence: str) -> re.Match[str] | None:
    """The first value of the pattern's kind that is not the one replaced ("from 555-0142 to
    555-0199")."""
    return next((m for m in pattern.finditer(sentence) if not replaced(sentence, m.start(), m.end())), None)


VOCAB_WORDS = {a.name: frozenset(a.vocab) for a in ATTRIBUTE_CUES}
VOCAB_KINDS = ("vocab", "product", "title")
_ALL_VOCAB = frozenset(v for a in ATTRIBUTE_CUES for v in a.vocab)
_FIRST_WORDS = frozenset(v.split()[0] for v in _ALL_VOCAB if " " in v)
_WORDS = (re.compile(r"[a-z]+(?:-[a-z]+)*"), re.compile(r"[a-z]+"))  # "rock-climbing", and its parts


def vocabulary_spans(sentence: str) -> list[tuple[int, int, str]]:
    """Where vocabulary values (one to three words) stand in a sentence, as a word-bounded search
    of every value would find them: a set lookup per word, and per following pair where a
    value of several words starts with it. Several times faster than one regex of them all."""
    lowered = sentence.lower()
    found: list[tuple[int, int, str]] = []
    for words in _WORDS if "-" in lowered else _WORDS[1:]:
        at = [(m.start(), m.end()) for m in words.finditer(lowered)]
        for i, (start, end) in enumerate(at):
            word = lowered[start:end]
            if word in _ALL_VOCAB:
                found.append((start, end, word))
            if word not in _FIRST_WORDS:
                continue
            gram = word
            for j in range(i + 1, min(i + 3, len(at))):
                if not lowered[at[j - 1][1]:at[j][0]].isspace():
                    break
                gram += " " + lowered[at[j][0]:at[j][1]]
                if gram in _ALL_VOCAB:
                    found.append((start, at[j][1], gram))
    return found


def vocabulary_of(attribute: str, sentence: str) -> list[tuple[int, int]]:
    """Where the attribute's values stand, leftmost and longest first and not overlapping, as a
    search of one regex of them all would find them ("rock climbing", not "climbing"), from the
    set lookups of `vocabulary_spans`: a regex of 190 hobbies cost more than the rest of the
    lexicon."""
    words = VOCAB_WORDS[attribute]
    out: list[tuple[int, int]] = []
    for start, end, _ in sorted((span for span in vocabulary_spans(sentence) if span[2] in words),
                                key=lambda span: (span[0], -span[1])):
        if not out or start >= out[-1][1]:
            out.append((start, end))
    return out


def vocabulary_in(sentence: str) -> set[str]:
    return {value for _, _, value in vocabulary_spans(sentence)}


def without_values(sentence: str) -> str:
    """The sentence with every word that could be a value taken out: names, vocabulary words,
    addresses, numbers and amounts. What is left says which attribute it states ("I've taken
    up ..." is a hobby whatever follows), so a value seen elsewhere (pottery in "a pottery
    class once") cannot pull the sentence towards the wrong examples."""
    return masked(sentence, names_in(sentence), vocabulary_spans(sentence))


def masked(sentence: str, names: list[tuple[int, str]], vocabulary: list[tuple[int, int, str]]) -> str:
    spans = [(at, at + len(name)) for at, name in names]
    spans.extend((start, end) for start, end, _ in vocabulary)
    for pattern in (EMAIL, PHONE, MONEY):
        spans.extend(m.span() for m in pattern.finditer(sentence))
    out, last = [], 0
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
        if start >= last:
            out.append(sentence[last:start])
            last = end
    out.append(sentence[last:])
    return " ".join("".join(out).split())


def value_names(sentence: str) -> list[tuple[int, str]]:
    """The names that can be a name-kind value: not a possessor ("inspired by Shirley Franco's
    work") nor a capitalised job title ("my role as Executive Director")."""
    return [(at, n) for at, n in names_in(sentence)
            if not n.endswith(("'s", "\u2019s")) and n.lower().split()[-1] not in JOB_WORDS]


JOB_WORDS = frozenset(job.split()[-1] for job in JOBS)


def names_in(sentence: str) -> list[tuple[int, str]]:
    """Capitalised runs that can be a value: not "I", a month, a weekday, a title or the person
    spoken to ("Thanks, Melanie!", "Hey Cal, guess what")."""
    names = []
    for name, at in sorted(((n, m.start()) for n in entities(sentence)
                            for m in re.finditer(rf"(?<!\w){re.escape(n)}(?!\w)", sentence)),
                           key=lambda found: found[1]):  # every mention: "... so Lisbon is home"
        if (name in _HONORIFICS or WEEKDAY.fullmatch(name) or name.lower() in _MONTH_NAMES
                or name.lower() in _DAY_ABBREVIATIONS or _GREETED.search(sentence[:at])
                or (_ADDRESSED.match(sentence[at + len(name):]) and sentence[:at].rstrip().endswith(",")
                    and not _ROLE_BEFORE.search(sentence[:at]))):
            continue
        first, _, rest = name.partition(" ")
        names.append((at, rest if first.rstrip(".") in _HONORIFICS and rest else name))
    return names


_HONORIFICS = frozenset({"I", "Dr", "Mr", "Mrs", "Ms", "Miss", "Prof"})
# "... a new therapist, Joel.": a name after a role names who holds it; after anything else a
# comma and a name at the end address someone ("Thanks for asking, Joel.")
_ROLE_BEFORE = re.compile(r"\b(?:therapist|counsell?or|doctor|gp|physician|manager|boss|supervisor|mentor|"
                          rf"landlord|landlady|partner|girlfriend|boyfriend|wife|husband|fianc\w*|{ANIMALS})"
                          r"(?:\s+now)?,\s*$", re.I)
