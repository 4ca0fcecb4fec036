"""Changes that name the old value: "Dr. Hughes retired, so I've been assigned to Dr. Okoro".
Read alone, such a turn states the old value (or nothing the lexicon knows); read beside its
speaker's current facts, the value named as ending is the current one and the other is the
new one (`replacement_value`). The issue's "comparison with the user's earlier
statements on the same attribute", zero-LLM: one indexed read of the speaker's current facts
for a batch that has a word of ending in a user turn, nothing otherwise."""

from __future__ import annotations

import re
from collections.abc import Sequence

from memgrid.models import StoredMemory
from memgrid.storage.base import Store
from memgrid.write.attributes import ATTRIBUTE_CUES, REPLACE
from memgrid.write.facts import ATTRIBUTE, CUES, EXCLUDED, MODEL, PLACE, extract_fact, subject_of
from memgrid.write.statements import rejected, split_sentences
from memgrid.write.values import (
    EMAIL,
    LEADS_NAME,
    PHONE,
    VOCAB_WORDS,
    WEEKDAY,
    clean,
    replaced,
    value_names,
    vocabulary_spans,
)


def restate(store: Store, units: Sequence[StoredMemory]) -> None:
    """Give the turns of `units` that end one of their speaker's current values the new value
    they name (fact key and value), before the write decides supersession."""
    todo = {u.id for u in units if u.role == "user" and u.kind == "message" and may_end_a_value(u.text)}
    if not todo:
        return
    scope = next(u.scope for u in units if u.id in todo)
    subjects = {subject_of(u) for u in units if u.id in todo}
    keys = [f"{s}|{a}" for s in sorted(subjects) for a in NAMED_ATTRIBUTES]
    holders = {k: m.fact_value or "" for k, m in store.current_facts(scope, keys).items()}
    for unit in sorted(units, key=lambda u: (u.event_time or 0.0, u.position or 0)):
        if unit.id in todo and unit.scope.user_id == scope.user_id:
            prefix = f"{subject_of(unit)}|"
            for key, old in holders.items():
                if not key.startswith(prefix):
                    continue
                if not _may_restate(unit, key, old):
                    continue
                new = replacement_value(key.partition("|")[2], unit.text, old)
                if new:
                    unit.fact_key, unit.fact_value = key, new
                    break
        if unit.fact_key and unit.fact_value:  # the batch's own statements hold from here on
            holders[unit.fact_key] = unit.fact_value


def _may_restate(unit: StoredMemory, key: str, old: str) -> bool:
    """Not where the turn states another attribute, or a new value already ("jazz" is the old
    "honda jazz"); unless it trades `old` away and only the embedding side keyed it."""
    if unit.fact_key in (None, key) and (unit.fact_value is None
                                         or set(unit.fact_value.split()) <= set(old.split())):
        return True
    attribute = key.partition("|")[2]
    return traded_away(attribute, unit.text, old) and extract_fact(unit.text, subject_of(unit)) is None


# words that end a value: a turn that names its speaker's current value with one of them, and
# another value of the same attribute, says the other one replaces it
_ENDED = re.compile(rf"\b(?:{REPLACE}|retired|left|quit|resigned|notice|reassigned|transferred|broke up|"
                    r"split up|sold|stopped|ended|over|boring|bored|tired of|lost interest|traded|upgraded|"
                    r"totall?ed|wrecked|moved away|broke|broken|stolen|smashed|last day)\b", re.I)
_SIMPLE = {"email": EMAIL, "phone": PHONE, "weekday": WEEKDAY}
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
    cues = ATTRIBUTE.get(attribute)
    if cues is None or cues.kind not in _NAMED_KINDS or not old or not _ENDED.search(text):
        return None
    mention = _mention(old)
    if not mention.search(text):
        return None
    excluded = EXCLUDED.get(attribute)
    swapped = _traded(mention, attribute)
    for sentence in (s for s in split_sentences(text) if not rejected(s, negation=False)):
        if (excluded is not None and excluded.search(sentence)) or _TEMPORARY.search(sentence):
            continue
        if cues.kind == "name":
            # beside a cue word, or where the old value is said to have a successor; a place only
            # beside a cue or traded for another ("we left Madrid at 6 and now we're in Lisbon" is a trip)
            if not (CUES[attribute].search(sentence) or swapped.search(sentence) or (
                    attribute != "residence" and mention.search(sentence) and _SUCCEEDED.search(sentence))):
                continue
            found = [(at, clean(n)) for at, n in value_names(sentence)
                     if not replaced(sentence, at, at + len(n))
                     and (attribute == "residence" or not PLACE.search(sentence[:at]))
                     and (at > 0 or LEADS_NAME.match(sentence[len(n):]))]  # "Traded in the ..."
        elif (simple := _SIMPLE.get(cues.kind)) is not None:  # an address, a number, a weekday
            if cues.kind == "weekday" and not CUES[attribute].search(sentence):
                continue  # "now it's yoga on Fridays" moves no gym day
            found = [(m.start(), clean(m.group(m.lastindex or 0))) for m in simple.finditer(sentence)]
        else:
            found = [(start, value) for start, end, value in vocabulary_spans(sentence)
                     if value in VOCAB_WORDS[attribute] and not replaced(sentence, start, end)]
        for at, value in found:
            if not mention.search(value):
                if cues.kind == "product":
                    model = MODEL.match(sentence, at + len(value))
                    value = clean(value + (model.group(0) if model else ""))
                return value
    return None


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
