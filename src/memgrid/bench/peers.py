"""Peers run side by side with memgrid on the same data and embedder (`pip install -e .[peers]`).

mem0 runs as its authors document for no-LLM use: `infer=False` (each turn stored raw), a local
qdrant path, the HuggingFace embedder pointed at the same packaged MiniLM, and an OpenAI LLM
config that is never called. Turns get the same date and speaker prefix memgrid indexes.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from memgrid.embedders.minilm import minilm_path
from memgrid.importers import Conversation
from memgrid.write.ingest import Message
from memgrid.write.units import index_text


class Mem0System:
    name = "mem0"

    def __init__(self, home: Path) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("MEM0_TELEMETRY", "False")
        self.home = home
        self.workdir = Path(tempfile.mkdtemp(prefix="bench-mem0-"))
        self.memory: Any = None
        self.user = ""
        self.count = 0

    def _new_memory(self) -> Any:
        from mem0 import Memory as Mem0Memory

        self.count += 1
        path = self.workdir / f"qdrant-{self.count}"
        return Mem0Memory.from_config({
            "vector_store": {"provider": "qdrant", "config": {
                "path": str(path), "collection_name": "bench", "embedding_model_dims": 384,
                "on_disk": True}},
            "embedder": {"provider": "huggingface", "config": {"model": minilm_path()}},
            "llm": {"provider": "openai", "config": {"api_key": "sk-never-called",
                                                     "model": "gpt-4o-mini"}},
            "history_db_path": str(self.workdir / f"history-{self.count}.db"),
        })

    def ingest(self, conv: Conversation) -> tuple[int, float]:
        self.memory = self._new_memory()  # one store per conversation, as memgrid gets
        self.user = conv.sample_id
        self.dia_of: dict[str, str] = {}
        turns = 0
        start = time.perf_counter()
        for session_id, _, messages in conv.sessions:
            batch = []
            for m in messages:
                text = index_text(Message(content=m["content"], speaker=m.get("speaker"),
                                          metadata=m["metadata"]), _epoch(m["timestamp"]))
                self.dia_of[text] = m["metadata"][conv.turn_key]
                batch.append({"role": m.get("role", "user"), "content": text})
            # one call per session, as memgrid gets; infer=False stores each message as a memory
            self.memory.add(batch, user_id=self.user, run_id=session_id, infer=False)
            turns += len(batch)
        return turns, time.perf_counter() - start

    def search(self, question: str, k: int, reference_time: float) -> list[list[str]]:
        found = self.memory.search(question, top_k=k, filters={"user_id": self.user}, threshold=0.0)
        results = found["results"] if isinstance(found, dict) else found
        return [[self.dia_of[r["memory"]]] for r in results if r.get("memory") in self.dia_of]

    def close(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso).timestamp()
