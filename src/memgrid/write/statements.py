"""Which sentences of a turn may state a standing fact of its speaker's: split into sentences
and clauses, then refused if it has no first person (and is no subjectless chat line), is a
question, a hypothetical, a negation or about someone else.
"""

from __future__ import annotations

import re
from functools import lru_cache

from memgrid.write.spoken import spoken
from memgrid.write.values import EMAIL, PHONE


@lru_cache(maxsize=1024)
def own_statements(text: str) -> tuple[str, ...]:
    """The sentences of a text that may state a standing fact of its speaker's. Both sides of
    the detector read them for the same turn, one after the other: split and refuse once."""
    out: list[str] = []
    previous = ""
    for sentence in split_sentences(text):
        # "I changed my email. It's x@y now.": one statement, where "it" is an address or number;
        # "We got a puppy! Her name is Rex.": "We got a puppy named Rex."
        named = _NAME_GIVEN.match(sentence) if previous else None
        if named is not None:
            sentence = f"{previous.rstrip(' .!')} named {sentence[named.end():]}"
        elif previous and _IT_IS.match(sentence) and (EMAIL.search(sentence) or PHONE.search(sentence)
                                                      or _IT_IS_MY_FAVOURITE.match(sentence)):
            sentence = f"{previous.rstrip(' .!')}; {sentence}"
        if not rejected(sentence):
            out.append(sentence)
        previous = sentence if _FIRST_PERSON.search(sentence) else ""
    return tuple(out)


_IT_IS = re.compile(r"\s*it(?:'s|\s+is)\s", re.I)
_IT_IS_MY_FAVOURITE = re.compile(r"\s*it(?:'s|\s+is)\s+(?:now\s+)?(?:my|our)\s+"
                                 r"(?:new\s+|absolute\s+|all-time\s+)?(?:favou?rite|go-to)\b", re.I)
_NAME_GIVEN = re.compile(r"\s*(?:his|her|its|their)\s+name(?:'s|\s+is)\s", re.I)


def rejected(sentence: str, negation: bool = True) -> bool:
    """Not a statement of the speaker's own standing fact: no first person, a question, a
    hypothetical, a negation (it names the old value; `negation=False` where the old value is
    known) or about someone else."""
    return bool(not (_FIRST_PERSON.search(sentence) or _IMPLICIT_I.match(sentence)
                     or _OWN_CONTACT.match(sentence) or _NOUN_LED.match(sentence) or _HOME_IS.match(sentence)
                     or _terse_now(sentence))
                or refused(sentence, negation))


def refused(sentence: str, negation: bool = True) -> bool:
    """A question, a hypothetical, a negation or about someone else, whoever its subject."""
    return bool(_ASKED_OR_IMAGINED.search(sentence) or (negation and _negated(sentence))
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


def sentences(text: str) -> list[str]:
    """Sentences as written, a title's full stop ("Dr. Ivo") not ending one."""
    out: list[str] = []
    for piece in _SENTENCE.split(text):
        if out and _ABBREVIATION.search(out[-1]):
            out[-1] += " " + piece
        else:
            out.append(piece)
    return out


def split_sentences(text: str) -> list[str]:
    """Sentences, and within them the clauses that start a statement of their own ("I left Acme
    and joined Globex": the second is the news, the first is refused for naming the old value)."""
    return [clause for sentence in sentences(text) for clause in _clauses(spoken(sentence))]


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
