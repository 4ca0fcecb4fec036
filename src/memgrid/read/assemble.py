"""Pack the best hits into a prompt-ready block: within budget, deduplicated, in time order, cited."""

from __future__ import annotations

from memgrid.models import SearchHit
from memgrid.text import estimate_tokens


def _line(hit: SearchHit) -> str:
    m = hit.memory
    when = (m.event_time or m.created_at).strftime("%Y-%m-%d %H:%M")
    who = f"{m.speaker}: " if m.speaker else (f"{m.role}: " if m.role and m.role != "user" else "")
    # a replaced fact stays as evidence, but the reader must not take it for the present
    until = f" [was true until {m.valid_to:%Y-%m-%d}]" if m.superseded_by and m.valid_to else ""
    return f"[{when}] {who}{m.text}{until} (id:{m.id})"


def assemble(hits: list[SearchHit], token_budget: int, header: str = "Relevant memories:") -> str:
    """Greedy by score until the budget is spent, then printed oldest first for the model to follow."""
    used = estimate_tokens(header)
    chosen: list[SearchHit] = []
    seen_text: set[str] = set()
    for hit in hits:
        key = " ".join(hit.memory.text.lower().split())
        if key in seen_text:
            continue
        cost = estimate_tokens(_line(hit)) + 1
        if used + cost > token_budget:
            continue
        seen_text.add(key)
        chosen.append(hit)
        used += cost
    if not chosen:
        return ""
    chosen.sort(key=lambda h: (h.memory.event_time or h.memory.created_at, h.memory.position or 0))
    return "\n".join([header, *(_line(h) for h in chosen)])
