"""Chat sentences reduced to the statement they carry, before the detector reads them: what
people wrap around a statement is not part of it.

- A tag question after a comma ("I'm in Lisbon now, how about you?") made the whole sentence a
  question, and questions are refused. So did a last clause said to the listener ("I live in
  Lisbon now, let me know if you're around": "if" made it a hypothetical). Such a trailing
  clause goes, unless what is left is itself asked ("Are we moving to Leeds, or what?") or the
  clause states something of the speaker's ("As promised, I'm letting you know I quit").
- A discourse marker before it ("So yeah, Tomas and I are dating now") hid a name that leads
  the sentence.
- "Priya's my manager now" is "Priya is my manager now", not Priya's something.
- A shouted line ("I'M DATING TOMAS NOW!!!") read word for word made every word a name.
- Emoji count as words where a line's length matters ("two kids now 😅"), and an aside that
  names the old value ("major: economics now (was biology)") is not the statement.
"""

from __future__ import annotations

import re

# a trailing clause of a few words that asks the listener something
_TAG = re.compile(r"\s*[,;\u2013\u2014-]\s*(?:[^,;?]{1,40})\?+\s*$")
# what is left is still a question: an auxiliary before its subject, or a question word first
_ASKED = re.compile(r"^\s*(?:(?:are|is|am|do|does|did|should|shall|could|would|will|can|have|has|was|were|"
                    r"may|might|must)\s+(?:i|we|you|he|she|they|it|there)\b|"
                    r"(?:what|where|when|who|whom|whose|which|why|how)\b)", re.I)
# a last clause said to the listener: an offer, a wish, a hedge ("..., let me know if you're around",
# "..., hope you're well", "..., in case you need it"); what it says is not the speaker's fact
_TAIL = re.compile(r"\s*[,;\u2013\u2014]\s*([^,;]{1,80}?)[.!?]*\s*$|\s+-\s+([^,;]{1,80}?)[.!?]*\s*$")
_TO_THE_LISTENER = re.compile(r"\b(?:you|your|yours|ya|hope|wish me|let me know|in case|just ask|"
                              r"happy to|feel free|would love|would recommend|join me|text me|call me|"
                              r"if that's)\b", re.I)
# ... unless the clause holds a statement of the speaker's own, or where to find them
# ("..., you can reach me on 555-0117", "..., you'll find me in Leeds now")
_OWN_STATE = re.compile(r"\b(?:i'm|i am|i've|i have|my|we're|we are|we've|our|me (?:on|at|in))\b|[@\d]", re.I)
_MARKER = re.compile(r"^\s*(?:so(?:\s+yeah)?|well|anyway|anyways|oh|also|btw|by the way|honestly|plus|ok|"
                     r"okay|yeah|yes|yep|guess what|big news|good news|fun fact|fyi|heads up|update|news|"
                     r"quick update|long story short)\s*[,:!\u2013\u2014-]+\s*", re.I)
_EMOJI = re.compile("[\U0001F000-\U0001FAFF\u2600-\u27BF\uFE0F\u200D]+")
_OLD_ASIDE = re.compile(
    r"\s*\(\s*(?:it\s+)?(?:was|were|not|previously|formerly|used to be|no longer)\b[^()]*\)", re.I)
_NAME_IS = re.compile(r"\b((?-i:[A-Z])[\w-]+)['\u2019]s(?=\s+(?:my|our|now|the one)\b)")


_SHOUTED = re.compile(r"\b[A-Z][A-Z']+\b")
_TWO_CAPITALS = re.compile(r"[A-Z]{2}")
_CAPITALS = re.compile(r"\b[A-Z][A-Z']*\b")


def spoken(sentence: str) -> str:
    """The statement a chat sentence carries, without its tag question, its leading discourse
    marker, shouting ("WE GOT A PUPPY!!!": words in capitals, where most are, read in lower case;
    a name shouted is lost, "MIT" in a plain sentence is kept) and with "<Name>'s my" read as
    "<Name> is my"."""
    if not sentence.isascii():
        sentence = _EMOJI.sub("", sentence).rstrip()
    if "(" in sentence:
        sentence = _OLD_ASIDE.sub("", sentence)
    if _TWO_CAPITALS.search(sentence):
        shouted = _SHOUTED.findall(sentence)
        if len(shouted) >= 3 and len(shouted) * 2 > len(sentence.split()):
            sentence = _CAPITALS.sub(lambda m: m.group(0).lower(), sentence)
    tag = _TAG.search(sentence) if "?" in sentence else None
    if tag is not None and tag.start() > 0 and not _ASKED.match(sentence[:tag.start()]):
        sentence = sentence[:tag.start()] + "."
    if "," in sentence or "-" in sentence or ";" in sentence or "\u2014" in sentence:
        tail = _TAIL.search(sentence)
        clause = (tail.group(1) or tail.group(2)) if tail is not None else ""
        if tail is not None and tail.start() > 0 and _TO_THE_LISTENER.search(clause) \
                and not _OWN_STATE.search(clause) and not _ASKED.match(sentence[:tail.start()]):
            sentence = sentence[:tail.start()] + "."
    marker = _MARKER.match(sentence)
    if marker is not None:
        sentence = sentence[marker.end():]
    return _NAME_IS.sub(r"\1 is", sentence) if "s " in sentence else sentence
