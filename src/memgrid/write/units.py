"""Extract: turn each message into a retrieval unit with the signals the read path uses."""

from __future__ import annotations

import hashlib
import os
import time
from datetime import UTC, datetime
from typing import Any

from memgrid.models import Provenance, Scope, StoredMemory
from memgrid.read.timeparse import resolve as resolve_time
from memgrid.text import entities, keywords
from memgrid.write.facts import extract_fact
from memgrid.write.ingest import Message

CAPTION_KEY = "caption"  # metadata text describing an attachment (e.g. a shared photo)


def new_id() -> str:
    """48-bit millisecond clock + 80 random bits: unique and roughly time-ordered."""
    return f"{int(time.time() * 1000):012x}{os.urandom(10).hex()}"


def format_date(epoch: float | None) -> str:
    if epoch is None:
        return ""
    d = datetime.fromtimestamp(epoch, tz=UTC)
    return f"{d.day} {d:%B %Y}"


def index_text(message: Message, event_time: float | None) -> str:
    """What FTS and the embedder see: date and speaker make 'when'/'who' questions matchable."""
    date = format_date(event_time)
    parts = [f"[{date}]" if date else "", f"{message.speaker}:" if message.speaker else "",
             message.content]
    caption = message.metadata.get(CAPTION_KEY)
    if isinstance(caption, str) and caption.strip():
        parts.append(f"[shared: {caption.strip()}]")
    return " ".join(p for p in parts if p)


def content_hash(message: Message, scope: Scope, event_time: float | None) -> str:
    """Same words, same speaker, same session, same moment = the same memory."""
    key = "\x1f".join([message.kind, message.role, message.speaker or "", scope.session_id or "",
                       scope.agent_id or "", repr(event_time), message.content])
    return hashlib.sha256(key.encode()).hexdigest()


def signals(message: Message, scope: Scope, event_time: float | None) -> dict[str, Any]:
    """The columns derived from a message's words and time. An edit recomputes all of them, so
    no name, fact, date or keyword outlives the text it was read from."""
    signal_text = message.content + " " + str(message.metadata.get(CAPTION_KEY, ""))
    # a fact belongs to whoever states it about themselves: an assistant's "I work at ..." is
    # not the user's, and its echo of an old value must not supersede the user's newer one
    fact = extract_fact(message.content, message.speaker or "self") if message.role == "user" else None
    mentioned = resolve_time(message.content, event_time, nearest=True) if event_time is not None else None
    return {"index_text": index_text(message, event_time),
            "content_hash": content_hash(message, scope, event_time),
            "keywords": keywords(signal_text), "entities": entities(signal_text),
            "fact_key": fact.key if fact else None, "fact_value": fact.value if fact else None,
            "mentioned_from": mentioned[0] if mentioned else None,
            "mentioned_to": mentioned[1] if mentioned else None}


def to_unit(message: Message, scope: Scope, visibility: str, provenance: Provenance,
            event_time: float | None, now: float, position: int) -> StoredMemory:
    return StoredMemory(
        id=new_id(), text=message.content, kind=message.kind,
        scope=scope, visibility=visibility, role=message.role, speaker=message.speaker,
        provenance=provenance, created_at=now, updated_at=now, event_time=event_time,
        valid_from=event_time, metadata=message.metadata, position=position,
        **signals(message, scope, event_time),
    )
