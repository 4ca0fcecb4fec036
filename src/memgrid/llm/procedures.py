"""Procedural memory (ReasoningBank): what an agent learned from doing a task, for the next task.

`learn` keeps the trajectory itself as evidence (kind "trajectory"), then, with a model, distils
a few strategy items from it: from a success, what worked; from a failure, what to avoid. Each
item (title, description, content) is a memory of kind "procedure" whose provenance points at the
trajectory. Without a model the trajectory with its outcome is the procedure, stored verbatim,
so `strategies` still finds what was done before and how it went."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, Field

from memgrid.errors import InvalidInputError
from memgrid.models import MemoryRecord, Provenance, Scope
from memgrid.validation import check_text

if TYPE_CHECKING:
    from memgrid.memory import Memory

Outcome = Literal["success", "failure"]
MAX_ITEMS = 3

DISTILL_SYSTEM = (
    "You distil reusable strategy from an agent's attempt at a task. From a success, write what "
    "made it work; from a failure, write what went wrong and what to do instead. Give at most "
    f"{MAX_ITEMS} items, each general enough to help with similar tasks: a short title, a one-line "
    "description, and the strategy itself in one to three sentences. Never copy secrets or "
    "personal data from the trajectory."
)


class StrategyItem(BaseModel):
    title: str
    description: str
    content: str


class Distilled(BaseModel):
    items: list[StrategyItem] = Field(description=f"at most {MAX_ITEMS}")


def trajectory_text(trajectory: str | list[Any]) -> str:
    if isinstance(trajectory, str):
        return trajectory
    if isinstance(trajectory, list):
        lines = []
        for step in trajectory:
            if isinstance(step, dict):
                role = step.get("role") or step.get("type") or "step"
                body = step.get("content") if isinstance(step.get("content"), str) else json.dumps(
                    {k: v for k, v in step.items() if k not in ("role", "type")}, default=str)
                lines.append(f"{role}: {body}")
            else:
                lines.append(str(step))
        return "\n".join(lines)
    raise InvalidInputError("trajectory must be text or a list of steps (dicts or strings)")


def learn(memory: Memory, task: str, trajectory: str | list[Any], outcome: str, *,
          user_id: str | None, agent_id: str | None, distill: bool | None) -> list[MemoryRecord]:
    limit = memory.config.max_text_chars
    task = check_text(task, limit, "task")
    if outcome not in ("success", "failure"):
        raise InvalidInputError("outcome must be 'success' or 'failure'")
    steps = check_text(trajectory_text(trajectory), limit, "trajectory")
    use_model = memory.config.llm.enabled if distill is None else distill
    llm = memory.llm if use_model else None  # asked for a model and none configured: refused here
    record = f"Task: {task}\nOutcome: {outcome}\n{steps}"[:limit]
    base = {"task": task[:500], "outcome": outcome}
    if llm is None:
        return list(memory.add({"role": "system", "content": record}, user_id=user_id, agent_id=agent_id,
                               kind="procedure", metadata={**base, "title": task[:120]}, source="learn"))
    [evidence] = memory.add({"role": "system", "content": record}, user_id=user_id, agent_id=agent_id,
                            kind="trajectory", metadata=base, source="learn") or [None]
    if evidence is None:  # the same trajectory was learned before: nothing new to distil
        return []
    out, _ = llm.structured([{"role": "system", "content": DISTILL_SYSTEM},
                             {"role": "user", "content": f"Task: {task}\nOutcome: {outcome}\n\n"
                                                         f"Trajectory:\n{steps[:6000]}"}],
                            Distilled, task="distill")
    items = [i for i in out.items if i.title.strip() and i.content.strip()][:MAX_ITEMS]
    if not items:
        return [evidence]
    provenance = Provenance(writer=evidence.provenance.writer, agent_id=evidence.provenance.agent_id,
                            source="learn", method="derived", source_ids=(evidence.id,))
    scope = Scope(evidence.tenant_id, evidence.user_id, evidence.agent_id, evidence.session_id)
    units = memory.writer.derived_units(
        [(f"{i.title.strip()}: {i.content.strip()}",
          {**base, "title": i.title.strip()[:200], "description": i.description.strip()[:500]})
         for i in items],
        scope, evidence.visibility, evidence.event_time.timestamp() if evidence.event_time else None,
        provenance, kind="procedure")
    stored = memory.writer.write(units, evidence.user_id or evidence.agent_id)
    return [evidence, *(u.to_record() for u in stored)]
