"""Cheap text signals shared by the write path (memories) and the read path (queries)."""

from __future__ import annotations

import re
from collections.abc import Iterable

_WORD = re.compile(r"[^\W_]+")  # the same word boundaries as FTS5's unicode61 tokenizer
_CAPITALIZED = re.compile(r"\b([A-Z][a-zA-Z0-9'\-]+(?:\s+(?:of|the|de|van|von)?\s*[A-Z][a-zA-Z0-9'\-]+)*)")

STOPWORDS = frozenset("""
a about above after again against all am an and any are aren't as at be because been before being
below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
down during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's
her here here's hers herself him himself his how how's i i'd i'll i'm i've if in into is isn't it
it's its itself let's me more most mustn't my myself no nor not of off on once only or other ought
our ours ourselves out over own same shan't she she'd she'll she's should shouldn't so some such
than that that's the their theirs them themselves then there there's these they they'd they'll
they're they've this those through to too under until up very was wasn't we we'd we'll we're we've
were weren't what what's when when's where where's which while who who's whom why why's with won't
would wouldn't you you'd you'll you're you've your yours yourself yourselves also just really yeah
yes oh ok okay hey hi hello thanks thank will get got like one would could much many well even
still lot lots did does kind sort thing things something anything going gonna wanna
don doesn didn isn wasn aren couldn wouldn shouldn won haven hasn hadn weren mustn shan let
""".split())

# Words that start sentences or questions in caps but name nothing.
_NOT_ENTITIES = STOPWORDS | frozenset(
    "wow great awesome sure sorry yep nope hmm haha lol please maybe definitely absolutely "
    "congrats congratulations nice cool good glad".split())


_SENTENCE = re.compile(r"[^.!?]*[.!?]+|[^.!?]+$")


def question_share(text: str) -> float:
    """How much of a text (by characters) is questions. In a dialogue the question asks and the
    reply tells: a turn that only asks rarely holds what a later question needs."""
    if "?" not in text:
        return 0.0
    sentences = [s.strip() for s in _SENTENCE.findall(text)]
    total = sum(len(s) for s in sentences)
    return sum(len(s) for s in sentences if s.endswith("?")) / total if total else 0.0


def tokens(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def keywords(text: str, limit: int = 16) -> list[str]:
    """Distinct content words in order of first use (stopwords and 1-2 char tokens dropped)."""
    seen: dict[str, None] = {}
    for word in tokens(text):
        if len(word) > 2 and word not in STOPWORDS and not word.isdigit():
            seen.setdefault(word, None)
            if len(seen) >= limit:
                break
    return list(seen)


def entities(text: str, limit: int = 16) -> list[str]:
    """Capitalised words and runs ("New York", "Bank of America"), numbers with 4 digits (years)."""
    found: dict[str, None] = {}
    for match in _CAPITALIZED.finditer(text):
        phrase = match.group(1).strip()
        words = [w for w in phrase.split() if w.lower() not in _NOT_ENTITIES]
        if not words:
            continue
        found.setdefault(" ".join(words), None)
        if len(found) >= limit:
            break
    return list(found)


def name_words(names: Iterable[str]) -> set[str]:
    """The lowercase words of entity names ("Jon's" -> "jon"): what entity links match on."""
    words = {w.lower().split("'")[0] for n in names for w in n.split()}
    return {w for w in words if w.isalnum()}


def estimate_tokens(text: str) -> int:
    """~4 characters per token for English with GPT-style BPE; no tokenizer download needed."""
    return max(1, (len(text) + 3) // 4)
