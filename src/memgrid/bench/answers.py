"""LoCoMo answer accuracy (`memgrid bench locomo --answer`): how well a model answers with each
system's memory, as in Mem0's LoCoMo evaluation (categories 1-4, a model judges each answer
against the gold one; adversarial questions have no gold answer and are left out).

Every system answers the same sampled questions with the same model, prompt and token budget:
its retrieved turns, best first, are packed into the budget and shown oldest first, each with its
date and speaker. Only retrieval differs. A full-context baseline is run only where the whole
conversation fits the model's context."""

from __future__ import annotations

import random
import statistics
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel

from memgrid.bench.locomo import CATEGORIES, KS, System, flatten_units
from memgrid.importers import Conversation
from memgrid.llm.answer import SYSTEM as ANSWER_SYSTEM
from memgrid.llm.answer import ModelAnswer
from memgrid.llm.client import LLMClient
from memgrid.text import estimate_tokens

ANSWERED = (1, 2, 3, 4)  # LoCoMo's categories with gold answers

JUDGE_SYSTEM = (
    "You grade an answer to a question about a conversation against the gold answer. Say CORRECT "
    "if the answer gives the same information as the gold answer (other wording, a shorter or "
    "longer answer, or the same date in another format are fine) and WRONG if it is different, "
    "missing, or says it does not know."
)


class Verdict(BaseModel):
    verdict: Literal["CORRECT", "WRONG"]


@dataclass
class Question:
    conv: Conversation
    qa: dict[str, Any]

    @property
    def category(self) -> str:
        return CATEGORIES.get(int(self.qa.get("category", 0)), "other")


@dataclass
class Tally:
    correct: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    context_tokens: list[int] = field(default_factory=list)
    answer_ms: list[float] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    items: list[dict[str, Any]] = field(default_factory=list)  # per question, to read the judge's work

    def summary(self) -> dict[str, Any]:
        every = [c for values in self.correct.values() for c in values]
        return {"answer_accuracy": round(statistics.fmean(every), 3) if every else 0.0,
                "questions": len(every),
                "by_category": {k: round(statistics.fmean(v), 3) for k, v in sorted(self.correct.items())},
                "context_tokens_mean": round(statistics.fmean(self.context_tokens), 1) if every else 0.0,
                "answer_ms_p50": round(statistics.median(self.answer_ms), 1) if every else 0.0,
                "prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "items": self.items}


def sample_questions(conversations: Sequence[Conversation], n: int, seed: int) -> list[Question]:
    """A fixed sample: the same seed gives the same questions on the same data."""
    pool = [Question(c, qa) for c in conversations for qa in c.qa
            if int(qa.get("category", 0)) in ANSWERED and str(qa.get("answer", "")).strip()]
    random.Random(seed).shuffle(pool)
    return pool[:n]


def turn_lines(conv: Conversation) -> dict[str, tuple[str, str]]:
    """dia_id -> (ISO time for ordering, the line the model reads)."""
    lines = {}
    for _, _, messages in conv.sessions:
        for m in messages:
            when = m["timestamp"]
            who = f"{m['speaker']}: " if m.get("speaker") else ""
            line = f"[{when[:16].replace('T', ' ')}] {who}{m['content']}"
            lines[m["metadata"][conv.turn_key]] = (when, line)
    return lines


def pack(turn_ids: Sequence[str], lines: dict[str, tuple[str, str]], budget: int) -> tuple[list[str], int]:
    chosen, used = [], 0
    for tid in turn_ids:
        if tid not in lines:
            continue
        cost = estimate_tokens(lines[tid][1]) + 1
        if used + cost > budget:
            continue
        chosen.append(tid)
        used += cost
    chosen.sort(key=lambda t: lines[t][0])
    return [lines[t][1] for t in chosen], used


def answer_and_judge(llm: LLMClient, question: Question, context: list[str], asked_on: str,
                     tally: Tally) -> bool:
    numbered = "\n".join(f"{i}. {line}" for i, line in enumerate(context, 1))
    start = time.perf_counter()
    # memgrid's own answer prompt (its citations are not scored here)
    reply, call = llm.structured(
        [{"role": "system", "content": ANSWER_SYSTEM},
         {"role": "user", "content": f"Today is {asked_on}.\nMemories:\n{numbered}\n\n"
                                     f"Question: {question.qa['question']}"}],
        ModelAnswer, task="bench-answer", max_tokens=128)
    tally.answer_ms.append((time.perf_counter() - start) * 1000)
    verdict, judged = llm.structured(
        [{"role": "system", "content": JUDGE_SYSTEM},
         {"role": "user", "content": f"Question: {question.qa['question']}\nGold answer: "
                                     f"{question.qa['answer']}\nAnswer: {reply.answer}"}],
        Verdict, task="bench-judge", max_tokens=16)
    tally.prompt_tokens += call.prompt_tokens + judged.prompt_tokens
    tally.completion_tokens += call.completion_tokens + judged.completion_tokens
    correct = verdict.verdict == "CORRECT"
    tally.correct[question.category].append(float(correct))
    tally.items.append({"question": question.qa["question"], "gold": str(question.qa["answer"]),
                        "answer": reply.answer, "correct": correct, "category": question.category})
    return correct


def run_answers(systems: Sequence[System], conversations: Sequence[Conversation], llm: LLMClient,
                questions: int, seed: int, token_budget: int, context_window: int | None,
                log: Any = print) -> dict[str, dict[str, Any]]:
    sample = sample_questions(conversations, questions, seed)
    by_conv: dict[str, list[Question]] = defaultdict(list)
    for q in sample:
        by_conv[q.conv.sample_id].append(q)
    results: dict[str, dict[str, Any]] = {}
    for system in systems:
        tally = Tally()
        for conv in conversations:
            if conv.sample_id not in by_conv:
                continue
            system.ingest(conv)
            lines = turn_lines(conv)
            asked_at = conv.sessions[-1][1] + timedelta(days=1)
            for q in by_conv[conv.sample_id]:
                turns = flatten_units(system.search(q.qa["question"], max(KS) * 5, asked_at.timestamp()),
                                      max(KS) * 5)
                context, used = pack(turns, lines, token_budget)
                tally.context_tokens.append(used)
                answer_and_judge(llm, q, context, f"{asked_at:%Y-%m-%d}", tally)
            log(f"{system.name:>10}: {conv.sample_id} done ({len(tally.context_tokens)}/{len(sample)})")
        system.close()
        results[system.name] = tally.summary()
        log(f"{system.name:>10}: accuracy {results[system.name]['answer_accuracy']} "
            f"{results[system.name]['by_category']}")
    results["full-context"] = full_context(conversations, by_conv, llm, context_window, log)
    return results


def full_context(conversations: Sequence[Conversation], by_conv: dict[str, list[Question]],
                 llm: LLMClient, context_window: int | None, log: Any) -> dict[str, Any]:
    """Every turn of the conversation, where it fits the model's context window."""
    tally = Tally()
    for conv in conversations:
        lines = turn_lines(conv)
        every = sorted(lines, key=lambda t: lines[t][0])
        context, used = pack(every, lines, 10**9)
        if context_window is not None and used + 400 > context_window:
            return {"skipped": f"{conv.sample_id} needs {used} tokens; the model's context window "
                               f"is {context_window}"}
        asked_at = conv.sessions[-1][1] + timedelta(days=1)
        for q in by_conv.get(conv.sample_id, []):
            tally.context_tokens.append(used)
            answer_and_judge(llm, q, context, f"{asked_at:%Y-%m-%d}", tally)
    log("full-context done")
    return tally.summary()
