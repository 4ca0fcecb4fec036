"""LangChain on memgrid: `MemgridRetriever` (a retriever over a user's memories) and
`MemgridChatMessageHistory` (a session's messages, kept verbatim and searchable).

    retriever = MemgridRetriever(memory=mem, user_id="alice", k=5)
    retriever.invoke("where does alice live?")           # Documents, best first
    history = MemgridChatMessageHistory(mem, user_id="alice", session_id="chat-1")
    RunnableWithMessageHistory(chain, lambda sid: MemgridChatMessageHistory(mem, "alice", sid))
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.documents import Document
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from memgrid.integrations.transcript import Transcript
from memgrid.memory import Memory
from memgrid.models import SearchHit

# LangChain message types -> memgrid roles; anything else is not the user speaking
_ROLES = {"human": "user", "ai": "assistant", "system": "system", "tool": "tool", "function": "tool"}


class MemgridRetriever(BaseRetriever):
    """memgrid's hybrid search as a LangChain retriever; each Document's metadata carries the
    memory id, score, time, session and whether a newer fact superseded it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    memory: Memory
    user_id: str | None = None
    agent_id: str | None = None
    session_id: str | None = None
    k: int = 10
    filters: dict[str, Any] | None = None

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        hits = self.memory.search(query, user_id=self.user_id, agent_id=self.agent_id,
                                  session_id=self.session_id, filters=self.filters, limit=self.k)
        return [_document(hit) for hit in hits]


def _document(hit: SearchHit) -> Document:
    m = hit.memory
    return Document(page_content=m.text, id=m.id, metadata={
        "id": m.id, "score": hit.score, "kind": m.kind, "role": m.role, "user_id": m.user_id,
        "session_id": m.session_id,
        "event_time": m.event_time.isoformat() if m.event_time else None,
        "superseded_by": m.superseded_by,
        "valid_to": m.valid_to.isoformat() if m.valid_to else None})


class MemgridChatMessageHistory(BaseChatMessageHistory):
    """A chat session stored in memgrid: messages come back exactly as they were added (tool
    calls and all), and the user's turns also feed memgrid's facts and search."""

    def __init__(self, memory: Memory, user_id: str | None, session_id: str,
                 agent_id: str | None = None) -> None:
        self.transcript = Transcript(memory, user_id, session_id, agent_id, payload_key="langchain_message")

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        return messages_from_dict(self.transcript.payloads())

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        self.transcript.append([(_ROLES.get(m.type, "assistant"), _text(m), message_to_dict(m))
                                for m in messages])

    def clear(self) -> None:
        """Deletes the session's messages (their versions stay in `history()` until `erase`)."""
        self.transcript.clear()


def _text(message: BaseMessage) -> str:
    text = str(message.text)
    if text:
        return text
    calls = getattr(message, "tool_calls", None)
    return json.dumps(calls, ensure_ascii=False, default=str) if calls else ""
