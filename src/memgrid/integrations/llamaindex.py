"""LlamaIndex on memgrid: `MemgridMemoryBlock`, a long-term memory block for
`llama_index.core.memory.Memory`.

    block = MemgridMemoryBlock(memory=mem, user_id="alice", token_budget=600)
    agent_memory = Memory.from_defaults(session_id="chat-1", memory_blocks=[block])

Messages that leave the short-term window are stored in memgrid (the user's turns feed its facts
and search); on each turn the block returns memgrid's `context()` for the latest user message:
relevant memories within the token budget, current facts first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, MessageRole
from llama_index.core.memory.memory import BaseMemoryBlock
from pydantic import ConfigDict, Field

from memgrid.memory import Memory

_ROLES = {MessageRole.USER: "user", MessageRole.ASSISTANT: "assistant", MessageRole.SYSTEM: "system",
          MessageRole.TOOL: "tool", MessageRole.FUNCTION: "tool"}


class MemgridMemoryBlock(BaseMemoryBlock[str]):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    name: str = "memgrid"
    description: str | None = "Long-term memories about the user, from memgrid."
    memory: Memory
    user_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = Field(default=None, description="store messages in this session")
    token_budget: int = 600

    async def _aget(self, messages: list[ChatMessage] | None = None, **block_kwargs: Any) -> str:
        query = next((m.content for m in reversed(messages or []) if m.role == MessageRole.USER
                      and m.content), None)
        if not query:
            return ""
        return await asyncio.to_thread(self.memory.context, str(query), user_id=self.user_id,
                                       agent_id=self.agent_id, token_budget=self.token_budget)

    async def _aput(self, messages: list[ChatMessage]) -> None:
        turns = [{"role": _ROLES.get(m.role, "assistant"), "content": m.content} for m in messages
                 if isinstance(m.content, str) and m.content.strip()]
        if turns:
            session = self.session_id or next(
                (m.additional_kwargs.get("session_id") for m in messages
                 if m.additional_kwargs.get("session_id")), None)
            await asyncio.to_thread(self.memory.add, turns, user_id=self.user_id,
                                    agent_id=self.agent_id, session_id=session)
