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
import re
import shutil
import statistics
import tempfile
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from memgrid.bench.answers import JUDGE_SYSTEM, Verdict
from memgrid.bench.report import write_json
from memgrid.config import EmbedderConfig, LLMConfig, MemgridConfig
from memgrid.errors import NoModelError
from memgrid.llm.client import LLMClient
from memgrid.memory import Memory

MATCH_SYSTEM = (
    "You compare memories about a person. Given a target memory and numbered candidates, give the "
    "number of the candidate that states the same information as the target (the same fact, "
    "possibly in other words), or 0 if none does."
)
CANDIDATES = 5


class Match(BaseModel):
    number: int


def _time(value: str) -> datetime:
    return datetime.strptime(value, "%b %d, %Y, %H:%M:%S")


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]+", text.lower()))


def _nearest(target: str, pool: list[str]) -> list[str]:
    words = _words(target)
    return sorted(pool, key=lambda p: -len(words & _words(p)) / (len(words | _words(p)) or 1))[:CANDIDATES]


def matches(llm: LLMClient, target: str, pool: list[str]) -> bool:
    candidates = _nearest(target, pool)
    if not candidates:
        return False
    numbered = "\n".join(f"{i}. {c}" for i, c in enumerate(candidates, 1))
    out, _ = llm.structured([{"role": "system", "content": MATCH_SYSTEM},
                             {"role": "user", "content": f"Target: {target}\n\nCandidates:\n{numbered}"}],
                            Match, task="halumem-match", max_tokens=16)
    return 1 <= out.number <= len(candidates)


def run_halumem(data: Path, llm: LLMConfig, home: Path, embedder: str = "static", infer: bool = False,
                sessions: int | None = None, json_out: Path | None = None,
                log: Any = print, qa: bool = True) -> dict[str, Any]:
    record = json.loads(data.read_text().splitlines()[0])
    workdir = Path(tempfile.mkdtemp(prefix="bench-halumem-"))
    mem = Memory(config=MemgridConfig(home=home, path=workdir / "halumem.db", llm=llm,
                                      embedder=EmbedderConfig(provider=embedder)))  # type: ignore[arg-type]
    judge = mem.llm if llm.enabled else None  # no model: the zero-LLM update links alone
    if infer and judge is None:
        mem.close()
        raise NoModelError("--infer needs a model: --llm-base-url URL or 'local'")
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
                for point in gold:
                    if matches(judge, point["memory_content"], texts):
                        extraction["recalled"] += 1
                        updating = [f.text for f in facts if f.event == "UPDATE"]
                        if point["is_update"] == "True" and matches(judge, point["memory_content"],
                                                                    updating):
                            extraction["updates_linked"] += 1
                golds = [p["memory_content"] for p in gold]
                extraction["supported"] += sum(matches(judge, t, golds) for t in texts)
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
