"""`FactJudge` backed by the model (`MemgridConfig.fact_judge = "model"`): whether a user's new
statement replaces the older one holding the same fact key is Mem0's decision, asked with the
same prompt as extraction's (`extract.decide`): UPDATE or DELETE supersede the old memory (it keeps
its words, gets `valid_to`), ADD and NOOP leave both current. Nothing is deleted either way.

The zero-LLM detector still decides which memories hold the same key; the model only replaces
the value comparison, so it can tell a second hobby from a swap that no cue word announces.
The writer asks it before the write transaction (`prepare`), so the store is never locked while
the model thinks; a decision the transaction then needs again is the remembered one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from memgrid.errors import LLMError
from memgrid.llm.client import LLMClient
from memgrid.llm.extract import decide
from memgrid.models import StoredMemory
from memgrid.write.judges import ValueChangeJudge

log = logging.getLogger(__name__)
REMEMBERED = 4096  # decisions kept between prepare and the transaction (and for retries)


class ModelFactJudge:
    def __init__(self, llm: Callable[[], LLMClient]) -> None:
        self._llm = llm
        self._decided: dict[tuple[str, str], bool] = {}
        self.fallback = ValueChangeJudge()
        self.calls = self.failures = 0

    def supersedes(self, old: StoredMemory, new: StoredMemory) -> bool:
        if old.fact_value == new.fact_value or (new.event_time or 0.0) < (old.event_time or 0.0):
            return False  # the same value again, or said before it: no question to ask
        pair = (old.id, new.id)
        if pair not in self._decided:
            if len(self._decided) >= REMEMBERED:
                self._decided.clear()
            self._decided[pair] = self._ask(old, new)
        return self._decided[pair]

    def prepare(self, pairs: Iterable[tuple[StoredMemory, StoredMemory]]) -> None:
        """Decide (old, new) pairs now, outside the write transaction."""
        for old, new in pairs:
            self.supersedes(old, new)

    def _ask(self, old: StoredMemory, new: StoredMemory) -> bool:
        self.calls += 1
        try:
            event, target = decide(self._llm(), new.text, [old])
        except LLMError as exc:  # a model that is down must not lose the write
            self.failures += 1
            log.warning("fact judge: the model failed (%s); values decide instead", exc)
            return self.fallback.supersedes(old, new)
        return event in ("UPDATE", "DELETE") and target is not None

    def stats(self) -> dict[str, Any]:
        return {"calls": self.calls, "failures": self.failures}
