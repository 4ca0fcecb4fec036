"""LongMemEval retrieval benchmark, scored as LongMemEval's own retrieval evaluation scores it.

Each question's haystack becomes one user's memory (every turn, both roles, with its session's
real date), built by the same systems as LoCoMo (memgrid with its consolidation, the plain
channels, mem0), and the question is asked at its question_date. LongMemEval's corpus is the
user turns (`<session>_<n>`, n counted from 1 over all turns), so the ranking scored is the
retrieved user turns in order: an assistant turn neither scores nor spends a slot. Evidence is
the user turns marked has_answer in answer sessions; a question with none (its evidence is
what the assistant said) is left out of the means, as LongMemEval's script leaves it out, and
counted. Sessions are ranked through their turns, as far down as k distinct sessions go.
Scores: recall_any@k, recall_all@k and ndcg_any@k (LongMemEval's DCG), k = 1, 3, 5, 10, per
question type; abstention questions (`_abs`) are skipped. The ranking stops at DEPTH turns
where LongMemEval's ranks the whole corpus, so a session first met below that counts as missed.
"""

from __future__ import annotations

import json
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from memgrid.bench.locomo import System, build_systems, flatten_units, plot
from memgrid.bench.metrics import lme_scores, sessions_of_turns
from memgrid.bench.report import speed_summary, write_json
from memgrid.config import RetrievalConfig
from memgrid.errors import InvalidInputError
from memgrid.importers import Conversation

KS = (1, 3, 5, 10)
DEPTH = 50  # turns retrieved per question, as many as memgrid's rerank stages see by default
TURN_KEY = "turn_id"


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


def conversation_of(question: dict[str, Any]) -> Conversation:
    """One question's haystack as a conversation: every turn, labelled `<session>_<n>` (n from 1,
    LongMemEval's turn ids). The evidence labels stay out of what the systems store."""
    sessions = []
    for sid, date, turns in zip(question["haystack_session_ids"], question["haystack_dates"],
                                question["haystack_sessions"], strict=True):
        start = parse_date(date)
        messages = [{"role": t["role"], "content": t["content"],
                     "timestamp": (start + timedelta(seconds=30 * i)).isoformat(),
                     "metadata": {TURN_KEY: f"{sid}_{i + 1}"}}
                    for i, t in enumerate(turns)
                    if isinstance(t.get("content"), str) and t["content"].strip()]
        sessions.append((str(sid), start, messages))
    return Conversation(sample_id=str(question["question_id"]), speakers=("user", "assistant"),
                        sessions=sessions, qa=[], turn_key=TURN_KEY)


@dataclass(frozen=True)
class Corpus:
    """What LongMemEval ranks and counts as evidence for one question."""

    session_of: dict[str, str]  # user turn id -> the session it counts for
    evidence: set[str]  # user turns with has_answer in answer sessions

    @classmethod
    def of(cls, question: dict[str, Any]) -> Corpus:
        """LongMemEval renames an answer session's turns without has_answer to a 'noans'
        session: only evidence turns rank their session as the answer's, and the others count
        as a session of their own when k distinct sessions are counted."""
        answer_sessions = {str(s) for s in question["answer_session_ids"]}
        session_of, evidence = {}, set()
        for sid, turns in zip(question["haystack_session_ids"], question["haystack_sessions"], strict=True):
            for i, turn in enumerate(turns):
                if turn.get("role") != "user":
                    continue
                tid, session = f"{sid}_{i + 1}", str(sid)
                if session in answer_sessions and turn.get("has_answer"):
                    evidence.add(tid)
                elif session in answer_sessions:
                    session += " (noans)"
                session_of[tid] = session
        return cls(session_of, evidence)

    def scores(self, retrieved: Sequence[str]) -> dict[str, float]:
        turns = [t for t in retrieved if t in self.session_of]
        sessions = [self.session_of[t] for t in turns]
        answer_sessions = {self.session_of[t] for t in self.evidence}
        row: dict[str, float] = {}
        for k in KS:  # in both rankings the corpus holds one relevant item per evidence turn
            for level, values in (
                    ("turn", lme_scores(turns, self.evidence, len(self.evidence), k)),
                    ("session", lme_scores(sessions, answer_sessions, len(self.evidence),
                                           sessions_of_turns(sessions, k)))):
                for name, value in zip(("recall_any", "recall_all", "ndcg_any"), values, strict=True):
                    row[f"{level}_{name}@{k}"] = value
        return row


def _mean(rows: Sequence[dict[str, float]]) -> dict[str, float]:
    """Means of each metric, plus the flat keys every `memgrid bench` JSON has (session level)."""
    sums: dict[str, list[float]] = defaultdict(list)
    for row in rows:
        for key, value in row.items():
            sums[key].append(value)
    out = {k: round(sum(v) / len(v), 4) for k, v in sorted(sums.items())}
    for k in KS:
        out[f"recall@{k}"] = out[f"hit@{k}"] = out.get(f"session_recall_any@{k}", 0.0)
        out[f"ndcg@{k}"] = out.get(f"session_ndcg_any@{k}", 0.0)
    return out


def run_system(system: System, questions: Sequence[dict[str, Any]]) -> dict[str, Any]:
    rows: list[tuple[str, dict[str, float]]] = []
    ingest_s, turns_total, latencies, skipped = 0.0, 0, [], 0
    for question in questions:
        if "_abs" in str(question["question_id"]):
            continue
        corpus = Corpus.of(question)
        if not corpus.evidence:  # the evidence is the assistant's: LongMemEval's script skips it
            skipped += 1
            continue
        turns, seconds = system.ingest(conversation_of(question))
        turns_total += turns
        ingest_s += seconds
        start = time.perf_counter()
        units = system.search(question["question"], DEPTH, parse_date(question["question_date"]).timestamp())
        latencies.append(time.perf_counter() - start)
        rows.append((str(question["question_type"]), corpus.scores(flatten_units(units, DEPTH))))
    system.close()
    by_type: dict[str, list[dict[str, float]]] = defaultdict(list)
    for qtype, row in rows:
        by_type[qtype].append(row)
    out: dict[str, Any] = _mean([row for _, row in rows])
    out["questions"] = len(rows)
    out["skipped_no_user_evidence"] = skipped
    out["per_category"] = {t: {**_mean(r), "questions": len(r)} for t, r in sorted(by_type.items())}
    return {**out, **speed_summary(ingest_s, turns_total, latencies)}


def run_longmemeval(data: Path, systems: Sequence[str], embedder: str, home: Path,
                    retrieval: RetrievalConfig | None = None, json_out: Path | None = None,
                    log: Any = print) -> dict[str, dict[str, Any]]:
    questions = load(data)
    results: dict[str, dict[str, Any]] = {}
    for system in build_systems(systems, embedder, home, retrieval or RetrievalConfig()):
        r = results[system.name] = run_system(system, questions)
        log(f"{system.name:>20}: {r['questions']} questions  "
            f"session recall_any@5 {r.get('session_recall_any@5', 0.0):.3f}  "
            f"recall_all@5 {r.get('session_recall_all@5', 0.0):.3f}  "
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
