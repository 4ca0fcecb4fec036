"""A session's messages kept verbatim and in order: what the chat-history integrations share.

Each message is one memory of the session, its framework object kept losslessly in metadata
(under one key) beside the text memgrid indexes. Every append gets its own idempotency key, so
a message that repeats an earlier one word for word ("ok") is still stored: a transcript keeps
repeats, unlike memgrid's add, which skips an exact repeat of the same moment."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from memgrid.memory import Memory
from memgrid.models import MemoryRecord
from memgrid.validation import ROLES

PAGE = 1000


@dataclass
class Transcript:
    memory: Memory
    user_id: str | None
    session_id: str
    agent_id: str | None = None
    payload_key: str = "framework_message"

    def append(self, entries: Sequence[tuple[str, str, Any]]) -> None:
        """(role, text, payload) triples, written in one transaction."""
        if not entries:
            return
        limit = self.memory.config.max_text_chars  # the payload keeps the whole message
        messages = [{"role": role if role in ROLES else "assistant",
                     "content": text[:limit] if text.strip() else "[no text]",
                     "metadata": {self.payload_key: payload}} for role, text, payload in entries]
        self.memory.add(messages, user_id=self.user_id, agent_id=self.agent_id,
                        session_id=self.session_id, idempotency_key=f"transcript-{uuid.uuid4().hex}")

    def records(self) -> list[MemoryRecord]:
        """The session's messages in the order they were appended."""
        found: list[MemoryRecord] = []
        cursor = None
        while True:
            page = self.memory.list(user_id=self.user_id, agent_id=self.agent_id,
                                    session_id=self.session_id, cursor=cursor, limit=PAGE,
                                    filters={"kind": "message"})
            found.extend(r for r in page.items if self.payload_key in r.metadata)
            if page.next_cursor is None:
                return found
            cursor = page.next_cursor

    def payloads(self) -> list[Any]:
        return [r.metadata[self.payload_key] for r in self.records()]

    def pop(self) -> Any | None:
        records = self.records()
        if not records:
            return None
        self.memory.delete(records[-1].id)
        return records[-1].metadata[self.payload_key]

    def clear(self) -> None:
        for record in self.records():
            self.memory.delete(record.id)
