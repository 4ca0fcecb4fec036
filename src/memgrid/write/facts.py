"""Zero-LLM fact signatures for supersession: which (subject, attribute) a memory sets, to what.

Two passes over a first-person sentence: a few precise shapes (where they live, work, who they
are with, what they like best, how many of something they have), then the attribute lexicon
(`attributes.py`): a sentence with an attribute's cue words and a value of its kind states it,
unless it is a question, a hypothetical, a negation, a one-off or about someone else. A memory
that states a new value for a key its owner already has a current value for supersedes it.
`FactJudge` is the hook for a smarter (e.g. LLM) decision; the default compares values.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

from memgrid.models import StoredMemory
from memgrid.text import entities
from memgrid.write.attributes import (
    ANIMALS,
    ASKED,
    ATTRIBUTE_CUES,
    BESIDES,
    JOBS,
    PRESENT,
    REPLACE,
    AttributeCues,
)
from memgrid.write.open_values import open_value
from memgrid.write.spoken import spoken

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
                           rf"\s+(?!(?:Dr|Prof)\b){_NAME}")),  # "seeing Dr. Lee" is a doctor
    ("partner", re.compile(rf"\b[Mm]y\s+(?:new\s+)?(?:girlfriend|boyfriend|partner|wife|husband|fianc[ée]e?)"
                           rf"(?:'s\s+name)?\s+is\s+{_NAME}")),
]
_PREFERENCE = re.compile(rf"\bmy\s+(?:new\s+)?favou?rite\s+{_PHRASE}\s+is\s+(?:now\s+)?{_PHRASE}", re.I)
_COUNT = re.compile(rf"\bI\s+(?:now\s+)?have\s+{_NUMBER}\s+(kids|children|dogs|cats|pets|sisters|brothers)\b",
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
    return _clean(unit.speaker or "") or "self"


def _clean(value: str) -> str:
    return " ".join(value.strip(" .,!?;:'\"").lower().split())


def extract_fact(text: str, subject: str) -> Fact | None:
    """The first fact the text states about its speaker, or None."""
    subject = _clean(subject) or "self"
    for sentence in own_statements(text):
        found = _from_shapes(sentence) or _from_lexicon(sentence) or open_value(sentence)
        if found is not None:
            return Fact(f"{subject}|{found[0]}", found[1])
    return None


def _from_shapes(sentence: str) -> tuple[str, str] | None:
    for attribute, pattern in _PATTERNS:
        m = pattern.search(sentence)
        if m:
            value = _clean(m.group(1))
            if attribute == "job title":  # "a nurse at the clinic" -> "nurse"
                value = re.split(r"\s(?:at|in|for|with|and)(?:\s|$)", value)[0]
                if not _HEAD_OF.match(value):
                    value = value.split(" of ")[0]
                    if value.split()[-1] not in _JOB_WORDS:
                        continue  # "I'm now a vegan / a Celtics fan / a dad of two": not a job
            return attribute, value
    m = _PREFERENCE.search(sentence)
    if m:
        return f"favourite {_clean(m.group(1))}", _WHEN_AFTER.sub("", _clean(m.group(2)))
    m = _COUNT.search(sentence)
    if m:
        number = m.group(1).lower()
        counted = m.group(2).lower()
        return f"number of {'kids' if counted == 'children' else counted}", _NUMBERS.get(number, number)
    return None


@lru_cache(maxsize=1024)
def own_statements(text: str) -> tuple[str, ...]:
    """The sentences of a text that may state a standing fact of its speaker's. Both sides of
    the detector read them for the same turn, one after the other: split and refuse once."""
    out: list[str] = []
    previous = ""
    for sentence in _sentences(text):
        # "I changed my email. It's x@y now.": one statement, where "it" is an address or number;
        # "We got a puppy! Her name is Rex.": "We got a puppy named Rex."
        named = _NAME_GIVEN.match(sentence) if previous else None
        if named is not None:
            sentence = f"{previous.rstrip(' .!')} named {sentence[named.end():]}"
        elif previous and _IT_IS.match(sentence) and (_EMAIL.search(sentence) or _PHONE.search(sentence)
                                                      or _IT_IS_MY_FAVOURITE.match(sentence)):
            sentence = f"{previous.rstrip(' .!')}; {sentence}"
        if not _rejected(sentence):
            out.append(sentence)
        previous = sentence if _FIRST_PERSON.search(sentence) else ""
    return tuple(out)


_IT_IS = re.compile(r"\s*it(?:'s|\s+is)\s", re.I)
_IT_IS_MY_FAVOURITE = re.compile(r"\s*it(?:'s|\s+is)\s+(?:now\s+)?(?:my|our)\s+"
                                 r"(?:new\s+|absolute\s+|all-time\s+)?(?:favou?rite|go-to)\b", re.I)
_NAME_GIVEN = re.compile(r"\s*(?:his|her|its|their)\s+name(?:'s|\s+is)\s", re.I)


def _rejected(sentence: str, negation: bool = True) -> bool:
    """Not a statement of the speaker's own standing fact: no first person, a question, a
    hypothetical, a negation (it names the old value; `negation=False` where the old value is
    known) or about someone else."""
    return bool(not (_FIRST_PERSON.search(sentence) or _IMPLICIT_I.match(sentence)
                     or _OWN_CONTACT.match(sentence) or _NOUN_LED.match(sentence) or _HOME_IS.match(sentence)
                     or _terse_now(sentence))
                or _ASKED_OR_IMAGINED.search(sentence) or (negation and _negated(sentence))
                or any(not _OBJECT_OF.search(sentence[:m.start()]) for m in _SOMEONE_ELSE.finditer(sentence)))


# "my sister" after one of these is the object of the speaker's sentence, not its subject ("a flat
# in Leeds, closer to my sister", "we moved to Bath to be near my parents", "I live with my brother")
_OBJECT_OF = re.compile(r"\b(?:to|near|with|beside|by|next to|close to|closer to)\s+$", re.I)


_SENTENCE = re.compile(r"(?<=[.!;?])\s+")
_ABBREVIATION = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|St)\.$")


# ... and "but now" ("I used to live in Denver, but now I live in Lisbon")
_CLAUSE = re.compile(r",?\s+(?:and|but)\s+"
                     r"(?=(?:i|we|just|finally|got|took|began|bought|went|became|[a-z]+ed)\b)|"
                     r",?\s+but\s+(?=now\b)",
                     re.I)


def _sentences(text: str) -> list[str]:
    """Sentences, a title's full stop ("Dr. Ivo") not ending one, and within them the clauses
    that start a statement of their own ("I left Acme and joined Globex": the second is the news,
    the first is refused for naming the old value)."""
    out: list[str] = []
    for piece in _SENTENCE.split(text):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] += " " + piece
        else:
            out.append(piece)
    return [clause for sentence in out for clause in _clauses(spoken(sentence))]


_WITH_SOMEONE = re.compile(r"\s*[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2}\s+and\s+(?:I|we)\b")
_LONE_NAME = re.compile(r"\s*[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*){0,2}\s*$")


def _clauses(sentence: str) -> list[str]:
    """Split at "and"/"but" before a new statement, except after a lone name: "Tom and I got
    married" is one statement about Tom."""
    out: list[str] = []
    start = 0
    for m in _CLAUSE.finditer(sentence):
        if m.start() > start and not _LONE_NAME.fullmatch(sentence[start:m.start()]):
            out.append(sentence[start:m.start()])
            start = m.end()
    out.append(sentence[start:])
    return [part for clause in out for part in _after_ending(clause)]


# a comma after an ending, before the speaker's new state: "I stopped eating meat, I'm vegetarian now"
_COMMA_THEN_I = re.compile(r",\s+(?=(?:so\s+)?(?:now\s+)?(?:i'm|i am|i've|i|we're|we've|we)\s)|"
                           r";\s+|\s[-\u2013\u2014]\s+", re.I)  # or any clause after a dash or semicolon
_CLAUSE_MARKS = (",", ";", " -", "\u2013", "\u2014")


def _after_ending(clause: str) -> list[str]:
    """A clause that ends something (or tells of someone else) and then, after a comma (or any
    clause after a dash or semicolon), says what holds for the speaker now is two: the first is
    refused, the second read alone ("My doctor suggested a change, so I'm vegan now"). Only
    there: a comma elsewhere keeps its clause whole (it carries the context)."""
    m = _COMMA_THEN_I.search(clause) if any(c in clause for c in _CLAUSE_MARKS) else None
    if m is None or not (_NEGATED.search(before := clause[:m.start()]) or _SOMEONE_ELSE.search(before)):
        return [clause]
    return [clause[:m.start()], clause[m.end():]]


_ASKED_OR_IMAGINED = re.compile(
    r"\?|\b(?:if|would|might|maybe|perhaps|thinking (?:about|of)|considering|planning|plan to|hope|hoping|"
    r"wish|want to|i'd like|we'd like|someday|one day|should i|could i|eventually|test driving|let me know|"
    r"let's|ready to|gonna|appl(?:y|ied|ying)|interview\w*)\b"
    # "going to move" is a plan; "been going to the gym on Thursdays" a habit
    r"|\bgoing to\b(?!\s+(?:the|a|an|my|our|his|her|their)\b|\s+(?-i:[A-Z]))", re.I)
# an aside to the listener negates nothing the speaker states ("I'm a Lakers fan now, don't judge me")
# ... nor does an idiom of contentment ("switched to the drums and never looked back")
_ASIDE = re.compile(r"(?:don't|do not)\s+(?:judge|laugh|tell|ask|worry|panic|hate|be\s+jealous|be\s+mad)\b|"
                    r"never\s+(?:looked back|been happier|felt better)|"
                    r"(?:don't|do not|didn't)\s+regret|"
                    # an ending that names what replaced it ("Left Acme for Globex")
                    r"(?:left|quit)\s+(?:[\w.'&-]+\s+){1,3}?for\s+(?:an?\s+|the\s+)?(?-i:[A-Z])", re.I)


def _negated(sentence: str) -> bool:
    """A negation of the speaker's statement; not one of the old holder's ending ("I've got a new
    boss, Tomas, since the old one left": the new value is said, the old one only referred to)."""
    return any(not _THE_OLD.search(sentence[:m.start()]) and not _ASIDE.match(sentence, m.start())
               for m in _NEGATED.finditer(sentence))


_THE_OLD = re.compile(r"\b(?:the|my|our)\s+(?:old|previous|former|last)(?:\s+[a-z]+){0,4}\s+"
                      r"(?:has\s+|had\s+|just\s+)?$", re.I)
# a terse line that names no one and says what holds now is the speaker's ("Lakers fan now",
# "four kids now lol", "gym Thursdays now")
_SOMEONE_NAMED = re.compile(r"\b(?:he|she|they|his|her|hers|their|theirs|him|them|you|your|yours|it|its|"
                            r"this|that|there|someone|everyone)\b", re.I)
_NOW_WORD = re.compile(r"\b(?:now|these days|nowadays)\b", re.I)


def _terse_now(sentence: str) -> bool:
    """A line of a few words that names no one and says what holds now."""
    return (len(sentence.split()) <= 8 and bool(_NOW_WORD.search(sentence))
            and not _SOMEONE_NAMED.search(sentence))


# "Lisbon is home for good now": said of a place by whoever lives there
_HOME_IS = re.compile(r"\s*(?-i:[A-Z])\w+(?:\s+(?-i:[A-Z])\w+)?\s+is\s+(?:now\s+)?home\b", re.I)
_NEGATED = re.compile(
    r"\b(?:no longer|quit|left|lost|stopped|former|used to|don't|do not|didn't|never|ex|away for good)\b",
    re.I)
_FIRST_PERSON = re.compile(r"\b(?:i|i'm|i've|i'd|me|my|mine|we|we're|we've|our|ours|us)\b", re.I)
_SOMEONE_ELSE = re.compile(
    r"\b(?:my|our)\s+(?:best\s+|older\s+|younger\s+|little\s+|big\s+)?(?:brother|sister|mom|mum|mother|dad|"
    r"father|parents?|friend|cousin|son|daughter|niece|nephew|uncle|aunt|neighbou?r|roommate|colleague|"
    r"coworker|grandma|grandpa|grandmother|grandfather|trainer|teacher|classmate|"
    r"(?:wife|husband|partner|boss|manager|doctor|therapist|landlord|landlady|mentor)'s)\b"
    # "my husband took up ...": a partner or boss doing something, not being someone
    r"|\bmy\s+(?:new\s+|current\s+)?(?:wife|husband|partner|girlfriend|boyfriend|boss|manager|doctor|"
    r"therapist|landlord|landlady|mentor)\s+"
    r"(?!(?:is|was|and|name|now|as|since|from|starting|these|this|of|too|again|anymore|lately|nowadays|"
    r"currently|last|next|for|at|here|yet|so|but|though|has been|had been)\b|(?-i:[A-Z]))[a-z]+", re.I)
# a chat line often drops its "I": "Just moved to ...", "Got a new job at ...", "Finally settled ..."
_IMPLICIT_I = re.compile(r"^\s*(?:just|finally|recently|currently|been|got|took|began|bought|brought|went|"
                         r"made|found|started|sold|became|won|left|quit|[a-z]+ed|"
                         # a standing activity with its "I'm" dropped ("Practising the drums every evening");
                         # not "Playing guitar is awesome" or "Living in Leeds is dear": what anyone does
                         r"practi[cs]ing|learning|studying|training|supporting|rooting|cheering|dating)\b",
                         re.I)
# ... and its subject: "Gym is Thursdays now", "New GP since March: Dr. Moreau", "Salary: $5,200"
_NOUN_LED = re.compile(r"\s*(?:(?:new|current)\s+)?(?:(?:gym|workout|training)(?:\s+(?:days?|sessions?))?|"
                       r"salary|income|boss|manager|doctor|gp|therapist|"
                       r"landlord|landlady|mentor|partner|girlfriend|boyfriend|hobby|diet|e-?mail)"
                       r"(?:\s+(?:is|are|now|since|moved|changed|switched|went up|rose|jumped|bumped|"
                       r"increased)\b|\s*:)"
                       # "The new car is a Tesla", "New place is in Leeds": a new one of one's own
                       r"|\s*(?:the\s+)?new\s+(?:car|phone|job|role|title|school|"
                       r"major|place|flat|apartment|house|home|city|team|pet|puppy|kitten|dog|cat|"
                       r"doc|doctor|gp|boss|manager|therapist|landlord|landlady|mentor)\b", re.I)
# contact details given without an "I": "Please use jo@new.example from now on", "New number: ..."
# ("Email support@... for help" names someone else's address: only "use" and "new ..." count)
_OWN_CONTACT = re.compile(r"\s*(?:(?:new|got a new|changed(?: my)?)\s+(?:phone|sim|mobile|carrier|provider)"
                          r"\s*[,;:]\s*)?"  # "New phone, new number: ..."; not "Call the clinic, new number"
                          r"(?:please\s+)?(?:use\s+\S+@|(?:new|updated)\s+(?:phone\s+)?"
                          r"(?:number|e-?mail|address)(?:\s+is)?\s*:?\s*(?:\S+@|\+?\d))", re.I)
_GREETED = re.compile(r"\b(?:hey|hi|hello|thanks|thank you|bye|dear|congrats|congratulations|wow|aww|oh|"
                      r"yo|sorry|welcome|morning|evening|night)[,!]?\s+$", re.I)
_ADDRESSED = re.compile(r"\s*(?:[!?.,;:]|$)")
_LEADS_NAME = re.compile(r"^\s*(?:and I\b|moved in with (?:me|us)\b|(?:has\s+)?replaced\b|"
                         r"(?:is|became|has become|has been|is now)\s+(?:now\s+)?my\b|"
                         r"took over\b|is\s+(?:now\s+)?(?:my\s+|our\s+)?home\b)", re.I)
_TITLE = re.compile(r"\b(?:as an?|promoted (?:me )?to|title is|made me|been an?|now an?|work as an?|"
                    r"[Ii]'m an?|I am an?|(?:role|position|title) (?:changed |moved |switched )?to|"
                    r"(?:bumped|moved|stepped) (?:me )?up to|"
                    r"cards? say)"
                    r"\s+([a-zA-Z][a-z-]*(?:\s+[a-zA-Z][a-z-]*){0,2}?)"
                    r"(?=\s+(?:at(?!\s+heart)|in|for|with|since|this|today|now|and|these|from|last|yesterday|"
                    r"recently|earlier|again|starting|on)\b|\s*[.,!;]|\s*$)")
_KIDS = re.compile(r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:\w+\s+){0,2}?"
                   r"(?:kids?|child(?:ren)?|little ones?|ones)\b", re.I)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w@])\+?\d[\d\s().-]{5,}\d\b")
_MONEY = re.compile(r"[$€£]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*\s?(?:dollars|euros|pounds|yuan)\b", re.I)
_REPLACE = re.compile(rf"\b(?:{REPLACE})\b", re.I)
# a vocabulary value said to be new ("vegan now", "it's bouldering these days"); not "currently",
# which self-descriptions use for anything ("I am currently employed in the finance industry")
_NOW = re.compile(rf"\b(?:now|these days|nowadays|{REPLACE})\b", re.I)
_PRESENT = re.compile(rf"\b(?:{PRESENT})\b", re.I)
# "my new obsession is chess", "my new thing is the banjo": a value of a known kind said to be new
_MY_NEW = re.compile(r"\bmy\s+new\s+[a-z]+\s+(?:is|are)\b", re.I)
_BESIDES = re.compile(rf"\b(?:{BESIDES})\b", re.I)
_STANDING = re.compile(r"\b(?:these days|nowadays)\b", re.I)
# what someone is doing this minute, not what they do ("I'm running late now", "we're swimming now")
_MOMENT = re.compile(r"\b(?:i'm|i am|we're|we are)\s+(?!(?:learning|studying|taking|practi[cs]ing|training|"
                     r"supporting|rooting|following)\b)\w+ing\b", re.I)
_MODEL = re.compile(r"\s*[A-Za-z]?\d+[A-Za-z]*")
_MONTH_NAMES = set(
    "january february march april may june july august september october november december".split())
_DAY_ABBREVIATIONS = {"mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun"}
_WEEKDAY = re.compile(r"\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday)s?\b", re.I)
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
    words = _vocabulary_in(sentence)
    best: tuple[int, str, str] | None = None
    for attribute, cues, excluded in _COMPILED:
        assert cues is not None
        if (attribute.kind in _KIND_VALUE or attribute.kind == "name") and attribute.kind not in present:
            continue  # no value of its kind here
        if attribute.vocab and attribute.kind != "title" and words.isdisjoint(_VOCAB_WORDS[attribute.name]):
            continue  # none of its values: a set test first, the regexes below are slower
        hits = cues.findall(sentence)
        said_new = _NOW.search(sentence) or _MY_NEW.search(sentence)
        if not hits and attribute.kind in ("vocab", "product") and said_new and \
                (_STANDING.search(sentence) or not _MOMENT.search(sentence)):
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
        span = next(((start, end) for start, end in _vocabulary_of(attribute.name, sentence)
                     if not _replaced(sentence, start, end)), None)
        if span and kind == "product":  # the model after the brand
            model = _MODEL.match(sentence, span[1])
            return _clean(sentence[span[0]:span[1]] + (model.group(0) if model else ""))
        return _clean(sentence[span[0]:span[1]]) if span else None
    simple = {"email": _EMAIL, "phone": _PHONE, "money": _MONEY, "weekday": _WEEKDAY}.get(kind)
    if simple is not None:
        m = _first_new(simple, sentence)
        return _clean(m.group(1) if kind == "weekday" and m else m.group(0)) if m else None
    if kind == "number":
        m = _first_new(_KIDS, sentence)
        return _NUMBERS.get(m.group(1).lower(), m.group(1)) if m else None
    if kind == "title":  # what follows "as a", "promoted to", ... and ends in a job's name
        m = _TITLE.search(sentence)
        jobs = _vocabulary_of(attribute.name, m.group(1)) if m else []
        return _clean(m.group(1)) if m and jobs and jobs[0][1] == len(m.group(1)) else None
    return _name_near_cue(sentence, cues, attribute.name)


def _first_new(pattern: re.Pattern[str], sentence: str) -> re.Match[str] | None:
    """The first value of the pattern's kind that is not the one replaced ("from 555-0142 to
    555-0199")."""
    return next((m for m in pattern.finditer(sentence) if not _replaced(sentence, m.start(), m.end())), None)


def _name_near_cue(sentence: str, cues: re.Pattern[str], attribute: str) -> str | None:
    """The name (a capitalised run) that follows a cue word within a few words ("moved to
    Denver", "my manager is Hannah", "a dog called Biscuit"), stands right before it ("a
    Celtics fan"), or leads the sentence into one ("Ivo and I ...", "Hannah is my boss")."""
    names = [(at, n) for at, n in _value_names(sentence)
             if _placed(attribute, sentence[:at]) and not _replaced(sentence, at, at + len(n))]
    for cue in cues.finditer(sentence):
        for at, name in names:
            after = at >= cue.end() and len(sentence[cue.end():at].split()) <= 3
            if after or _right_before(sentence, at, name, cue):  # "moved to Denver", "a Celtics fan"
                return _clean(name)
    for at, name in names:
        if at == 0 and _LEADS_NAME.match(sentence[len(name):]):
            return _clean(name)
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
_ATTRIBUTE = {a.name: a for a in ATTRIBUTE_CUES}
_PLACE = re.compile(r"\b(?:in|near)\s+(?:the\s+)?$", re.I)
_EXCLUDED = {a.name: excluded for a, _, excluded in _COMPILED if excluded is not None}

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


def _replaced(sentence: str, start: int, end: int) -> bool:
    """The value at sentence[start:end] is the one replaced. A name or number after "from" only
    where a "to" follows: "a paycheck from Acme", "a call from Dr. Ivo" name a source."""
    m = _OLD_VALUE.search(sentence[:start])
    if m is None:
        return bool(_ARROW.match(sentence, end))  # "$5,000 -> $6,200"
    if (m.group(1) or "").lower() != "from":
        return True
    return sentence[start:start + 1].islower() or bool(_ONWARD.match(sentence, end))


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
        names = _names(sentence)
        present = {kind for kind, pattern in _KIND_VALUE.items() if pattern.search(sentence)}
        spans = _vocabulary_spans(sentence)
        words = {value for _, _, value in spans}
        possible = [a.name for a in ATTRIBUTE_CUES
                    if (a.kind == "name" and names)
                    or (a.kind in _VOCAB_KINDS and not words.isdisjoint(_VOCAB_WORDS[a.name]))
                    or (a.kind in _KIND_VALUE and a.kind != "title" and a.kind in present)]
        possible = [a for a in possible if not ((x := _EXCLUDED.get(a)) and x.search(sentence))]
        if possible:
            out.append(OpenStatement(sentence, possible, _masked(sentence, names, spans)))
    return out


_VOCAB_WORDS = {a.name: frozenset(a.vocab) for a in ATTRIBUTE_CUES}
_VOCAB_KINDS = ("vocab", "product", "title")
_ALL_VOCAB = frozenset(v for a in ATTRIBUTE_CUES for v in a.vocab)
_FIRST_WORDS = frozenset(v.split()[0] for v in _ALL_VOCAB if " " in v)
_WORDS = (re.compile(r"[a-z]+(?:-[a-z]+)*"), re.compile(r"[a-z]+"))  # "rock-climbing", and its parts


def _vocabulary_spans(sentence: str) -> list[tuple[int, int, str]]:
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


def _vocabulary_of(attribute: str, sentence: str) -> list[tuple[int, int]]:
    """Where the attribute's values stand, leftmost and longest first and not overlapping, as a
    search of one regex of them all would find them ("rock climbing", not "climbing"), from the
    set lookups of `_vocabulary_spans`: a regex of 190 hobbies cost more than the rest of the
    lexicon."""
    words = _VOCAB_WORDS[attribute]
    out: list[tuple[int, int]] = []
    for start, end, _ in sorted((span for span in _vocabulary_spans(sentence) if span[2] in words),
                                key=lambda span: (span[0], -span[1])):
        if not out or start >= out[-1][1]:
            out.append((start, end))
    return out


_NOTHING = re.compile("$^")


def _vocabulary_in(sentence: str) -> set[str]:
    return {value for _, _, value in _vocabulary_spans(sentence)}


def without_values(sentence: str) -> str:
    """The sentence with every word that could be a value taken out: names, vocabulary words,
    addresses, numbers and amounts. What is left says which attribute it states ("I've taken
    up ..." is a hobby whatever follows), so a value seen elsewhere (pottery in "a pottery
    class once") cannot pull the sentence towards the wrong examples."""
    return _masked(sentence, _names(sentence), _vocabulary_spans(sentence))


def _masked(sentence: str, names: list[tuple[int, str]], vocabulary: list[tuple[int, int, str]]) -> str:
    spans = [(at, at + len(name)) for at, name in names]
    spans.extend((start, end) for start, end, _ in vocabulary)
    for pattern in (_EMAIL, _PHONE, _MONEY):
        spans.extend(m.span() for m in pattern.finditer(sentence))
    out, last = [], 0
    for start, end in sorted(spans, key=lambda span: (span[0], -span[1])):
        if start >= last:
            out.append(sentence[last:start])
            last = end
    out.append(sentence[last:])
    return " ".join("".join(out).split())


def value_of(attribute: str, sentence: str) -> str | None:
    """The value a sentence gives an attribute the embedding side chose: its vocabulary word,
    its kind of number or address, or the name in it that is not the old value ("I report to
    Hannah instead of Ivo" -> hannah)."""
    cues = _ATTRIBUTE[attribute]
    if cues.kind == "title":  # the phrase after "promoted to" ("charge nurse"), else the job word
        phrase = _value(cues, sentence, _NOTHING)
        jobs = _vocabulary_of(attribute, sentence)
        if phrase or not jobs:
            return phrase
        start, end = jobs[0]
        capitalised = _TITLE_CASE.search(sentence[:start]) if sentence[start:start + 1].isupper() else None
        # "Executive Director"
        return _clean((capitalised.group(0) if capitalised else "") + sentence[start:end])
    if cues.kind == "weekday" and not _ROUTINE.search(sentence):
        return None  # "on Friday" dates one event; "on Fridays", "every Friday" is a routine
    if cues.kind != "name":
        return _value(cues, sentence, _NOTHING)
    if attribute != "partner" and _WITH_SOMEONE.match(sentence):
        return None  # "Rex and I walk in the Tiergarten in Berlin now": an outing, not a move
    names = [(at, n) for at, n in _value_names(sentence) if not _replaced(sentence, at, at + len(n))
             and _placed(attribute, sentence[:at])
             and (at > 0 or _LEADS_NAME.match(sentence[len(n):]))  # a leading capital is often a verb
             and (attribute not in _PERSON_ROLES or _a_person(attribute, sentence, at, n))
             and not (attribute == "residence" and _DEMONYM.fullmatch(n)
                      and _BEFORE_NOUN.match(sentence, at + len(n)))]
    return _clean(names[0][1]) if names else None


def _placed(attribute: str, before: str) -> bool:
    """Whether a name after `before` can be the attribute's value: a residence is never "a
    <Name>" ("moved over to a Pixel 8"); nothing else is "in <Name>" ("a car show in Paris");
    only a doctor or therapist is "Dr. <Name>" ("my care was transferred to Dr. Okoro")."""
    if _TITLED_BEFORE.search(before) and attribute not in ("doctor", "therapist"):
        return False
    return not (_A_BEFORE if attribute == "residence" else _PLACE).search(before)


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


# words that end a value: a turn that names its speaker's current value with one of them, and
# another value of the same attribute, says the other one replaces it
_ENDED = re.compile(rf"\b(?:{REPLACE}|retired|left|quit|resigned|notice|reassigned|transferred|broke up|"
                    r"split up|sold|stopped|ended|over|boring|bored|tired of|lost interest|traded|upgraded|"
                    r"totall?ed|wrecked|moved away|broke|broken|stolen|smashed|last day)\b", re.I)
_SIMPLE = {"email": _EMAIL, "phone": _PHONE, "weekday": _WEEKDAY}
_NAMED_KINDS = ("name", "vocab", "product", *_SIMPLE)
NAMED_ATTRIBUTES = tuple(a.name for a in ATTRIBUTE_CUES if a.kind in _NAMED_KINDS)


def may_end_a_value(text: str) -> bool:
    """Cheap test before `replacement_value`: the turn has a word that ends a value."""
    return bool(_ENDED.search(text))


def replacement_value(attribute: str, text: str, old: str) -> str | None:
    """The new value of a turn that names its speaker's current value `old` as ending ("Dr. Hughes
    retired, so I've been assigned to Dr. Okoro", "Knitting got boring, rock climbing is my thing
    now", "The Focus finally died, so now I'm in a used Mazda 3"). The lexicon alone reads the
    old value there, or none; knowing which value is the current one tells them apart.
    A vocabulary value is one by its word; a name counts only in the sentence that names the old
    value with a word of succession ("now", "took over") or beside the attribute's cue word
    ("Carla left early, so Miguel ran the standup" changes no manager)."""
    cues = _ATTRIBUTE.get(attribute)
    if cues is None or cues.kind not in _NAMED_KINDS or not old or not _ENDED.search(text):
        return None
    mention = _mention(old)
    if not mention.search(text):
        return None
    excluded = _EXCLUDED.get(attribute)
    swapped = _traded(mention, attribute)
    for sentence in (s for s in _sentences(text) if not _rejected(s, negation=False)):
        if (excluded is not None and excluded.search(sentence)) or _TEMPORARY.search(sentence):
            continue
        if cues.kind == "name":
            # beside a cue word, or where the old value is said to have a successor; a place only
            # beside a cue or traded for another ("we left Madrid at 6 and now we're in Lisbon" is a trip)
            if not (_COMPILED_CUES[attribute].search(sentence) or swapped.search(sentence) or (
                    attribute != "residence" and mention.search(sentence) and _SUCCEEDED.search(sentence))):
                continue
            found = [(at, _clean(n)) for at, n in _value_names(sentence)
                     if not _replaced(sentence, at, at + len(n))
                     and (attribute == "residence" or not _PLACE.search(sentence[:at]))
                     and (at > 0 or _LEADS_NAME.match(sentence[len(n):]))]  # "Traded in the ..."
        elif (simple := _SIMPLE.get(cues.kind)) is not None:  # an address, a number, a weekday
            if cues.kind == "weekday" and not _COMPILED_CUES[attribute].search(sentence):
                continue  # "now it's yoga on Fridays" moves no gym day
            found = [(m.start(), _clean(m.group(m.lastindex or 0))) for m in simple.finditer(sentence)]
        else:
            found = [(start, value) for start, end, value in _vocabulary_spans(sentence)
                     if value in _VOCAB_WORDS[attribute] and not _replaced(sentence, start, end)]
        for at, value in found:
            if not mention.search(value):
                if cues.kind == "product":
                    model = _MODEL.match(sentence, at + len(value))
                    value = _clean(value + (model.group(0) if model else ""))
                return value
    return None


_COMPILED_CUES = {a.name: cues for a, cues, _ in _COMPILED if cues is not None}
# a stand-in is not a successor ("Ruth was on leave, so I saw Joel once instead")
_TEMPORARY = re.compile(r"\b(?:once|for now|temporar\w*|cover(?:s|ed|ing)? for|filling in|fill(?:s|ed)? in|"
                        r"stand-?in|this time|for the (?:day|week))\b", re.I)
_SWAP_VERBS = r"swapped|swapping|traded(?:\s+in)?|exchanged|ditched|dropped|left|quit|replaced"


def _mention(old: str) -> re.Pattern[str]:
    words = [w for w in old.split() if len(w) > 2]
    return re.compile(r"\b(?:" + "|".join(map(re.escape, words or [old])) + r")s?\b", re.I)


def _traded(mention: re.Pattern[str], attribute: str) -> re.Pattern[str]:
    """The old value traded for a named one: "Swapped Denver for Austin", "Left Acme for Globex";
    not "Left Acme for lunch", and a place is not left for another (that is a trip)."""
    verbs = _SWAP_VERBS.replace("|left|quit", "") if attribute == "residence" else _SWAP_VERBS
    return re.compile(rf"\b(?:{verbs})\s+(?:(?:the|my|our)\s+)?{mention.pattern}(?:\s+\S+)?\s+(?:for|with)\s+"
                      r"(?:(?:an?|the)\s+)?(?=(?-i:[A-Z])|[\d$\u20ac\u00a3+]|\S+@)", re.I)


def traded_away(attribute: str, text: str, old: str) -> bool:
    """The text trades the value `old` for another: a stronger sign of its attribute than the
    embedding side's guess from the rest of the words ("Swapped Denver for Austin - the rent is
    half!" is no landlord)."""
    return bool(old) and bool(_traded(_mention(old), attribute).search(text))
_SUCCEEDED = re.compile(r"\b(?:now|new|took over|taking over|replaced|assigned|switched|instead)\b", re.I)


def _value_names(sentence: str) -> list[tuple[int, str]]:
    """The names that can be a name-kind value: not a possessor ("inspired by Shirley Franco's
    work") nor a capitalised job title ("my role as Executive Director")."""
    return [(at, n) for at, n in _names(sentence)
            if not n.endswith(("'s", "\u2019s")) and n.lower().split()[-1] not in _JOB_WORDS]


_JOB_WORDS = frozenset(job.split()[-1] for job in JOBS)
_HEAD_OF = re.compile(r"(?:head|director|vp|vice president|chief|professor|manager|lead)\s+of\s")


def _names(sentence: str) -> list[tuple[int, str]]:
    """Capitalised runs that can be a value: not "I", a month, a weekday, a title or the person
    spoken to ("Thanks, Melanie!", "Hey Cal, guess what")."""
    names = []
    for name, at in sorted(((n, m.start()) for n in entities(sentence)
                            for m in re.finditer(rf"(?<!\w){re.escape(n)}(?!\w)", sentence)),
                           key=lambda found: found[1]):  # every mention: "... so Lisbon is home"
        if (name in _HONORIFICS or _WEEKDAY.fullmatch(name) or name.lower() in _MONTH_NAMES
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
    subjects += [_clean(n.removesuffix("'s")) for n in entities(question) if n not in ("I", "What", "Who")]
    keys = [f"{subject}|{a}" for subject in subjects for a in attributes]
    if not _PAST.search(question):
        return AskedFacts(keys, "now")
    return AskedFacts(keys, "earlier" if _EARLIER.search(question) else "then")


def asked_fact_keys(question: str) -> list[str]:
    """The fact keys a question about the present asks for; none for one about the past."""
    asked = asked_facts(question)
    return asked.keys if asked.when == "now" else []


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
    return bool(_STANDING.search(text) or _HABIT.search(text)) or not _MOMENT.search(text)


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
