"""LoCoMo retrieval benchmark: memgrid and peers on the same conversations, same questions.

Every conversation becomes one user's memory with its real session dates; every question with
evidence is asked at the conversation's end. Metrics are turn-level: a retrieved unit counts for
the dia_ids it covers, and spends one slot of k per turn (no credit for giant units).
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

from memgrid.bench.metrics import hit_at_k, ndcg_at_k, recall_at_k, unique_in_order
from memgrid.bench.report import speed_summary, write_json
from memgrid.config import EmbedderConfig, LLMConfig, MemgridConfig, RetrievalConfig
from memgrid.importers import Conversation, load_locomo
from memgrid.memory import Memory

CATEGORIES = {1: "multi-hop", 2: "temporal", 3: "open-domain", 4: "single-hop", 5: "adversarial"}
KS = (1, 5, 10, 20)


class System(Protocol):
    name: str

    def ingest(self, conv: Conversation) -> tuple[int, float]:
        """Store a conversation; (turns, seconds spent in add calls: setup is not timed)."""

    def search(self, question: str, k: int, reference_time: float) -> list[list[str]]:
        """Top units best-first, each as the list of turn ids (`conv.turn_key`) it covers."""

    def close(self) -> None: ...


# Channel-only configurations: the plain peers, and ablations of memgrid's own mechanisms.
_PLAIN = {"weight_dense": 0, "weight_bm25": 0, "weight_entity": 0, "weight_time": 0, "score_weight": 0,
          "neighbor_weight": 0, "session_weight": 0, "recency_weight": 0, "weight_session_units": 0,
          "question_discount": 0, "reply_weight": 0, "speaker_discount": 0,
          "second_neighbor_weight": 0, "undated_discount": 0, "dense_without_time": False}
PRESETS: dict[str, dict[str, float]] = {
    "dense": {**_PLAIN, "weight_dense": 1},
    "bm25": {**_PLAIN, "weight_bm25": 1},
    "hybrid": {**_PLAIN, "weight_dense": 1, "weight_bm25": 1},
}
ABLATIONS: dict[str, dict[str, float]] = {
    "no-dense": {"weight_dense": 0}, "no-bm25": {"weight_bm25": 0},
    "no-time": {"weight_time": 0}, "no-time-strip": {"dense_without_time": False},
    "no-session": {"session_weight": 0},
    "no-session-units": {"weight_session_units": 0},
    "no-scores": {"score_weight": 0},
    "no-neighbor": {"neighbor_weight": 0, "second_neighbor_weight": 0, "reply_weight": 0},
    "no-second-neighbor": {"second_neighbor_weight": 0},
    "no-question-discount": {"question_discount": 0}, "no-reply": {"reply_weight": 0},
    "no-speaker": {"speaker_discount": 0}, "no-undated": {"undated_discount": 0},
    "only-entity": {**_PLAIN, "weight_entity": 1}, "only-time": {**_PLAIN, "weight_time": 1},
    "with-entity": {"weight_entity": 0.2},
    "with-links": {"link_weight": 0.2}, "with-topics": {"weight_topic_units": 6.0},
    "with-retention": {"retention_weight": 0.5},
}


class MemgridSystem:
    def __init__(self, name: str, retrieval: RetrievalConfig, embedder: str, home: Path,
                 db_url: str | None = None, llm: LLMConfig | None = None) -> None:
        self.name = name
        self.deep = name == "memgrid-deep"  # the deep path: needs `llm`
        self.llm = llm or LLMConfig(base_url=None)
        self.retrieval = retrieval
        self.embedder = embedder
        self.home = home
        self.db_url = db_url  # PostgreSQL: each conversation is a user there, erased when done
        self.workdir = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        self.mem: Memory | None = None
        self.user = ""
        self.turn_key = "dia_id"
        self.model: dict[str, Any] = {}  # the deep path's model: name, calls, tokens, time per task

    def ingest(self, conv: Conversation) -> tuple[int, float]:
        self._release()
        config = MemgridConfig(home=self.home, path=self.workdir / f"{conv.sample_id}.db",
                               db_url=self.db_url,
                               embedder=EmbedderConfig(provider=self.embedder),  # type: ignore[arg-type]
                               retrieval=self.retrieval, durability="normal", llm=self.llm)
        self.mem = Memory(config=config)
        self.user = f"bench-{self.name}-{conv.sample_id}"
        self.turn_key = conv.turn_key
        if self.db_url:
            self.mem.erase(user_id=self.user)  # left by an interrupted run
        turns = 0
        start = time.perf_counter()
        for session_id, _, messages in conv.sessions:
            self.mem.add(messages, user_id=self.user, session_id=session_id, source="bench")
            turns += len(messages)
        if self.retrieval.weight_session_units > 0 or self.retrieval.weight_topic_units > 0:
            self.mem.consolidate(user_id=self.user)  # part of the write path's cost
        return turns, time.perf_counter() - start

    def search(self, question: str, k: int, reference_time: float) -> list[list[str]]:
        assert self.mem is not None
        hits = self.mem.search(question, user_id=self.user, limit=k, reference_time=reference_time,
                               deep=self.deep)
        return [[h.memory.metadata[self.turn_key]] for h in hits]

    def _release(self) -> None:
        if self.mem is not None:
            if self.deep:  # what the model cost, summed over conversations
                usage = self.mem.llm.usage
                self.model["model"] = self.mem.llm.model_name
                self.model["failed"] = self.model.get("failed", 0) + usage.failed
                tasks = self.model.setdefault("by_task", {})
                for task, row in usage.by_task.items():
                    total = tasks.setdefault(task, dict.fromkeys(row, 0))
                    for key, value in row.items():
                        total[key] += value
            if self.db_url:
                self.mem.erase(user_id=self.user)
            self.mem.close()
            self.mem = None

    def close(self) -> None:
        self._release()
        shutil.rmtree(self.workdir, ignore_errors=True)


@dataclass
class Scores:
    """Accumulates per-question metrics overall and per category."""

    values: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    per_category: dict[str, dict[str, list[float]]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(list)))

    def add(self, category: str, retrieved: Sequence[str], relevant: set[str]) -> None:
        row = {}
        for k in KS:
            row[f"recall@{k}"] = recall_at_k(retrieved, relevant, k)
            row[f"hit@{k}"] = hit_at_k(retrieved, relevant, k)
        row["ndcg@10"] = ndcg_at_k(retrieved, relevant, 10)
        for key, value in row.items():
            self.values[key].append(value)
            self.per_category[category][key].append(value)

    @staticmethod
    def _mean(d: dict[str, list[float]]) -> dict[str, float]:
        return {k: round(sum(v) / len(v), 4) for k, v in d.items() if v}

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = self._mean(self.values)
        out["questions"] = len(self.values.get("recall@10", []))
        out["per_category"] = {c: {**self._mean(d), "questions": len(d["recall@10"])}
                               for c, d in sorted(self.per_category.items())}
        return out


def flatten_units(units: list[list[str]], k: int) -> list[str]:
    """Turns in rank order; a unit spends as many of the k slots as turns it covers."""
    turns: list[str] = []
    for unit in units:
        turns.extend(unit)
        if len(turns) >= k:
            break
    return unique_in_order(turns)[:k]


def evidence_ids(qa: dict[str, Any], known: set[str]) -> set[str]:
    ids = set()
    for raw in qa.get("evidence", []):
        for part in str(raw).replace(",", ";").split(";"):
            part = part.strip()
            if part in known:
                ids.add(part)
    return ids


def run_system(system: System, conversations: Iterable[Conversation],
               categories: Sequence[str] | None = None) -> dict[str, Any]:
    scores = Scores()
    ingest_s, turns, latencies = 0.0, 0, []
    for conv in conversations:
        added, seconds = system.ingest(conv)
        turns += added
        ingest_s += seconds
        known = {m["metadata"][conv.turn_key] for _, _, msgs in conv.sessions for m in msgs}
        asked_at = (conv.sessions[-1][1] + timedelta(days=1)).timestamp()
        for qa in conv.qa:
            relevant = evidence_ids(qa, known)
            category = CATEGORIES.get(int(qa.get("category", 0)), "other")
            if not relevant or (categories and category not in categories):
                continue
            start = time.perf_counter()
            units = system.search(qa["question"], max(KS), asked_at)
            latencies.append(time.perf_counter() - start)
            scores.add(category, flatten_units(units, max(KS)), relevant)
    system.close()
    model = {"llm": system.model} if isinstance(system, MemgridSystem) and system.model else {}
    return {**scores.summary(), **speed_summary(ingest_s, turns, latencies), **model}


def locomo_files(data: Path) -> list[Path]:
    """A folder of conversations, one file, or several files joined with commas (a split)."""
    parts = [Path(p) for p in str(data).split(",") if p]
    files = [f for part in parts for f in (sorted(part.glob("*.json")) if part.is_dir() else [part])]
    missing = [f for f in files if not f.exists()]
    if not files or missing:
        detail = f" (missing {missing[0]})" if missing else ""
        raise FileNotFoundError(f"no LoCoMo .json files at {data}{detail}")
    return files


def retrieval_for(name: str, base: RetrievalConfig) -> RetrievalConfig:
    """memgrid's own configurations by name: the default, plain channels, one-mechanism ablations."""
    if name in ("memgrid", "memgrid-deep"):
        return base
    if name in PRESETS:
        return base.model_copy(update=PRESETS[name])
    if name.startswith("memgrid-") and name[8:] in ABLATIONS:  # e.g. memgrid-no-time
        return base.model_copy(update=ABLATIONS[name[8:]])
    known = ["memgrid", "memgrid-deep", "mem0", *PRESETS, *(f"memgrid-{a}" for a in ABLATIONS)]
    raise ValueError(f"unknown system {name!r}; known: {', '.join(known)}")


def build_systems(names: Sequence[str], embedder: str, home: Path,
                  base: RetrievalConfig, db_url: str | None = None,
                  llm: LLMConfig | None = None) -> list[System]:
    systems: list[System] = []
    for name in names:
        if name == "mem0":
            from memgrid.bench.peers import Mem0System

            systems.append(Mem0System(home))
        else:
            systems.append(MemgridSystem(name, retrieval_for(name, base), embedder, home, db_url, llm))
    return systems


def plot(results: dict[str, dict[str, Any]], out: Path, ks: Sequence[int] = KS,
         metric: str = "recall", title: str = "LoCoMo turn-level recall") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    colors = plt.get_cmap("tab20").colors  # type: ignore[attr-defined]
    for i, (name, r) in enumerate(results.items()):
        ax.plot(ks, [r[f"{metric}@{k}"] for k in ks], marker="o", label=name, color=colors[i % 20],
                linewidth=2.5 if name == "memgrid" else 1.2)
    ax.set_xlabel("k")
    ax.set_ylabel(f"{metric}@k")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def run_locomo(data: Path, systems: Sequence[str], embedder: str, home: Path,
               retrieval: RetrievalConfig | None = None, json_out: Path | None = None,
               log: Any = print, db_url: str | None = None, llm: LLMConfig | None = None,
               categories: Sequence[str] | None = None) -> dict[str, dict[str, Any]]:
    conversations = [load_locomo(f) for f in locomo_files(data)]
    results: dict[str, dict[str, Any]] = {}
    for system in build_systems(systems, embedder, home, retrieval or RetrievalConfig(), db_url, llm):
        results[system.name] = run_system(system, conversations, categories)
        r = results[system.name]
        log(f"{system.name:>20}: recall@10 {r['recall@10']:.3f}  hit@10 {r['hit@10']:.3f}  "
            f"ndcg@10 {r['ndcg@10']:.3f}  ingest {r['ingest_turns_per_s']} turns/s  "
            f"search p50 {r['search_ms_p50']} ms")
    write_json(json_out, results)
    if json_out is not None:
        try:
            plot(results, json_out.with_suffix(".png"))
        except ImportError:
            log("matplotlib not installed: no plot")
    return results


def run_locomo_answers(data: Path, systems: Sequence[str], embedder: str, home: Path,
                       retrieval: RetrievalConfig | None = None, json_out: Path | None = None,
                       log: Any = print, db_url: str | None = None, *, llm: LLMConfig, questions: int,
                       seed: int, budget: int) -> dict[str, dict[str, Any]]:
    """Answer accuracy with each system's memory, one model answering and judging (answers.py)."""
    from memgrid.bench.answers import run_answers
    from memgrid.llm.client import LLMClient

    conversations = [load_locomo(f) for f in locomo_files(data)]
    client = LLMClient(llm, home / "models")
    try:
        built = build_systems(systems, embedder, home, retrieval or RetrievalConfig(), db_url, llm)
        window = llm.context_tokens if llm.base_url == "local" else None
        results = run_answers(built, conversations, client, questions, seed, budget, window, log)
    finally:
        client.close()
    results["_run"] = {"model": client.model_name, "judge": client.model_name, "questions": questions,
                       "seed": seed, "token_budget": budget, "usage": client.usage.by_task}
    for name, r in results.items():
        if "answer_accuracy" in r:
            log(f"{name:>14}: answer accuracy {r['answer_accuracy']:.3f} on {r['questions']} questions, "
                f"context {r['context_tokens_mean']} tokens, answer p50 {r['answer_ms_p50']} ms")
    write_json(json_out, results)
    return results
