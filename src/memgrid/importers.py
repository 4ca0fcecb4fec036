"""Readers for conversation files people bring: LoCoMo JSON, and memgrid's own JSONL export."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from memgrid.errors import InvalidInputError
from memgrid.write.units import CAPTION_KEY


@dataclass(slots=True)
class Conversation:
    sample_id: str
    speakers: tuple[str, str]
    sessions: list[tuple[str, datetime, list[dict[str, Any]]]]  # (session id, start, messages)
    qa: list[dict[str, Any]]
    turn_key: str = "dia_id"  # the metadata key that names each turn (what benchmarks score)


def parse_locomo_time(value: str) -> datetime:
    """'1:56 pm on 8 May, 2023' -> aware datetime (UTC: the data set names no zone)."""
    try:
        return datetime.strptime(value.strip(), "%I:%M %p on %d %B, %Y").replace(tzinfo=UTC)
    except ValueError:
        raise InvalidInputError(
            f"LoCoMo session date {value!r} is not like '1:56 pm on 8 May, 2023'") from None


def is_locomo(data: Any) -> bool:
    """Top-level keys as in ../shared/data/locomo, or nested under 'conversation' as upstream."""
    if not isinstance(data, dict):
        return False
    conv = data.get("conversation", data)
    return isinstance(conv, dict) and "speaker_a" in conv and any(k.startswith("session_") for k in conv)


def load_locomo(path: Path) -> Conversation:
    """One LoCoMo conversation; turns keep dia_id, and a shared photo's caption as metadata."""
    raw = json.loads(path.read_text())
    conv = raw.get("conversation", raw)
    if not is_locomo(raw):
        raise InvalidInputError(f"{path} is not a LoCoMo conversation (no speaker_a/session_N keys)")
    sessions = []
    numbers = sorted(int(k.split("_")[1]) for k in conv
                     if k.startswith("session_") and k.count("_") == 1 and isinstance(conv[k], list))
    for n in numbers:
        start = parse_locomo_time(conv[f"session_{n}_date_time"])
        messages = []
        for i, turn in enumerate(conv[f"session_{n}"]):
            metadata: dict[str, Any] = {"dia_id": turn["dia_id"]}
            if turn.get("blip_caption"):
                metadata[CAPTION_KEY] = turn["blip_caption"]
            messages.append({
                "role": "user", "speaker": turn["speaker"], "content": turn["text"] or "(photo)",
                # turns are seconds apart so time order is also conversation order
                "timestamp": (start + timedelta(seconds=30 * i)).isoformat(),
                "metadata": metadata,
            })
        sessions.append((f"session_{n}", start, messages))
    return Conversation(
        sample_id=str(raw.get("sample_id", path.stem)),
        speakers=(conv["speaker_a"], conv["speaker_b"]),
        sessions=sessions,
        qa=list(raw.get("qa", [])),
    )
