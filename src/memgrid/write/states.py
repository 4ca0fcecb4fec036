"""The embedding side of the zero-LLM fact detector: for a user's sentence that the lexicon
(`facts.py`) could not read but that holds a value some attribute could take, decide by
nearest examples (`state_examples.py`) which attribute it states, if any. Cue words know the
phrasings someone wrote down; the embedding space also knows their paraphrases ("we've put
down roots in Galway" sits near "our new home is in Oslo").

The examples are embedded once per detector with the store's own embedder, so the detector
costs one embedding per candidate sentence (a fraction of the turns) and nothing else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from memgrid.embedders.base import CachedEmbedder
from memgrid.models import StoredMemory
from memgrid.write.facts import OpenStatement, open_statements, subject_of, value_of
from memgrid.write.state_examples import EXAMPLES, NONE, SAMPLE_VALUES
from memgrid.write.values import without_values

NONE_LABEL = ""
_CHANGE = re.compile(r"\b(?:now|new|these days|nowadays|since|switched|changed|officially|anymore|instead|"
                     r"finally|just)\b", re.I)


@dataclass(frozen=True, slots=True)
class StateConfig:
    top_k: int = 3  # an attribute's score: the mean similarity of its k nearest examples
    min_score: float = 0.30  # below this nothing is near enough to decide
    margin: float = 0.04  # over the nearest examples of no standing fact at all
    # for an attribute the speaker already has a value of, said with a word of change: people
    # restate what they already told, so the same nearness suffices at a smaller margin
    held_margin: float = -0.03


def said_to_change(sentence: str) -> bool:
    """A word that says something is so now, or is new ("now", "since", "switched", ...)."""
    return bool(_CHANGE.search(sentence))


class StateDetector:
    def __init__(self, embedder: CachedEmbedder, config: StateConfig | None = None) -> None:
        self.embedder = embedder
        self.config = config or StateConfig()
        self._examples: _Examples | None = None

    def examples(self) -> _Examples:
        """The masked examples embedded, once per detector (the embedder is the store's)."""
        if self._examples is None:
            texts, labels = masked_examples()
            self._examples = _Examples.of(_unit_rows(self.embedder.embed(texts)), labels)
        return self._examples

    def candidates(self, units: Sequence[StoredMemory]) -> list[tuple[StoredMemory, OpenStatement]]:
        """The sentences to decide: those of user turns the lexicon left without a fact key.
        Their masked texts are embedded with the turns, in one call (`Writer.write`)."""
        return [(unit, statement) for unit in units
                if unit.role == "user" and unit.kind == "message" and not unit.fact_key
                for statement in open_statements(unit.text)]

    def assign(self, todo: Sequence[tuple[StoredMemory, OpenStatement]], vectors: np.ndarray,
               held: Sequence[set[str]] | None = None) -> None:
        """Give a fact key and value to the turns whose sentences state one (`vectors`: the
        embedded masked sentences of `candidates`; `held`, per sentence: the attributes its
        speaker already has a value of, if it says a word of change)."""
        if not todo:
            return
        decided = self.decide(_unit_rows(vectors), [statement.possible for _, statement in todo], held)
        for (unit, statement), attribute in zip(todo, decided, strict=True):
            if unit.fact_key or attribute is None:  # an earlier sentence of the turn decided it
                continue
            value = value_of(attribute, statement.sentence)
            if value:
                unit.fact_key = f"{subject_of(unit)}|{attribute}"
                unit.fact_value = value

    def decide(self, vectors: np.ndarray, possible: Sequence[list[str]],
               held: Sequence[set[str]] | None = None) -> list[str | None]:
        """Per sentence vector, the attribute among its `possible` whose examples are nearest, if
        near enough and nearer than the examples of statements that set nothing. One product
        and one partial sort for the whole batch."""
        examples = self.examples()
        scores = examples.scores(vectors, self.config.top_k)
        column = examples.column
        nothing = scores[:, column[NONE_LABEL]]
        out: list[str | None] = []
        for i, labels in enumerate(possible):
            def score(name: str, row: int = i) -> float:
                j = column.get(name)
                return -1.0 if j is None else float(scores[row, j])

            best = max(labels, key=score)
            top = score(best)
            margin = self.config.held_margin if held and best in held[i] else self.config.margin
            enough = top >= self.config.min_score and top - float(nothing[i]) >= margin
            out.append(best if enough else None)
        return out


@dataclass(frozen=True, slots=True)
class _Examples:
    matrix: np.ndarray  # the examples' unit vectors, one row each
    column: dict[str, int]  # label -> its column in `scores`
    grid: np.ndarray  # label x its examples' rows, padded with len(matrix) (a row of -inf)
    fewest: int  # examples of the label that has fewest

    @classmethod
    def of(cls, matrix: np.ndarray, labels: list[str]) -> _Examples:
        names = list(dict.fromkeys(labels))
        rows = [[i for i, label in enumerate(labels) if label == name] for name in names]
        grid = np.full((len(names), max(map(len, rows))), len(labels))
        for j, r in enumerate(rows):
            grid[j, :len(r)] = r
        return cls(matrix, {name: j for j, name in enumerate(names)}, grid, min(map(len, rows)))

    def scores(self, vectors: np.ndarray, k: int) -> np.ndarray:
        """Sentence x label: the mean similarity of the label's k nearest examples (k at most
        the fewest any label has, so padding never counts)."""
        k = min(k, self.fewest)
        # einsum, not BLAS: OpenBLAS's threads spin on after so small a product, taking a
        # core from the embedder and the ANN search of the same write
        products = np.einsum("id,jd->ij", vectors, self.matrix)
        sims = np.hstack([products, np.full((len(vectors), 1), -np.inf, np.float32)])
        by_label = sims[:, self.grid]  # sentence x label x example
        width = by_label.shape[2]
        nearest: np.ndarray = np.partition(by_label, width - k, axis=2)[:, :, width - k:]
        return np.asarray(nearest.mean(axis=2))


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


def _unit_rows(matrix: np.ndarray) -> np.ndarray:
    m = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1.0, norms)
