"""OpenAI Agents SDK on memgrid: `MemgridSession` keeps a conversation's items in memgrid.

    session = MemgridSession("chat-1", mem, user_id="alice")
    await Runner.run(agent, "Where do I live?", session=session)

Every item (messages, tool calls, tool outputs) comes back exactly as it was added, in order;
the user's messages also feed memgrid's facts and search, so other sessions and agents with the
right grants can recall them.
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from memgrid.integrations.transcript import Transcript
from memgrid.memory import Memory

if TYPE_CHECKING:
    from agents.items import TResponseInputItem
    from agents.memory.session_settings import SessionSettings


class MemgridSession:
    """Implements the SDK's `Session` protocol (it is a protocol: no base class is needed)."""

    session_settings: SessionSettings | None = None

    def __init__(self, session_id: str, memory: Memory, user_id: str | None = None,
                 agent_id: str | None = None) -> None:
        self.session_id = session_id
        self.transcript = Transcript(memory, user_id, session_id, agent_id, payload_key="openai_item")

    async def get_items(self, limit: int | None = None) -> list[TResponseInputItem]:
        items: list[TResponseInputItem] = await asyncio.to_thread(self.transcript.payloads)
        return items if limit is None else items[-limit:] if limit > 0 else []

    async def add_items(self, items: list[TResponseInputItem]) -> None:
        entries = [(str(_get(item, "role") or "tool"), _text(item), _plain(item)) for item in items]
        await asyncio.to_thread(self.transcript.append, entries)

    async def pop_item(self) -> TResponseInputItem | None:
        item: TResponseInputItem | None = await asyncio.to_thread(self.transcript.pop)
        return item

    async def clear_session(self) -> None:
        """Deletes the session's items (their versions stay in `history()` until `erase`)."""
        await asyncio.to_thread(self.transcript.clear)


def _get(item: Any, key: str) -> Any:
    return item.get(key) if isinstance(item, dict) else getattr(item, key, None)


def _plain(item: Any) -> Any:
    """Items may be pydantic models from the SDK's responses; stored as their JSON form."""
    return item.model_dump(mode="json", exclude_unset=True) if hasattr(item, "model_dump") else item


def _text(item: Any) -> str:
    content = _get(item, "content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [_get(p, "text") for p in content]
        text = " ".join(p for p in parts if isinstance(p, str))
        if text:
            return text
    return json.dumps(_plain(item), ensure_ascii=False, default=str)
