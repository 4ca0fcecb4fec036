"""Zero-LLM fact signatures for supersession: which (subject, attribute) a memory sets, to what.

Two passes over the speaker's own statements (`statements.py`): a few precise shapes (where
they live, work, who they are with, what they like best, how many of something they have), then
the attribute lexicon (`attributes.py`): a sentence with an attribute's cue words and a value of
its kind (`values.py`) states it. Sentences the lexicon leaves without a key go to the
embedding side as `OpenStatement`s (`states.py`). Whether a new value replaces the old one is
a `FactJudge`'s decision (`judges.py`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from memgrid.models import StoredMemory
from memgrid.write.attributes import ATTRIBUTE_CUES, REPLACE, AttributeCues
from memgrid.write.open_values import open_value
from memgrid.write.statements import own_statements
from memgrid.write.values import (
    EMAIL,
    JOB_WORDS,
    LEADS_NAME,
    MONEY,
    PHONE,
    VOCAB_KINDS,
    VOCAB_WORDS,
    WEEKDAY,
    clean,
    first_new,
    masked,
    names_in,
    replaced,
    value_names,
    vocabulary_in,
    vocabulary_of,
    vocabulary_spans,
)

_NAME = r"([A-Z][\w'.-]*(?:\s+(?:of\s+|de\s+)?[A-Z][\w'.-]*){0,3})"
_PHRASE = r"([\w'-]+(?:\s+[\w'-]+){0,3})"
NUMBER = r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten|no)"
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
                           rf"\s+(?!(?:Dr|Prof)\b){_NAME}")),  # "seeing Dr. Lee" is a doctor
    ("partner", re.compile(rf"\b[Mm]y\s+(?:new\s+)?(?:girlfriend|boyfriend|partner|wife|husband|fianc[ée]e?)"
                           rf"(?:'s\s+name)?\s+is\s+{_NAME}")),
]
_PREFERENCE = re.compile(rf"\bmy\s+(?:new\s+)?favou?rite\s+{_PHRASE}\s+is\s+(?:now\s+)?{_PHRASE}", re.I)
_COUNT = re.compile(rf"\bI\s+(?:now\s+)?have\s+{NUMBER}\s+(kids|children|dogs|cats|pets|sisters|brothers)\b",
                    re.I)
# "my favourite food is sushi now": the time said after a value is not part of it
_WHEN_AFTER = re.compile(r"(?:\s+(?:now|these days|nowadays|lately|currently|at the moment|again))+$")
_NUMBERS = {w: str(i) for i, w in enumerate("no one two three four five six seven eight nine ten".split())}


@dataclass(frozen=True, slots=True)
class Fact:
    key: str  # "<subject>|<attribute>"
    value: str


def subject_of(unit: StoredMemory) -> str:
    """Whom a turn's facts are about: its speaker, else the user ("self"), as `extract_fact`
    names it."""
    return clean(unit.speaker or "") or "self"


def extract_fact(text: str, subject: str) -> Fact | None:
    """The first fact the text states about its speaker, or None."""
    subject = clean(subject) or "self"
    for sentence in own_statements(text):
        found = _from_shapes(sentence) or _from_lexicon(sentence) or open_value(sentence)
        if found is not None:
            return Fact(f"{subject}|{found[0]}", found[1])
    return None


def _from_shapes(sentence: str) -> tuple[str, str] | None:
    for attribute, pattern in _PATTERNS:
        m = pattern.search(sentence)
        if m:
            value = clean(m.group(1))
            if attribute == "job title":  # "a nurse at the clinic" -> "nurse"
                value = re.split(r"\s(?:at|in|for|with|and)(?:\s|$)", value)[0]
                if not _HEAD_OF.match(value):
                    value = value.split(" of ")[0]
                    if value.split()[-1] not in JOB_WORDS:
                        continue  # "I'm now a vegan / a Celtics fan / a dad of two": not a job
            return attribute, value
    m = _PREFERENCE.search(sentence)
    if m:
        return f"favourite {clean(m.group(1))}", _WHEN_AFTER.sub("", clean(m.group(2)))
    m = _COUNT.search(sentence)
    if m:
        number = m.group(1).lower()
        counted = m.group(2).lower()
        return f"number of {'kids' if counted == 'children' else counted}", _NUMBERS.get(number, number)
    return None


_HEAD_OF = re.compile(r"(?:head|director|vp|vice president|chief|professor|manager|lead)\s+of\s")
_WITH_SOMEONE = re.compile(r"\s*[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2}\s+and\s+(?:I|we)\b")
_TITLE = re.compile(r"\b(?:as an?|promoted (?:me )?to|title is|made me|been an?|now an?|work as an?|"
                    r"[Ii]'m an?|I am an?|(?:role|position|title) (?:changed |moved |switched )?to|"
                    r"(?:bumped|moved|stepped) (?:me )?up to|"
                    r"cards? say)"
                    r"\s+([a-zA-Z][a-z-]*(?:\s+[a-zA-Z][a-z-]*){0,2}?)"
                    r"(?=\s+(?:at(?!\s+heart)|in|for|with|since|this|today|now|and|these|from|last|yesterday|"
                    r"recently|earlier|again|starting|on)\b|\s*[.,!;]|\s*$)")
_KIDS = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:\w+\s+){0,2}?"
                   r"(?:kids?|child(?:ren)?|little ones?|ones)\b", re.I)
# a vocabulary value said to be new ("vegan now", "it's bouldering these days"); not "currently",
# which self-descriptions use for anything ("I am currently employed in the finance industry")
_NOW = re.compile(rf"\b(?:now|these days|nowadays|{REPLACE})\b", re.I)
# "my new obsession is chess", "my new thing is the banjo": a value of a known kind said to be new
_MY_NEW = re.compile(r"\bmy\s+new\s+[a-z]+\s+(?:is|are)\b", re.I)
STANDING = re.compile(r"\b(?:these days|nowadays)\b", re.I)
# what someone is doing this minute, not what they do ("I'm running late now", "we're swimming now")
MOMENT = re.compile(r"\b(?:i'm|i am|we're|we are)\s+(?!(?:learning|studying|taking|practi[cs]ing|training|"
                     r"supporting|rooting|following)\b)\w+ing\b", re.I)
MODEL = re.compile(r"\s*[A-Za-z]?\d+[A-Za-z]*")
_TITLE_CASE = re.compile(r"(?:[A-Z][a-z]+\s+){1,2}$")
_ROUTINE = re.compile(r"\b(?:(?:every|each)\s+(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)|"
                      r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)s)\b", re.I)


def _compile(words: tuple[str, ...]) -> re.Pattern[str] | None:
    return re.compile(r"\b(?:" + "|".join(words) + r")\b", re.I) if words else None


_COMPILED = [(a, _compile(a.cues), _compile(a.excluded)) for a in ATTRIBUTE_CUES]
# one search per kind of value, not per attribute: most sentences hold none of these
_KIND_VALUE = {"email": re.compile("@"), "phone": re.compile(r"\d{3}"), "money": re.compile(r"[$€£]|\d"),
               "weekday": re.compile(r"day", re.I), "number": re.compile(r"kid|child|ones?\b", re.I),
               "title": re.compile(r"\b(?:as|promoted|title|made|been|now|work|i'm|am|role|position|say|"
                                   r"up)\b", re.I)}
_NAME_CUES = _compile(tuple(c for a in ATTRIBUTE_CUES if a.kind == "name" for c in a.cues)) or re.compile(
    "$^")
_CAPITAL = re.compile(r"[A-Z]")


def _from_lexicon(sentence: str) -> tuple[str, str] | None:
    """(attribute, value) a first-person sentence states, by cue words and a value of the
    attribute's kind; the attribute with the most cue words wins."""
    present = {kind for kind, pattern in _KIND_VALUE.items() if pattern.search(sentence)}
    if _NAME_CUES.search(sentence) and _CAPITAL.search(sentence):
        present.add("name")
    words = vocabulary_in(sentence)
    best: tuple[int, str, str] | None = None
    for attribute, cues, excluded in _COMPILED:
        assert cues is not None
        if (attribute.kind in _KIND_VALUE or attribute.kind == "name") and attribute.kind not in present:
            continue  # no value of its kind here
        if attribute.vocab and attribute.kind != "title" and words.isdisjoint(VOCAB_WORDS[attribute.name]):
            continue  # none of its values: a set test first, the regexes below are slower
        hits = cues.findall(sentence)
        said_new = _NOW.search(sentence) or _MY_NEW.search(sentence)
        if not hits and attribute.kind in ("vocab", "product") and said_new and \
                (STANDING.search(sentence) or not MOMENT.search(sentence)):
            hits = [""]  # its own value said to be new ("switched to drums", "vegan now"): a weak cue
        if not hits or (excluded is not None and excluded.search(sentence)):
            continue
        value = _value(attribute, sentence, cues)
        if value and (best is None or len(set(hits)) > best[0]):
            best = (len(set(hits)), attribute.name, value)
    return None if best is None else (best[1], best[2])


def _value(attribute: AttributeCues, sentence: str, cues: re.Pattern[str]) -> str | None:
    kind = attribute.kind
    if kind in ("vocab", "product"):
        # the new value, not the one it replaced ("switched from piano to cello" -> cello)
        span = next(((start, end) for start, end in vocabulary_of(attribute.name, sentence)
                     if not replaced(sentence, start, end)), None)
        if span and kind == "product":  # the model after the brand
            model = MODEL.match(sentence, span[1])
            return clean(sentence[span[0]:span[1]] + (model.group(0) if model else ""))
        return clean(sentence[span[0]:span[1]]) if span else None
    simple = {"email": EMAIL, "phone": PHONE, "money": MONEY, "weekday": WEEKDAY}.get(kind)
    if simple is not None:
        m = first_new(simple, sentence)
        return clean(m.group(1) if kind == "weekday" and m else m.group(0)) if m else None
    if kind == "number":
        m = first_new(_KIDS, sentence)
        return _NUMBERS.get(m.group(1).lower(), m.group(1)) if m else None
    if kind == "title":  # what follows "as a", "promoted to", ... and ends in a job's name
        m = _TITLE.search(sentence)
        jobs = vocabulary_of(attribute.name, m.group(1)) if m else []
        return clean(m.group(1)) if m and jobs and jobs[0][1] == len(m.group(1)) else None
    return _name_near_cue(sentence, cues, attribute.name)


def _name_near_cue(sentence: str, cues: re.Pattern[str], attribute: str) -> str | None:
    """The name (a capitalised run) that follows a cue word within a few words ("moved to
    Denver", "my manager is Hannah", "a dog called Biscuit"), stands right before it ("a
    Celtics fan"), or leads the sentence into one ("Ivo and I ...", "Hannah is my boss")."""
    names = [(at, n) for at, n in value_names(sentence)
             if _placed(attribute, sentence[:at]) and not replaced(sentence, at, at + len(n))]
    for cue in cues.finditer(sentence):
        for at, name in names:
            after = at >= cue.end() and len(sentence[cue.end():at].split()) <= 3
            if after or _right_before(sentence, at, name, cue):  # "moved to Denver", "a Celtics fan"
                return clean(name)
    for at, name in names:
        if at == 0 and LEADS_NAME.match(sentence[len(name):]):
            return clean(name)
    return None


def _right_before(sentence: str, at: int, name: str, cue: re.Match[str]) -> bool:
    """The name stands right before its cue: "a Celtics fan", "Leeds University" (the cue
    inside the name only for an institution), "Lakers fan now" (first only before a noun it
    qualifies)."""
    word = cue.group(0).lower()
    return ((at > 0 or bool(_QUALIFIES.fullmatch(word))) and at < cue.start()
            and not sentence[at + len(name):cue.start()].strip()
            and (at + len(name) <= cue.start() or word in _INSTITUTIONS))


# a noun a name qualifies, which may open a line ("Lakers fan now"); a capitalised first word is
# otherwise no name before its cue ("Finally settled in Austin", "Hard work")
_QUALIFIES = re.compile(r"fan|fans|supporter|people|locals?|residents?", re.I)
# a cue inside a name counts only where it names the institution ("Leeds University"), not in
# "the Chess Masters tournament"
_INSTITUTIONS = frozenset(("university", "college", "school"))
ATTRIBUTE = {a.name: a for a in ATTRIBUTE_CUES}
CUES = {a.name: cues for a, cues, _ in _COMPILED if cues is not None}
PLACE = re.compile(r"\b(?:in|near)\s+(?:the\s+)?$", re.I)
_NOTHING = re.compile("$^")
EXCLUDED = {a.name: excluded for a, _, excluded in _COMPILED if excluded is not None}


@dataclass(frozen=True, slots=True)
class OpenStatement:
    sentence: str
    possible: list[str]  # the attributes a value in it could belong to
    masked: str  # the sentence without its values (`without_values`)


def open_statements(text: str) -> list[OpenStatement]:
    """The sentences of a turn that may state one of the speaker's standing facts: for the
    embedding side of the detector, which decides among their possible attributes
    (`states.py`). The same refusals as the lexicon (questions, plans, negations, other people)
    apply first."""
    out = []
    for sentence in own_statements(text):
        names = names_in(sentence)
        present = {kind for kind, pattern in _KIND_VALUE.items() if pattern.search(sentence)}
        spans = vocabulary_spans(sentence)
        words = {value for _, _, value in spans}
        possible = [a.name for a in ATTRIBUTE_CUES
                    if (a.kind == "name" and names)
                    or (a.kind in VOCAB_KINDS and not words.isdisjoint(VOCAB_WORDS[a.name]))
                    or (a.kind in _KIND_VALUE and a.kind != "title" and a.kind in present)]
        possible = [a for a in possible if not ((x := EXCLUDED.get(a)) and x.search(sentence))]
        if possible:
            out.append(OpenStatement(sentence, possible, masked(sentence, names, spans)))
    return out


def value_of(attribute: str, sentence: str) -> str | None:
    """The value a sentence gives an attribute the embedding side chose: its vocabulary word,
    its kind of number or address, or the name in it that is not the old value ("I report to
    Hannah instead of Ivo" -> hannah)."""
    cues = ATTRIBUTE[attribute]
    if cues.kind == "title":  # the phrase after "promoted to" ("charge nurse"), else the job word
        phrase = _value(cues, sentence, _NOTHING)
        jobs = vocabulary_of(attribute, sentence)
        if phrase or not jobs:
            return phrase
        start, end = jobs[0]
        capitalised = _TITLE_CASE.search(sentence[:start]) if sentence[start:start + 1].isupper() else None
        # "Executive Director"
        return clean((capitalised.group(0) if capitalised else "") + sentence[start:end])
    if cues.kind == "weekday" and not _ROUTINE.search(sentence):
        return None  # "on Friday" dates one event; "on Fridays", "every Friday" is a routine
    if cues.kind != "name":
        return _value(cues, sentence, _NOTHING)
    if attribute != "partner" and _WITH_SOMEONE.match(sentence):
        return None  # "Rex and I walk in the Tiergarten in Berlin now": an outing, not a move
    names = [(at, n) for at, n in value_names(sentence) if not replaced(sentence, at, at + len(n))
             and _placed(attribute, sentence[:at])
             and (at > 0 or LEADS_NAME.match(sentence[len(n):]))  # a leading capital is often a verb
             and (attribute not in _PERSON_ROLES or _a_person(attribute, sentence, at, n))
             and not (attribute == "residence" and _DEMONYM.fullmatch(n)
                      and _BEFORE_NOUN.match(sentence, at + len(n)))]
    return clean(names[0][1]) if names else None


def _placed(attribute: str, before: str) -> bool:
    """Whether a name after `before` can be the attribute's value: a residence is never "a
    <Name>" ("moved over to a Pixel 8"); nothing else is "in <Name>" ("a car show in Paris");
    only a doctor or therapist is "Dr. <Name>" ("my care was transferred to Dr. Okoro")."""
    if _TITLED_BEFORE.search(before) and attribute not in ("doctor", "therapist"):
        return False
    return not (_A_BEFORE if attribute == "residence" else PLACE).search(before)


_A_BEFORE = re.compile(r"\ban?\s+$", re.I)
# "my Japanese house" is a kind of house, not a place to live in ("my Leeds flat" is one)
_DEMONYM = re.compile(r"[A-Z][a-z]+(?:ese|ish|ian|ean)")
_BEFORE_NOUN = re.compile(r"\s+[a-z]")
_PERSON_ROLES = frozenset({"partner", "manager", "doctor", "therapist", "landlord", "mentor"})
_ARTICLE_BEFORE = re.compile(r"\b(?:a|an|the)\s+(?:[A-Z][\w-]*\s+)*$", re.I)
_TITLED_BEFORE = re.compile(r"\b(?:Dr|Prof)\.?\s*$")
# a name that qualifies the noun after it is a place or a brand, not the person in a role
# ("We're Glasgow people now", "Leeds fans", "the Apple store")
_QUALIFIED = re.compile(r"\s+(?:people|folks|fans?|supporters?|residents?|locals|natives?|born|based|"
                        r"store|shop|office|branch|campus|area|style|team|club|car|phone)\b", re.I)


def _a_person(attribute: str, sentence: str, at: int, name: str) -> bool:
    """Whether a name can hold a role about a person: no article before it ("a Kia Niro"), no
    noun it qualifies after it ("Glasgow people"), and "Dr." only for a doctor or therapist."""
    before, after = sentence[:at], sentence[at + len(name):]
    if _ARTICLE_BEFORE.search(before) or _QUALIFIED.match(after):
        return False
    titled = bool(_TITLED_BEFORE.search(before)) or name.startswith(("Dr.", "Dr ", "Prof"))
    return not titled or attribute in ("doctor", "therapist")
