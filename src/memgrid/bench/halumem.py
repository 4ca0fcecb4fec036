"""HaluMem (`memgrid bench halumem --data FILE`): one user's sessions replayed in order, as HaluMem
defines its three tasks.

- Extraction (with `--infer`: the model extracts facts on add): memory-point recall (a gold
  memory point counts when one of the session's extracted facts states it) and precision (an
  extracted fact counts when one of the session's gold points supports it), both judged by the
  model over the five candidates that share the most words; update accuracy: the gold points
  marked `is_update` that were recalled by a fact that superseded an older one.
- Updates, zero-LLM: the supersession links the verbatim path wrote (each with both texts, to
  read beside the gold updates) and the gold count. With no model this is all that runs.
- Question answering: each session's questions are asked right after it (`reference_time` its
  end), answered by `Memory.answer`, judged against the gold answer; for Memory Boundary questions
  (the answer is not in memory) only "I don't know" is right. Accuracy per question type."""

from __future__ import annotations

import json
import shutil
import statistics
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel

from memgrid.bench.answers import JUDGE_SYSTEM, Verdict
from memgrid.bench.report import write_json
from memgrid.config import EmbedderConfig, LLMConfig, MemgridConfig
from memgrid.embedders.base import CachedEmbedder
from memgrid.errors import InvalidInputError, NoModelError
from memgrid.llm.client import LLMClient
from memgrid.memory import Memory

MATCH_SYSTEM = (
    "You check whether two notes about a person state the same fact. Answer same=true only if the "
    "second note states the specific information of the first (the same attribute and the same "
    "value, in any wording); answer same=false if it states a different fact, even about a related "
    "topic."
)
CANDIDATES = 2  # pairs judged per target: its nearest candidates, nearest first


class Match(BaseModel):
    same: bool


def _time(value: str) -> datetime:
    return datetime.strptime(value, "%b %d, %Y, %H:%M:%S")


def _nearest(embedder: CachedEmbedder, target: str, pool: list[str]) -> list[str]:
    if not pool:
        return []
    vectors = embedder.embed([target, *pool])  # unit rows, cached: a pool is embedded once
    sims = vectors[1:] @ vectors[0]
    return [pool[i] for i in np.argsort(-sims, kind="stable")[:CANDIDATES]]


def matches(llm: LLMClient, embedder: CachedEmbedder, target: str, pool: list[str]) -> bool:
    """Whether one of the candidates nearest `target` states it, asked a pair at a time."""
    for candidate in _nearest(embedder, target, pool):
        pair = f"First note: {target}\nSecond note: {candidate}"
        asked = [{"role": "system", "content": MATCH_SYSTEM}, {"role": "user", "content": pair}]
        out, _ = llm.structured(asked, Match, task="halumem-match", max_tokens=16)
        if out.same:
            return True
    return False


class NotHaluMemError(InvalidInputError):
    """The --data file is not one HaluMem user."""


def _load_user(data: Path) -> dict[str, Any]:
    """The first line of a HaluMem user file: one user, their sessions in order. A file in any
    other shape is refused with what was found, before anything runs."""
    lines = data.read_text(encoding="utf-8", errors="replace").splitlines()
    try:
        record = json.loads(lines[0]) if lines else None
    except json.JSONDecodeError as exc:
        raise NotHaluMemError(f"{data} is not a HaluMem user file: line 1 is not JSON ({exc.msg})") from None
    sessions = record.get("sessions") if isinstance(record, dict) else None
    if not isinstance(record, dict) or not isinstance(sessions, list) or not all(
            isinstance(x, dict) and "dialogue" in x and "memory_points" in x for x in sessions):
        raise NotHaluMemError(f"{data} is not a HaluMem user file: line 1 needs 'sessions', each with "
                         "'dialogue' and 'memory_points'")
    return record


def run_halumem(data: Path, llm: LLMConfig, home: Path, embedder: str = "static", infer: bool = False,
                sessions: int | None = None, json_out: Path | None = None,
                log: Any = print, qa: bool = True) -> dict[str, Any]:
    record = _load_user(data)
    if infer and not llm.enabled:  # refused before a store or a model is opened
        raise NoModelError("--infer needs a model: --llm-base-url URL or 'local'")
    workdir = Path(tempfile.mkdtemp(prefix="bench-halumem-"))
    mem = Memory(config=MemgridConfig(home=home, path=workdir / "halumem.db", llm=llm,
                                      embedder=EmbedderConfig(provider=embedder)))  # type: ignore[arg-type]
    judge = mem.llm if llm.enabled else None  # no model: the zero-LLM update links alone
    user = "halumem"
    qa_by_type: dict[str, list[float]] = defaultdict(list)
    extraction = {"gold_points": 0, "recalled": 0, "extracted": 0, "supported": 0,
                  "gold_updates": 0, "updates_linked": 0}
    links: list[dict[str, Any]] = []  # each verbatim supersession, to read beside the gold updates
    try:
        for number, session in enumerate(record["sessions"][:sessions], 1):
            turns = [{"role": t["role"], "content": t["content"],
                      "timestamp": _time(t["timestamp"]).isoformat()}
                     for t in session["dialogue"] if t["content"].strip()]
            added = mem.add(turns, user_id=user, session_id=f"session-{number}", infer=infer)
            for memory in added:
                if memory.supersedes and memory.kind == "message":
                    old = mem.get(memory.supersedes)
                    links.append({"session": number, "old": old.text, "new": memory.text})
            gold = session["memory_points"]
            extraction["gold_updates"] += sum(p["is_update"] == "True" for p in gold)
            if infer and judge is not None:
                facts = [f for f in added.facts if f.event in ("ADD", "UPDATE")]
                texts = [f.text for f in facts]
                extraction["gold_points"] += len(gold)
                extraction["extracted"] += len(facts)
                updating = [f.text for f in facts if f.event == "UPDATE"]
                for point in gold:
                    said = point["memory_content"]
                    if matches(judge, mem.embedder, said, texts):
                        extraction["recalled"] += 1
                        if point["is_update"] == "True" and matches(judge, mem.embedder, said, updating):
                            extraction["updates_linked"] += 1
                golds = [p["memory_content"] for p in gold]
                extraction["supported"] += sum(matches(judge, mem.embedder, t, golds) for t in texts)
            asked_at = _time(session["end_time"]).isoformat()
            for q in session.get("questions") or []:
                if judge is None or not qa:
                    break
                out = mem.answer(q["question"], user_id=user, reference_time=asked_at)
                if q["question_type"] == "Memory Boundary":
                    right = not out.known
                else:
                    graded = (f"Question: {q['question']}\nGold answer: {q['answer']}\n"
                              f"Answer: {out.text}")
                    verdict, _ = judge.structured([{"role": "system", "content": JUDGE_SYSTEM},
                                                   {"role": "user", "content": graded}],
                                                  Verdict, task="halumem-judge", max_tokens=16)
                    right = verdict.verdict == "CORRECT"
                qa_by_type[q["question_type"]].append(float(right))
            asked = sum(map(len, qa_by_type.values()))
            log(f"session {number}: {len(turns)} turns, {asked} questions so far")
    finally:
        usage = judge.usage.by_task if judge is not None else {}
        model = judge.model_name if judge is not None else None
        mem.close()
        shutil.rmtree(workdir, ignore_errors=True)
    every = [v for values in qa_by_type.values() for v in values]
    result: dict[str, Any] = {
        "user": data.stem, "sessions": min(len(record["sessions"]), sessions or 10**9), "infer": infer,
        "model": model, "qa_accuracy": round(statistics.fmean(every), 3) if every else None,
        "questions": len(every),
        "qa_by_type": {k: {"accuracy": round(statistics.fmean(v), 3), "questions": len(v)}
                       for k, v in sorted(qa_by_type.items())},
        "zero_llm_supersession_links": len(links), "gold_updates": extraction["gold_updates"],
        "links": links, "usage": usage}
    if infer:
        e = extraction
        result["extraction"] = {
            **e, "recall": round(e["recalled"] / e["gold_points"], 3) if e["gold_points"] else None,
            "precision": round(e["supported"] / e["extracted"], 3) if e["extracted"] else None,
            "update_accuracy": (round(e["updates_linked"] / e["gold_updates"], 3)
                                if e["gold_updates"] else None)}
    write_json(json_out, result)
    return result
