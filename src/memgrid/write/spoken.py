"""Chat sentences reduced to the statement they carry, before the detector reads them: what
people wrap around a statement is not part of it.

- A tag question after a comma ("I'm in Lisbon now, how about you?") made the whole sentence a
  question, and questions are refused. A short trailing clause with a question mark goes,
  unless what is left is itself asked ("Are we moving to Leeds, or what?").
- A discourse marker before it ("So yeah, Tomas and I are dating now") hid a name that leads
  the sentence.
- "Priya's my manager now" is "Priya is my manager now", not Priya's something.
- A shouted line ("I'M DATING TOMAS NOW!!!") read word for word made every word a name.
"""

from __future__ import annotations

import re

# a trailing clause of a few words that asks the listener something
_TAG = re.compile(r"\s*[,;\u2013\u2014-]\s*(?:[^,;?]{1,40})\?+\s*$")
# what is left is still a question: an auxiliary before its subject, or a question word first
_ASKED = re.compile(r"^\s*(?:(?:are|is|am|do|does|did|should|shall|could|would|will|can|have|has|was|were|"
                    r"may|might|must)\s+(?:i|we|you|he|she|they|it|there)\b|"
                    r"(?:what|where|when|who|whom|whose|which|why|how)\b)", re.I)
_MARKER = re.compile(r"^\s*(?:so(?:\s+yeah)?|well|anyway|anyways|oh|also|btw|by the way|honestly|plus|ok|"
                     r"okay|yeah|yes|yep|guess what|big news|good news|fun fact|fyi|heads up|update|news|"
                     r"quick update|long story short)\s*[,:!\u2013\u2014-]+\s*", re.I)
_NAME_IS = re.compile(r"\b((?-i:[A-Z])[\w-]+)['\u2019]s(?=\s+(?:my|our|now|the one)\b)")


_SHOUTED = re.compile(r"\b[A-Z][A-Z']+\b")
_TWO_CAPITALS = re.compile(r"[A-Z]{2}")
_CAPITALS = re.compile(r"\b[A-Z][A-Z']*\b")


def spoken(sentence: str) -> str:
    """The statement a chat sentence carries, without its tag question, its leading discourse
    marker, shouting ("WE GOT A PUPPY!!!": words in capitals, where most are, read in lower case;
    a name shouted is lost, "MIT" in a plain sentence is kept) and with "<Name>'s my" read as
    "<Name> is my"."""
    if _TWO_CAPITALS.search(sentence):
        shouted = _SHOUTED.findall(sentence)
        if len(shouted) >= 3 and len(shouted) * 2 > len(sentence.split()):
            sentence = _CAPITALS.sub(lambda m: m.group(0).lower(), sentence)
    tag = _TAG.search(sentence) if "?" in sentence else None
    if tag is not None and tag.start() > 0 and not _ASKED.match(sentence[:tag.start()]):
        sentence = sentence[:tag.start()] + "."
    marker = _MARKER.match(sentence)
    if marker is not None:
        sentence = sentence[marker.end():]
    return _NAME_IS.sub(r"\1 is", sentence) if "s " in sentence else sentence
