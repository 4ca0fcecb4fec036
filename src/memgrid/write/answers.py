"""A user's short answer to the assistant's question about them, read as the statement it
answers: "Where are you living these days?" -> "Galway, since March." Alone the answer names
a place and says nothing of whose or what it is; after the question it is the user's residence.

Only a question put to the user ("you", "Any pets?", "Still at Acme?", "So where's home now?")
about the present (no past tense, no trip, no plan, nobody else's) that asks for one attribute;
only an answer whose first clause (or second, after one that gives none) is a few words led by
the value, and is no question, hypothetical or negation. The assistant's turn is the one before
in the batch or, for the batch's first turn, the newest of its scope stored within the hour
before (one indexed read, only when that first turn could be an answer).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from memgrid.models import StoredMemory
from memgrid.read.asked import asked_facts
from memgrid.storage.base import Store
from memgrid.text import entities
from memgrid.validation import Filters
from memgrid.write.attributes import ASKED
from memgrid.write.facts import ATTRIBUTE, NUMBER, extract_fact, subject_of, value_of
from memgrid.write.statements import refused, sentences, split_sentences
from memgrid.write.values import VOCAB_WORDS, clean, vocabulary_spans

_MAX_WORDS = 8  # an answer's clause: a value and a few words around it
_LEAD_WORDS = 3  # words allowed before the value ("a", "the new", "a dog called")
_REPLY_WITHIN_S = 3600.0
_YOU = re.compile(r"\b(?:you|your|you're|you've|u|ur)\b", re.I)
_ELLIPTIC = re.compile(r"^\s*(?:any|still)\b", re.I)  # "Any pets?", "Still in Madrid?": the listener's
# a value the question names is no one it asks about ("Are you still based in Lyon?"), nor is a
# setting ("Who's your mentor at work?" asks for no employer)
_NAMED_VALUE = re.compile(r"\b(in|at|to|from|near|with|for|on)\s+[A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)*")
_SETTING = re.compile(r"\b(?:at|from|for)\s+(?:work|school|college|uni|home)\b", re.I)
# the question as the listener would ask it of themselves: "you" is "I", and the asker's "I" is
# "you" ("What email should I use for you now?" is no plan of the listener's)
_PERSONS = {"you're": "I'm", "you've": "I've", "your": "my", "ur": "my", "yours": "mine", "you": "I",
            "u": "I", "i'm": "you're", "i've": "you've", "i": "you", "me": "you", "my": "your",
            "mine": "yours"}
_BE = {"are you": "am I", "are u": "am I", "you are": "I am", "u are": "I am"}
_PERSON = re.compile(r"\b(?:are (?:you|u)\b|(?:you|u) are\b|"
                     rf"(?:{'|'.join(map(re.escape, _PERSONS))})(?![\w']))", re.I)
# a question about a moment, a trip or a plan, not a standing fact ("Where are you heading this weekend?")
_ONE_OFF = re.compile(r"\b(?:visit\w*|trip|travel\w*|vacation|holiday|weekend|tonight|today|tomorrow|"
                      r"this (?:week|month|morning|afternoon|evening)|heading|flying|going|staying|next|"
                      r"later|soon|right now)\b", re.I)
# words before the value that are no part of it ("Nope, Galway now", "Still Acme", "Mostly bouldering")
_LEAD_IN = re.compile(r"^\s*(?:(?:yes|yeah|yep|yup|no|nope|nah|still|now|just|mostly|mainly|honestly|"
                      r"ugh|hmm+|meh|wow|oof|aw+|"
                      r"actually|well|oh|um+|uh+|haha|lol|sure|ok|okay|right|definitely|currently|"
                      r"finally|officially|probably|it's|its|it is|that's|that is|that'd be|"
                      r"(?:at|in|with|for|from)(?=\s+(?-i:[A-Z])))\b[\s,!.:;-]*)+",
                      re.I)
# the attribute's statement the answer completes: the value read there, beside its cue
_SAID_AS = {
    "residence": "I live in {}", "employer": "I work at {}", "job title": "I'm now a {}",
    "school": "I study at {}", "major": "I'm majoring in {}", "partner": "My partner is {}",
    "manager": "My manager is {}", "doctor": "My doctor is {}", "therapist": "My therapist is {}",
    "landlord": "My landlord is {}", "mentor": "My mentor is {}", "pet": "My pet is {}",
    "number of kids": "I have {} kids", "diet": "My diet is {}", "favourite food": "My favourite food is {}",
    "car": "My car is {}", "phone": "My phone is {}", "email": "My email is {}",
    "phone number": "My number is {}", "hobby": "My hobby is {}", "instrument": "I play the {}",
    "team": "I support {}", "gym day": "I go to the gym on {}", "income": "I earn {}",
}
# the value as the subject of what follows is a remark about it ("Paris was amazing though")
_SAID_OF_IT = re.compile(r"\s+(?:was|were|is|are|has|had|looks?|seems?|sounds?|[a-z]+ed)\b"
                         r"(?!\s+(?:now\s+)?(?:my|our|home)\b)")
# the read side's words for an attribute, in the forms a question to someone else takes
_BASE_FORMS = {"working": "work", "majoring": "major", "pets": "pet", "bosses": "boss", "driving": "drive",
               "earning": "earn"}
_BASE_FORM = re.compile(rf"\b(?:{'|'.join(_BASE_FORMS)})\b", re.I)
_CAPITALISED = re.compile(r"\S\s+[A-Z]")  # a name past the first word: maybe a value the user holds
# "So where's home now?": a standing fact asked of the present, with no one named, is the listener's
_STANDING_NOW = re.compile(r"\b(?:now|these days|nowadays|currently)\b", re.I)
_PREAMBLE = re.compile(r":\s+|\s[-\u2013\u2014]\s+")
_ASKED_WORDS = {name: re.compile(rf"\b(?:{words})\b", re.I) for name, words in ASKED.items()}
_SOMEONE = re.compile(r"\b(?:i|i'm|i've|me|my|we|our|us|he|she|they|his|her|their|him|them)\b", re.I)
_WHO = re.compile(r"^\W*(?:(?:and|so|oh|ok|okay)\W+)?who\b", re.I)
_PEOPLE = frozenset({"partner", "manager", "doctor", "therapist", "landlord", "mentor", "employer"})
# a name that opens an answer is one where an answer ends or says since when ("Globex, since
# June", "Priya."); a capital before other words is the sentence's ("Somewhere rainy", "Dunno yet")
_ANSWER_ENDS = re.compile(r"\s*(?:[.,;:!)\u2013\u2014-]|$|(?:and|now|since|these days|nowadays|as of|"
                          r"lately|currently|actually|again|finally|for now)\b)", re.I)
_COUNTED = re.compile(rf"^{NUMBER}\s+[a-z]+\s*[,:-]\s*", re.I)
_CLAUSE_BREAK = re.compile(r"\s+[-\u2013\u2014]\s+|;\s+")
# what stands where a value would, and is none: no one, nowhere, a state rather than a name
# ("Home, finally!", "Single again.", "Freelance these days.")
_NO_VALUE = frozenset({
    "nowhere", "nobody", "none", "nothing", "somewhere", "someone", "anyone", "anywhere", "everywhere",
    "same", "dunno", "idk", "unsure", "usual", "home", "work", "school", "here", "there", "abroad", "away",
    "alone", "single", "married", "engaged", "divorced", "widowed", "freelance", "freelancing", "remote",
    "retired", "unemployed", "self-employed", "student", "busy", "fine", "good", "great", "bad", "okay",
    "travelling", "traveling", "me", "myself"})
_COUNT = re.compile(rf"\b{NUMBER}\b", re.I)


def read_answers(store: Store, units: Sequence[StoredMemory]) -> None:
    """Key the user turns of `units` that answer the assistant's question about one of their
    standing facts. A turn the detector keyed keeps its key (a question placed before a
    statement does not make the statement its answer), except a terse one after a question that
    names what the user holds: "Still at Vandelay?" then "Nope - Deloitte now." is no manager,
    whatever the few words sit nearest in the embedding space."""
    held: dict[str, dict[str, str]] = {}
    for i, unit in enumerate(units):
        # cheapest first: most turns follow no assistant turn of the batch
        if unit.role != "user" or unit.kind != "message" or (i > 0 and units[i - 1].role != "assistant"):
            continue
        if (unit.fact_key and len(unit.text.split()) > _MAX_WORDS) or not _opening_clauses(unit.text):
            continue
        before = units[i - 1] if i > 0 else _stored_before(store, unit)
        if before is None or before.role != "assistant" or not _replied(before, unit):
            continue
        subject = subject_of(unit)
        if subject not in held and _CAPITALISED.search(before.text):  # "Still at Acme?": what they hold
            stored = store.current_facts(unit.scope, [f"{subject}|{a}" for a in _SAID_AS])
            held[subject] = {k.partition("|")[2]: m.fact_value or "" for k, m in stored.items()}
        attribute = asked_of_listener(before.text, held.get(subject, {}))
        holds = held.get(subject, {}).get(attribute or "")
        if unit.fact_key and not (attribute and _names_held(before.text, holds)):
            continue
        value = answered(attribute, unit.text) if attribute else None
        if attribute and value:
            unit.fact_key, unit.fact_value = f"{subject}|{attribute}", value


def asked_of_listener(text: str, held: Mapping[str, str] | None = None) -> str | None:
    """The one standing attribute a turn's last question asks its listener about, in the present:
    "Where are you living these days?" -> residence, "Still at Acme?" -> employer, "Are you still
    vegetarian?" -> diet (a value of it named); not "Where did you live before?", "Where are you
    heading this weekend?", "Where does your sister live?", "... you and Tom ..." or a question
    of two attributes. `held`: the listener's current values by attribute; a question that names
    one asks about its attribute ("Still at Vandelay?")."""
    questions = [s for s in sentences(text.strip()) if s.rstrip().endswith("?")]
    if not questions:
        return None
    question = _PREAMBLE.split(questions[-1])[-1]  # "Quick check before I book: are you ...?"
    if _ONE_OFF.search(question):
        return None
    to_listener = bool(_YOU.search(question))
    if not (to_listener or _ELLIPTIC.match(question)
            or (_STANDING_NOW.search(question) and not _SOMEONE.search(question))):
        return None
    # names, but not a first word ("Remind me - ...") nor an abbreviation ("Who's your GP?")
    names = [clean(n) for n in entities(question.split(" ", 1)[-1]) if not n.isupper()]
    values = clean(" ".join(m.group(0) for m in _NAMED_VALUE.finditer(question)))
    own = _SETTING.sub("", _NAMED_VALUE.sub(r"\1 it", question))
    own = _PERSON.sub(_swapped, own)
    own = f"my {own[:1].lower()}{own[1:]}"  # the listener's, whatever its first word
    own = _BASE_FORM.sub(lambda m: _BASE_FORMS[m.group(0).lower()], own)
    asked = asked_facts(own)
    if asked.when != "now" or refused(own.replace("?", "."), negation=False):
        return None
    attributes = _widest({key.partition("|")[2] for key in asked.keys if key.startswith("self|")}, own)
    if not attributes:  # "Are you still vegetarian?": a value of one vocabulary attribute named
        attributes = {a for _, _, word in vocabulary_spans(own) for a, words in VOCAB_WORDS.items()
                      if word in words}
    if not attributes:  # a value the listener holds named: "Still at Vandelay?", "Do you still see Dr. Ivo?"
        holding = {a for a, value in (held or {}).items() if any(_names_held(n, value) for n in names)}
        return holding.pop() if len(holding) == 1 else None
    if any(not re.search(rf"\b{re.escape(n)}\b", values) for n in names):
        return None  # someone else is whom it asks about ("Where do you and Tom live?")
    if _WHO.match(question):  # a person (or an employer), not a team or a pet
        attributes &= _PEOPLE
    return attributes.pop() if len(attributes) == 1 else None


def answered(attribute: str, text: str) -> str | None:
    """The value of `attribute` that a short answer leads with, in its first clause or, after
    one that gives none ("We split. I'm with Rafael now", "Not since May - Stripe now"), its
    second; or None."""
    if attribute not in _SAID_AS:
        return None
    opening = _LEAD_IN.sub("", text)
    for clause in _opening_clauses(text):
        if refused(clause):
            return None
        value = _led_by(attribute, clause)
        if value and _YOU.search(text) and re.match(rf"\W*{re.escape(value)}\s*,", opening, re.I):
            return None  # the one spoken to ("Dave, it's awesome seeing you happy")
        if value:
            return value
    return None


def _led_by(attribute: str, clause: str) -> str | None:
    if attribute == "number of kids":
        count = _COUNT.search(clause)
        return value_of(attribute, _SAID_AS[attribute].format(count.group(1))) if count else None
    rest = _LEAD_IN.sub("", clause).strip()
    if not rest:
        return None
    if ATTRIBUTE[attribute].kind == "name":
        rest = _COUNTED.sub("", rest)  # "Two cats, Miso and Tofu"
    said_as = _SAID_AS[attribute].format(rest)
    if attribute == "job title":  # "Head of research": the shape of "I'm now a ..." reads it
        fact = extract_fact(said_as, "self")
        value = fact.value if fact and fact.key == "self|job title" else None
    else:
        value = value_of(attribute, said_as)
    if not value or value in _NO_VALUE:
        return None
    said = clean(rest)
    at = said.find(value)
    if at < 0 or len(said[:at].split()) > _LEAD_WORDS or _SAID_OF_IT.match(said, at + len(value)):
        return None
    if at == 0 and ATTRIBUTE[attribute].kind == "name":
        words = re.match(r"\s*" + r"\s+".join([r"[^\s.,;:!)]+"] * len(value.split())), rest)
        if words is None or not _ANSWER_ENDS.match(rest, words.end()):
            return None
    return value


def _opening_clauses(text: str) -> list[str]:
    """The answer's first two clauses (sentences, or parts after a dash or semicolon), not
    counting one that is only an interjection ("Nope!"), while they are short and no question."""
    clauses = [c.strip() for s in split_sentences(text) for c in _CLAUSE_BREAK.split(s) if c.strip()]
    out: list[str] = []
    for clause in clauses:
        if "?" in clause or len(clause.split()) > _MAX_WORDS or len(out) == 2:
            break
        if _LEAD_IN.sub("", clause).strip():
            out.append(clause)
    return out


def _widest(attributes: set[str], question: str) -> set[str]:
    """Without an attribute whose question words stand only inside another's ("work" in "work
    out" asks for no employer)."""
    spans = {a: [m.span() for m in _ASKED_WORDS[a].finditer(question)] for a in attributes}
    return {a for a in attributes
            if not any(b != a and all(any(s <= x and y <= e and (s, e) != (x, y) for s, e in spans[b])
                                      for x, y in spans[a]) for b in attributes)}


def _names_held(question: str, value: str | None) -> bool:
    return bool(value) and bool(re.search(rf"\b{re.escape(value or '')}\b", question, re.I))


def _swapped(m: re.Match[str]) -> str:
    said = " ".join(m.group(0).lower().split())
    return _BE.get(said) or _PERSONS[said]


def _stored_before(store: Store, unit: StoredMemory) -> StoredMemory | None:
    newest = store.list_memories(unit.scope, Filters(kinds=("message",)), None, 1, newest_first=True)
    return newest[0] if newest else None


def _replied(before: StoredMemory, unit: StoredMemory) -> bool:
    gap = (unit.event_time or 0.0) - (before.event_time or 0.0)
    return 0.0 <= gap <= _REPLY_WITHIN_S
