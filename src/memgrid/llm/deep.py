"""The deep path (HyMem, D-Mem): `search(..., deep=True)` for questions one search cannot answer.

The model splits the question into at most three self-contained searches (a multi-hop question
names several things to find); their results and the plain search's are fused by reciprocal
rank; then the model reads the top candidates and orders the ones that help answer. What it
leaves out keeps its fused place after them, so deep search never returns fewer hits. A model
that fails (unreachable, or output that never fits after the retries) costs the step it was
asked for, not the search: the plain or fused ranking stands, and `llm.usage` counts the
failure."""

from __future__ import annotations

from collections.abc import Callable

from pydantic import BaseModel, Field

from memgrid.errors import LLMError
from memgrid.llm.client import LLMClient
from memgrid.models import SearchHit
from memgrid.read.assemble import line

MAX_QUERIES = 3
RERANK_DEPTH = 20
RRF_K = 60.0

REWRITE_SYSTEM = (
    "You turn a question about a person's memories into search queries. If the question needs "
    "several facts (who, then where; an event, then its date; a list of things), write one short "
    f"query for each, at most {MAX_QUERIES}; otherwise one query. Each query names what it looks for "
    "in plain words, with the names from the question."
)
RERANK_SYSTEM = (
    "You pick the memories that help answer a question. Give the numbers of the memories that "
    "hold part of the answer, most useful first. Leave out the ones that do not help."
)


class Queries(BaseModel):
    queries: list[str] = Field(description=f"1 to {MAX_QUERIES} search queries")


class Picked(BaseModel):
    relevant: list[int] = Field(description="numbers of helpful memories, best first")


def deep_search(llm: LLMClient, question: str, search: Callable[[str, int], list[SearchHit]],
                limit: int) -> list[SearchHit]:
    """`search(text, k)` is the plain search in the caller's scope and filters."""
    depth = max(limit, RERANK_DEPTH)
    rankings = [search(question, depth)]
    try:
        out, _ = llm.structured([{"role": "system", "content": REWRITE_SYSTEM},
                                 {"role": "user", "content": f"Question: {question}"}],
                                Queries, task="deep-rewrite", max_tokens=256)
        queries = out.queries[:MAX_QUERIES]
    except LLMError:
        llm.usage.failed += 1
        queries = []
    seen = {question.strip().lower()}
    for query in queries:
        if query.strip() and query.strip().lower() not in seen:
            seen.add(query.strip().lower())
            rankings.append(search(query.strip(), depth))
    fused = _fuse(rankings)
    top = fused[:RERANK_DEPTH]
    if not top:
        return []
    numbered = "\n".join(f"{i}. {line(h, with_id=False)}" for i, h in enumerate(top, 1))
    asked = [{"role": "system", "content": RERANK_SYSTEM},
             {"role": "user", "content": f"Question: {question}\n\nMemories:\n{numbered}"}]
    try:
        picked, _ = llm.structured(asked, Picked, task="deep-rerank", max_tokens=128)
    except LLMError:
        llm.usage.failed += 1
        return fused[:limit]
    chosen = list(dict.fromkeys(n for n in picked.relevant if 1 <= n <= len(top)))
    first = [top[n - 1] for n in chosen]
    ids = {h.memory.id for h in first}
    return [*first, *(h for h in fused if h.memory.id not in ids)][:limit]


def _fuse(rankings: list[list[SearchHit]]) -> list[SearchHit]:
    scores: dict[str, float] = {}
    hits: dict[str, SearchHit] = {}
    for ranking in rankings:
        for rank, hit in enumerate(ranking, start=1):
            scores[hit.memory.id] = scores.get(hit.memory.id, 0.0) + 1 / (RRF_K + rank)
            hits.setdefault(hit.memory.id, hit)
    order = sorted(scores, key=lambda i: -scores[i])
    return [hits[i].model_copy(update={"score": scores[i]}) for i in order]
