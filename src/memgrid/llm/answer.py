"""Answers grounded in memory (Hindsight's reflect, Memex): the retrieved memories, numbered, within
a token budget; the model answers from them alone and cites their numbers, which become memory
ids. No memory, or none that holds the answer: "I don't know" (HaluMem's boundary questions)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from memgrid.llm.client import LLMClient
from memgrid.models import SearchHit
from memgrid.read.assemble import line, select
from memgrid.text import estimate_tokens

UNKNOWN = "I don't know"

SYSTEM = (
    "You answer a question about a user from their memories only. The memories are numbered and "
    "dated; a memory marked [was true until ...] is out of date, so prefer the newest memory on "
    "the same subject. Answer in one short sentence. Cite the numbers of the memories that hold "
    f"the answer. If they do not hold it, answer exactly \"{UNKNOWN}\" with no citations; never "
    "guess and never use outside knowledge."
)


class ModelAnswer(BaseModel):
    answer: str = Field(description="a short answer, or I don't know")
    citations: list[int] = Field(description="numbers of the memories used")


class Answer(BaseModel):
    """What `Memory.answer` returns: the text, the ids it rests on, and what it cost."""

    text: str
    citations: list[str] = Field(description="ids of the memories the answer rests on")
    context_tokens: int = Field(description="tokens of memory the model was given")
    known: bool = Field(description="False when memory did not hold an answer")
    model: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ms: float = 0.0


def reference_day(when: float | None) -> str:
    """The day the question is asked on (its `as_of` or reference time, else today), so the model
    can place "last week" and "now"."""
    moment = datetime.fromtimestamp(when, tz=UTC) if when is not None else datetime.now(tz=UTC)
    return f"{moment:%Y-%m-%d}"


def prompt(question: str, hits: list[SearchHit], reference: str | None) -> list[dict[str, str]]:
    numbered = "\n".join(f"{i}. {line(h, with_id=False)}" for i, h in enumerate(hits, 1))
    today = f"Today is {reference}.\n" if reference else ""
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"{today}Memories:\n{numbered}\n\nQuestion: {question}"}]


def answer_from(llm: LLMClient, question: str, hits: list[SearchHit], token_budget: int,
                reference: str | None = None) -> Answer:
    chosen = select(hits, token_budget)
    if not chosen:
        return Answer(text=UNKNOWN, citations=[], context_tokens=0, known=False, model=llm.model_name)
    context_tokens = sum(estimate_tokens(line(h, with_id=False)) + 1 for h in chosen)
    out, call = llm.structured(prompt(question, chosen, reference), ModelAnswer, task="answer",
                               max_tokens=min(llm.config.max_tokens, 256))
    text = out.answer.strip() or UNKNOWN
    known = not text.lower().rstrip(".!").startswith(UNKNOWN.lower())
    # a number outside the list is the model's mistake, not a citation
    cited = list(dict.fromkeys(chosen[n - 1].memory.id for n in out.citations if 1 <= n <= len(chosen)))
    return Answer(text=text if known else UNKNOWN, citations=cited if known else [],
                  context_tokens=context_tokens, known=known, model=llm.model_name,
                  prompt_tokens=call.prompt_tokens, completion_tokens=call.completion_tokens, ms=call.ms)
