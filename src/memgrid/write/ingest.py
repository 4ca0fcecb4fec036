"""Normalise what callers pass to `add` into validated messages, before anything is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from memgrid.errors import InvalidInputError
from memgrid.validation import check_metadata, check_role, check_scope_value, check_text, parse_timestamp

_MESSAGE_KEYS = {"role", "content", "timestamp", "speaker", "name", "metadata", "kind"}


@dataclass(slots=True)
class Message:
    content: str
    role: str = "user"
    speaker: str | None = None
    timestamp: float | None = None
    kind: str = "message"
    metadata: dict[str, Any] = field(default_factory=dict)


def normalize(data: Any, max_chars: int, default_kind: str = "message") -> list[Message]:
    """A string, one message dict, or a list of message dicts -> messages (all or nothing)."""
    if isinstance(data, str):
        return [Message(content=check_text(data, max_chars), kind=default_kind)]
    if isinstance(data, dict):
        return [_message(data, 0, max_chars, default_kind)]
    if isinstance(data, list | tuple):
        if not data:
            raise InvalidInputError("messages list is empty; pass at least one message")
        return [_message(item, i, max_chars, default_kind) for i, item in enumerate(data)]
    raise InvalidInputError(
        f"add() takes a string, a message dict or a list of message dicts, not {type(data).__name__}"
    )


def _message(item: Any, index: int, max_chars: int, default_kind: str) -> Message:
    where = f"message {index}"
    if isinstance(item, str):
        return Message(content=check_text(item, max_chars, where), kind=default_kind)
    if not isinstance(item, dict):
        raise InvalidInputError(
            f"{where} must be a dict with 'role' and 'content', not {type(item).__name__}")
    unknown = set(item) - _MESSAGE_KEYS
    if unknown:
        raise InvalidInputError(
            f"{where} has unknown key(s) {sorted(unknown)}; allowed: {sorted(_MESSAGE_KEYS)}")
    if "content" not in item:
        raise InvalidInputError(f"{where} has no 'content'")
    role = check_role(item.get("role", "user"), f"{where} role")
    speaker = item.get("speaker", item.get("name"))
    check_scope_value(f"{where} speaker", speaker)
    kind = item.get("kind", default_kind)
    check_scope_value(f"{where} kind", kind)
    return Message(
        content=check_text(item["content"], max_chars, f"{where} content"),
        role=role,
        speaker=speaker,
        timestamp=parse_timestamp(item.get("timestamp"), f"{where} timestamp"),
        kind=kind,
        metadata=check_metadata(item.get("metadata")),
    )
