"""LongMemEval retrieval benchmark, with the metrics of LongMemEval's own retrieval evaluation.

Each question's haystack becomes one user's memory (sessions with their real dates); the
question is asked at its question_date. Ranked turns give the turn-level ranking; sessions are
ranked by their best turn. recall_any@k (an evidence item in the top k), recall_all@k (all of
them) and ndcg_any@k, k = 1, 3, 5, 10, per question type; abstention questions (`_abs`) skipped.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from memgrid.bench.locomo import plot, retrieval_for
from memgrid.bench.metrics import all_at_k, hit_at_k, ndcg_at_k, unique_in_order
from memgrid.bench.report import speed_summary, write_json
from memgrid.config import EmbedderConfig, MemgridConfig, RetrievalConfig
from memgrid.errors import InvalidInputError
from memgrid.memory import Memory

KS = (1, 3, 5, 10)
DEPTH = 50  # turns retrieved per question: enough to rank sessions to depth 10


def parse_date(value: str) -> datetime:
    """'2023/05/20 (Sat) 02:21' -> aware datetime (the data set names no zone: UTC)."""
    try:
        return datetime.strptime(value.strip(), "%Y/%m/%d (%a) %H:%M").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInputError(f"LongMemEval date {value!r} is not like '2023/05/20 (Sat) 02:21'") from None


def load(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    required = {"question_id", "question_type", "question", "question_date", "answer_session_ids",
                "haystack_dates", "haystack_session_ids", "haystack_sessions"}
    if not isinstance(data, list) or not all(isinstance(q, dict) and required <= set(q) for q in data):
        raise InvalidInputError(f"{path} is not LongMemEval data: a list of objects with {sorted(required)}")
    return data


def messages_of(question: dict[str, Any]) -> list[tuple[str, datetime, list[dict[str, Any]]]]:
    """(session id, date, messages) with each turn's id '<session>_<index>' in metadata."""
    out = []
    for sid, date, turns in zip(question["haystack_session_ids"], question["haystack_dates"],
                                question["haystack_sessions"], strict=True):
        start = parse_date(date)
        msgs = [{"role": t["role"], "content": t["content"],
                 "timestamp": start.timestamp() + 30 * i,
                 "metadata": {"turn_id": f"{sid}_{i}", "has_answer": bool(t.get("has_answer"))}}
                for i, t in enumerate(turns) if isinstance(t.get("content"), str) and t["content"].strip()]
        out.append((str(sid), start, msgs))
    return out


class _Scores:
    def __init__(self) -> None:
        self.rows: list[tuple[str, dict[str, float]]] = []

    def add(self, qtype: str, sessions: Sequence[str], answer_sessions: set[str],
            turns: Sequence[str], answer_turns: set[str]) -> None:
        row: dict[str, float] = {}
        for level, ranked, relevant in (("session", sessions, answer_sessions),
                                        ("turn", turns, answer_turns)):
            if not relevant:
                continue
            for k in KS:
                row[f"{level}_recall_any@{k}"] = hit_at_k(ranked, relevant, k)
                row[f"{level}_recall_all@{k}"] = all_at_k(ranked, relevant, k)
                row[f"{level}_ndcg_any@{k}"] = ndcg_at_k(ranked, relevant, k)
        self.rows.append((qtype, row))

    @staticmethod
    def _mean(rows: list[dict[str, float]]) -> dict[str, float]:
        sums: dict[str, list[float]] = defaultdict(list)
        for row in rows:
            for key, value in row.items():
                sums[key].append(value)
        return {k: round(sum(v) / len(v), 4) for k, v in sorted(sums.items())}

    def summary(self) -> dict[str, Any]:
        by_type: dict[str, list[dict[str, float]]] = defaultdict(list)
        for qtype, row in self.rows:
            by_type[qtype].append(row)
        out: dict[str, Any] = self._mean([r for _, r in self.rows])
        # flat aliases the JSON schema of `memgrid bench` promises
        for k in KS:
            out[f"recall@{k}"] = out.get(f"session_recall_any@{k}", 0.0)
        out["questions"] = len(self.rows)
        out["per_category"] = {t: {**self._mean(rows), "questions": len(rows)}
                               for t, rows in sorted(by_type.items())}
        return out


def run_system(name: str, retrieval: RetrievalConfig, questions: list[dict[str, Any]],
               embedder: str, home: Path) -> dict[str, Any]:
    workdir = Path(tempfile.mkdtemp(prefix=f"lme-{name}-"))
    config = MemgridConfig(home=home, path=workdir / "lme.db", retrieval=retrieval,
                           embedder=EmbedderConfig(provider=embedder),  # type: ignore[arg-type]
                           durability="normal")
    scores = _Scores()
    ingest_s, turns_total, latencies = 0.0, 0, []
    with Memory(config=config) as mem:
        for q in questions:
            if "_abs" in q["question_id"]:
                continue
            user = str(q["question_id"])
            sessions = messages_of(q)
            answer_turns = {m["metadata"]["turn_id"] for _, _, msgs in sessions for m in msgs
                            if m["metadata"]["has_answer"]}
            start = time.perf_counter()
            for sid, _, msgs in sessions:
                if msgs:
                    mem.add(msgs, user_id=user, session_id=sid, source="bench")
                    turns_total += len(msgs)
            ingest_s += time.perf_counter() - start
            start = time.perf_counter()
            hits = mem.search(q["question"], user_id=user, limit=DEPTH,
                              reference_time=parse_date(q["question_date"]).timestamp())
            latencies.append(time.perf_counter() - start)
            ranked_turns = [h.memory.metadata["turn_id"] for h in hits]
            ranked_sessions = unique_in_order([h.memory.session_id or "" for h in hits])
            scores.add(q["question_type"], ranked_sessions, {str(s) for s in q["answer_session_ids"]},
                       ranked_turns, answer_turns)
    shutil.rmtree(workdir, ignore_errors=True)
    return {**scores.summary(), **speed_summary(ingest_s, turns_total, latencies)}


def run_longmemeval(data: Path, systems: Sequence[str], embedder: str, home: Path,
                    retrieval: RetrievalConfig | None = None, json_out: Path | None = None,
                    log: Any = print) -> dict[str, dict[str, Any]]:
    questions = load(data)
    base = retrieval or RetrievalConfig()
    results: dict[str, dict[str, Any]] = {}
    for name in systems:
        if name == "mem0":
            raise ValueError("the mem0 peer runs on LoCoMo only for now")
        r = results[name] = run_system(name, retrieval_for(name, base), questions, embedder, home)
        log(f"{name:>20}: session recall_any@5 {r['session_recall_any@5']:.3f}  "
            f"recall_all@5 {r['session_recall_all@5']:.3f}  "
            f"turn recall_any@10 {r.get('turn_recall_any@10', 0.0):.3f}  "
            f"search p50 {r['search_ms_p50']} ms")
    write_json(json_out, results)
    if json_out is not None:
        try:
            plot(results, json_out.with_suffix(".png"), KS, "recall",
                 "LongMemEval session recall_any@k")
        except ImportError:
            log("matplotlib not installed: no plot")
    return results
