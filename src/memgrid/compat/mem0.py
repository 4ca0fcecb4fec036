"""mem0's `Memory` over memgrid: a mem0 OSS script runs by changing its import to
`from memgrid.compat.mem0 import Memory`.

Same method names, arguments and return shapes as mem0 (2.x, and the 1.x keyword forms still
in use: `user_id=` on search and get_all, `limit=`). The differences are memgrid's:
- `infer=True` stores the messages verbatim when no model is configured (no LLM at the core). A
  changed fact ("I moved to Austin") is still found, and reported as an `UPDATE` of the memory it
  replaced, which is kept as evidence rather than overwritten. With a model configured it also
  extracts facts, as mem0 does, and reports their ADD / UPDATE / DELETE decisions.
- `run_id` is memgrid's `session_id`.
- Filters other than the entity ids are metadata equality (`{"category": "movies"}`); mem0's
  operators (`{"gt": ...}`, AND/OR) are refused with `InvalidInputError`.
- `from_config` reads a `memgrid` section (a `MemgridConfig`) and ignores mem0's provider
  sections (llm, embedder, vector_store), which have no meaning here.
"""

from __future__ import annotations

from typing import Any

from memgrid.config import MemgridConfig
from memgrid.errors import NotFoundError
from memgrid.memory import Memory as MemgridMemory
from memgrid.models import HistoryEntry, MemoryRecord

_ENTITY_KEYS = ("user_id", "agent_id", "run_id")


class Memory:
    def __init__(self, config: MemgridConfig | None = None) -> None:
        self.memgrid = MemgridMemory(config=config)

    @classmethod
    def from_config(cls, config_dict: dict[str, Any]) -> Memory:
        section = config_dict.get("memgrid")
        return cls(MemgridConfig.model_validate(section) if section else None)

    def add(self, messages: str | dict[str, Any] | list[dict[str, Any]], *, user_id: str | None = None,
            agent_id: str | None = None, run_id: str | None = None, metadata: dict[str, Any] | None = None,
            timestamp: Any = None, infer: bool = True, **_: Any) -> dict[str, Any]:
        """mem0's add: `{"results": [{"id", "memory", "event"}]}`, one item per stored message
        (a repeat of a stored memory is NONE in mem0 and is left out, as there). With a model
        configured (`MEMGRID_LLM_BASE_URL`), `infer=True` extracts facts as mem0 does and the
        results are the facts' decisions (ADD, UPDATE, DELETE; NOOP left out, as in mem0)."""
        if isinstance(messages, dict):
            messages = [messages]
        extract = infer and self.memgrid.config.llm.enabled
        added = self.memgrid.add(messages, user_id=user_id, agent_id=agent_id, session_id=run_id,
                                 metadata=metadata, timestamp=timestamp, infer=extract)
        if extract:
            return {"results": [
                {"id": f.id or f.target, "memory": f.text, "event": f.event,
                 **({"previous_memory": self.memgrid.get(f.target).text} if f.target else {})}
                for f in added.facts if f.event != "NOOP"]}
        texts = {r.id: r.text for r in added}
        results = []
        for event in added.events:
            if event.event == "NONE":
                continue
            item: dict[str, Any] = {"id": event.id, "memory": texts.get(event.id, ""), "event": event.event}
            if event.supersedes:
                item["previous_memory"] = self.memgrid.get(event.supersedes).text
            results.append(item)
        return {"results": results}

    def search(self, query: str, *, top_k: int | None = None, limit: int | None = None,
               filters: dict[str, Any] | None = None, threshold: float | None = None,
               user_id: str | None = None, agent_id: str | None = None, run_id: str | None = None,
               **_: Any) -> dict[str, Any]:
        """mem0's search: `{"results": [{"id", "memory", "score", ...}]}`, best first."""
        scope, rest = _scope(filters, user_id, agent_id, run_id)
        hits = self.memgrid.search(query, **scope, filters=rest or None, limit=top_k or limit or 20)
        return {"results": [{**_item(h.memory), "score": h.score} for h in hits
                            if threshold is None or h.score >= threshold]}

    def get(self, memory_id: str) -> dict[str, Any] | None:
        try:
            return _item(self.memgrid.get(memory_id))
        except NotFoundError:
            return None

    def get_all(self, *, filters: dict[str, Any] | None = None, top_k: int | None = None,
                limit: int | None = None, user_id: str | None = None, agent_id: str | None = None,
                run_id: str | None = None, **_: Any) -> dict[str, Any]:
        scope, rest = _scope(filters, user_id, agent_id, run_id)
        wanted = top_k or limit or 100
        items: list[dict[str, Any]] = []
        cursor = None
        while len(items) < wanted:
            page = self.memgrid.list(**scope, filters=rest or None, cursor=cursor, limit=min(1000, wanted))
            items += [_item(r) for r in page.items]
            cursor = page.next_cursor
            if cursor is None:
                break
        return {"results": items[:wanted]}

    def update(self, memory_id: str, data: str | None = None, *, text: str | None = None,
               metadata: dict[str, Any] | None = None) -> dict[str, str]:
        self.memgrid.update(memory_id, text=text if text is not None else data, metadata=metadata)
        return {"message": "Memory updated successfully!"}

    def delete(self, memory_id: str) -> dict[str, str]:
        self.memgrid.delete(memory_id)
        return {"message": "Memory deleted successfully!"}

    def delete_all(self, user_id: str | None = None, agent_id: str | None = None,
                   run_id: str | None = None) -> dict[str, str]:
        """Erase one owner's memories (a run, that is a session, within its owner), every trace."""
        if not (user_id or agent_id):
            raise ValueError("delete_all needs user_id or agent_id (and optionally run_id)")
        self.memgrid.erase(user_id=user_id, agent_id=agent_id, session_id=run_id)
        return {"message": "Memories deleted successfully!"}

    def history(self, memory_id: str) -> list[dict[str, Any]]:
        """mem0's history rows: each change with the text before and after it."""
        rows: list[dict[str, Any]] = []
        previous: str | None = None
        for entry in self.memgrid.history(memory_id):
            rows.append(_history_row(entry, previous))
            previous = entry.text
        return rows

    def reset(self) -> None:
        """Erase every memory of this store's tenant (mem0's reset empties its store)."""
        for owner in self.memgrid.users():
            self.memgrid.erase(user_id=owner.user_id, agent_id=owner.agent_id,
                               all_owners=owner.user_id is None and owner.agent_id is None)

    def close(self) -> None:
        self.memgrid.close()


def _scope(filters: dict[str, Any] | None, user_id: str | None, agent_id: str | None,
           run_id: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """mem0's entity ids (top-level in 1.x, inside filters in 2.x) as memgrid's scope; the
    other filters (metadata) pass through."""
    rest = dict(filters or {})
    ids = {"user_id": user_id, "agent_id": agent_id, "run_id": run_id}
    for key in _ENTITY_KEYS:
        if key in rest:
            ids[key] = rest.pop(key)
    if not any(ids.values()):
        raise ValueError("pass at least one of user_id, agent_id, run_id (e.g. filters={'user_id': 'u1'})")
    if rest:
        rest = {"metadata": rest}
    return {"user_id": ids["user_id"], "agent_id": ids["agent_id"], "session_id": ids["run_id"]}, rest


def _item(record: MemoryRecord) -> dict[str, Any]:
    """A memory the way mem0 returns one."""
    item: dict[str, Any] = {
        "id": record.id, "memory": record.text, "hash": None, "metadata": record.metadata or None,
        "created_at": record.created_at.isoformat(), "updated_at": record.updated_at.isoformat(),
        "user_id": record.user_id}
    if record.agent_id:
        item["agent_id"] = record.agent_id
    if record.session_id:
        item["run_id"] = record.session_id
    if record.role:
        item["role"] = record.role
    return item


def _history_row(entry: HistoryEntry, previous: str | None) -> dict[str, Any]:
    at = entry.at.isoformat()
    return {"id": f"{entry.memory_id}:{entry.version}", "memory_id": entry.memory_id,
            "old_memory": previous, "new_memory": None if entry.event == "DELETE" else entry.text,
            "event": entry.event, "created_at": at, "updated_at": at,
            "is_deleted": entry.event == "DELETE", "actor_id": entry.actor, "role": None}
