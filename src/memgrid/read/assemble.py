"""Pack the best hits into a prompt-ready block: within budget, deduplicated, in time order, cited."""

from __future__ import annotations

from memgrid.models import SearchHit
from memgrid.text import estimate_tokens


def line(hit: SearchHit, *, with_id: bool = True) -> str:
    """One memory as a model reads it. Prompts that number their memories leave the id out: 32
    random hex digits cost tokens and make a small model's output depend on them."""
    m = hit.memory
    when = (m.event_time or m.created_at).strftime("%Y-%m-%d %H:%M")
    who = f"{m.speaker}: " if m.speaker else (f"{m.role}: " if m.role and m.role != "user" else "")
    # a replaced fact stays as evidence, but the reader must not take it for the present
    until = f" [was true until {m.valid_to:%Y-%m-%d}]" if m.superseded_by and m.valid_to else ""
    ref = f" (id:{m.id})" if with_id else ""
    return f"[{when}] {who}{m.text}{until}{ref}"


def select(hits: list[SearchHit], token_budget: int, header: str = "") -> list[SearchHit]:
    """Greedy by score until the budget is spent (repeats of the same words once), oldest first:
    the order a model follows best."""
    used = estimate_tokens(header) if header else 0
    chosen: list[SearchHit] = []
    seen_text: set[str] = set()
    for hit in hits:
        key = " ".join(hit.memory.text.lower().split())
        if key in seen_text:
            continue
        cost = estimate_tokens(line(hit)) + 1
        if used + cost > token_budget:
            continue
        seen_text.add(key)
        chosen.append(hit)
        used += cost
    chosen.sort(key=lambda h: (h.memory.event_time or h.memory.created_at, h.memory.position or 0))
    return chosen


def assemble(hits: list[SearchHit], token_budget: int, header: str = "Relevant memories:") -> str:
    chosen = select(hits, token_budget, header)
    if not chosen:
        return ""
    return "\n".join([header, *(line(h) for h in chosen)])
