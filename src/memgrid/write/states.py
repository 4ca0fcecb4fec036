"""The embedding side of the zero-LLM fact detector: for a user's sentence that the lexicon
(`facts.py`) could not read but that holds a value some attribute could take, decide by
nearest examples (`state_examples.py`) which attribute it states, if any. Cue words know the
phrasings someone wrote down; the embedding space also knows their paraphrases ("we've put
down roots in Galway" sits near "our new home is in Oslo").

The examples are embedded once per detector with the store's own embedder, so the detector
costs one embedding per candidate sentence (a fraction of the turns) and nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from memgrid.embedders.base import CachedEmbedder
from memgrid.models import StoredMemory
from memgrid.write.facts import open_statements, value_of, without_values
from memgrid.write.state_examples import EXAMPLES, NONE, SAMPLE_VALUES

NONE_LABEL = ""


@dataclass(frozen=True, slots=True)
class StateConfig:
    top_k: int = 3  # an attribute's score: the mean similarity of its k nearest examples
    min_score: float = 0.30  # below this nothing is near enough to decide
    margin: float = 0.04  # over the nearest examples of no standing fact at all


class StateDetector:
    def __init__(self, embedder: CachedEmbedder, config: StateConfig | None = None) -> None:
        self.embedder = embedder
        self.config = config or StateConfig()
        self._matrix: np.ndarray | None = None
        self._labels: np.ndarray | None = None

    def _examples(self) -> tuple[np.ndarray, np.ndarray]:
        if self._matrix is None or self._labels is None:
            texts, labels = masked_examples()
            self._matrix = _unit_rows(self.embedder.embed(texts))
            self._labels = np.array(labels)
        return self._matrix, self._labels

    def assign(self, units: Sequence[StoredMemory]) -> None:
        """Give a fact key and value to the user turns the lexicon left without one."""
        todo: list[tuple[StoredMemory, str, list[str]]] = [
            (unit, sentence, possible)
            for unit in units
            if unit.role == "user" and unit.kind == "message" and not unit.fact_key
            for sentence, possible in open_statements(unit.text)]
        if not todo:
            return
        vectors = _unit_rows(self.embedder.embed([without_values(sentence) for _, sentence, _ in todo]))
        for (unit, sentence, possible), vector in zip(todo, vectors, strict=True):
            if unit.fact_key:  # an earlier sentence of the same turn decided it
                continue
            attribute = self.decide(vector, possible)
            value = value_of(attribute, sentence) if attribute else None
            if attribute and value:
                unit.fact_key = f"{_subject(unit)}|{attribute}"
                unit.fact_value = value

    def decide(self, vector: np.ndarray, possible: list[str]) -> str | None:
        """The attribute among `possible` whose examples are nearest, if near enough and nearer
        than the examples of statements that set nothing."""
        matrix, labels = self._examples()
        sims = matrix @ vector
        k = self.config.top_k

        def score(label: str) -> float:
            near = sims[labels == label]
            return float(np.sort(near)[-k:].mean()) if near.size else -1.0

        best = max(possible, key=score)
        top = score(best)
        if top < self.config.min_score or top - score(NONE_LABEL) < self.config.margin:
            return None
        return best


@cache
def masked_examples() -> tuple[list[str], list[str]]:
    """The examples with their values taken out, each distinct text once, and their labels.
    A pure function of the shipped examples: computed once per process."""
    seen: dict[str, str] = {}
    for attribute, (kind, examples) in EXAMPLES.items():
        for example in examples:
            for value in SAMPLE_VALUES[kind][:2]:
                seen.setdefault(without_values(example.format(v=value)), attribute)
    for sentence in NONE:
        seen.setdefault(without_values(sentence), NONE_LABEL)
    return list(seen), list(seen.values())


def _subject(unit: StoredMemory) -> str:
    return " ".join((unit.speaker or "self").strip(" .,!?;:'\"").lower().split()) or "self"


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)
