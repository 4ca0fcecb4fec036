"""Input checks shared by every surface. They run before any write, so bad input changes nothing."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from memgrid.access.rules import AccessRule
from memgrid.errors import InvalidInputError

MAX_SCOPE_CHARS = 256
_META_KEY = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


def check_scope_value(name: str, value: str | None) -> str | None:
    """Scope ids are opaque strings: non-empty, bounded, and free of control characters."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInputError(f"{name} must be a string, got {type(value).__name__}")
    if not value.strip():
        raise InvalidInputError(f"{name} must not be empty or whitespace")
    if len(value) > MAX_SCOPE_CHARS:
        raise InvalidInputError(f"{name} is {len(value)} chars; the limit is {MAX_SCOPE_CHARS}")
    bad = [c for c in value if unicodedata.category(c) in ("Cc", "Cf", "Cs", "Co", "Cn")]
    if bad:
        raise InvalidInputError(
            f"{name} contains control or unassigned characters ({bad[0]!r}); use printable text"
        )
    return value


ROLES = ("user", "assistant", "system", "tool")
MAX_JSON_DEPTH = 32


def check_int(value: Any, what: str, low: int, high: int) -> int:
    """A whole number in [low, high] (bool is not a number here)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInputError(f"{what} must be a whole number, got {type(value).__name__}")
    if not low <= value <= high:
        raise InvalidInputError(f"{what} must be between {low} and {high}, got {value}")
    return value


def check_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise InvalidInputError(f"{what} must be true or false, got {type(value).__name__}")
    return value


def check_role(value: Any, what: str = "role") -> str:
    if value not in ROLES:
        raise InvalidInputError(f"{what} must be one of {', '.join(ROLES)}, got {value!r}")
    return str(value)


def _no_surrogates(text: str, what: str) -> None:
    """A lone surrogate cannot be encoded as UTF-8, so no backend can store it."""
    if any("\ud800" <= c <= "\udfff" for c in text):
        raise InvalidInputError(f"{what} contains a lone surrogate (invalid Unicode); send valid UTF-8 text")


def check_text(text: Any, max_chars: int, what: str = "text") -> str:
    if not isinstance(text, str):
        raise InvalidInputError(f"{what} must be a string, got {type(text).__name__}")
    if not text.strip():
        hint = "pass what to search for" if what == "query" else "give the memory some content"
        raise InvalidInputError(f"{what} is empty or whitespace; {hint}")
    if "\x00" in text:
        raise InvalidInputError(f"{what} contains a NUL character; remove it")
    _no_surrogates(text, what)
    if len(text) > max_chars:
        raise InvalidInputError(
            f"{what} is {len(text)} chars; the limit is {max_chars} (raise max_text_chars or split it)"
        )
    return text


def parse_timestamp(value: Any, what: str = "timestamp") -> float | None:
    """ISO 8601 string, datetime, date or epoch seconds -> epoch seconds (naive means UTC)."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise InvalidInputError(f"{what} must be an ISO 8601 string, datetime or epoch seconds")
    if isinstance(value, int | float):
        if not (-62135596800 <= value < 253402300800):  # 0001-01-01 .. 9999-12-31
            raise InvalidInputError(f"{what} {value!r} is outside years 1-9999")
        return float(value)
    if isinstance(value, datetime):
        dt = value
    elif isinstance(value, date):
        dt = datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            dt = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InvalidInputError(
                f"{what} {value!r} is not ISO 8601; use e.g. '2023-05-08T13:56:00' or '2023-05-08'"
            ) from None
    else:
        raise InvalidInputError(f"{what} must be an ISO 8601 string, datetime or epoch seconds")
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def check_metadata(metadata: Any) -> dict[str, Any]:
    if metadata is None:
        return {}
    if not isinstance(metadata, dict):
        raise InvalidInputError(f"metadata must be a JSON object (dict), got {type(metadata).__name__}")
    for key in metadata:
        if not isinstance(key, str) or not _META_KEY.match(key):
            raise InvalidInputError(
                f"metadata key {key!r} is invalid; use 1-64 letters, digits, '_' or '-'"
            )
    _check_json_strings(metadata, "metadata")
    tags = metadata.get("tags")
    if tags is not None and not (isinstance(tags, list) and all(isinstance(t, str) for t in tags)):
        raise InvalidInputError("metadata.tags must be a list of strings, e.g. [\"work\"]")
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        raise InvalidInputError("metadata.namespace must be a string")
    return dict(metadata)


def _check_json_strings(value: Any, where: str, depth: int = 0) -> None:
    """Only what JSON holds, and what every backend stores: no NUL (PostgreSQL text/jsonb), no
    lone surrogate, no NaN or infinity, no integer beyond 64 bits, nesting bounded."""
    if depth > MAX_JSON_DEPTH:
        raise InvalidInputError(f"{where} nests deeper than {MAX_JSON_DEPTH} levels")
    if isinstance(value, str):
        if "\x00" in value:
            raise InvalidInputError(f"{where} contains a NUL character; remove it")
        _no_surrogates(value, where)
    elif isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise InvalidInputError(f"{where} has a key that is not a string ({k!r})")
            _check_json_strings(k, where, depth + 1)
            _check_json_strings(v, f"{where}.{k}", depth + 1)
    elif isinstance(value, list | tuple):
        for item in value:
            _check_json_strings(item, where, depth + 1)
    elif isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise InvalidInputError(f"{where} contains NaN or infinity; JSON cannot store it")
    elif isinstance(value, bool) or value is None:
        return
    elif isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise InvalidInputError(f"{where} holds an integer beyond 64 bits")
    else:
        raise InvalidInputError(f"{where} holds a {type(value).__name__}, which JSON cannot store")


def printable(value: str | None, limit: int = 256) -> str | None:
    """A caller-supplied string made safe to log (audit targets): control characters escaped."""
    if value is None:
        return None
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in value)[:limit]


@dataclass(slots=True)
class Filters:
    """The filter language of search/list: exact kinds/roles/speakers, event-time range, metadata."""

    kinds: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    speakers: tuple[str, ...] = ()
    visibility: str | None = None
    event_after: float | None = None
    event_before: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    access: AccessRule | None = None  # set by the server from the caller, never by callers
    as_of: float | None = None  # only memories valid at this time (valid_from <= T < valid_to)
    time_range: tuple[float, float] | None = None  # said, or talking about, a time in [a, b)
    include_archived: bool = False
    archived: bool | None = None  # only archived (True) or only live (False) memories: the console's filter
    exclude_kinds: tuple[str, ...] = ()  # e.g. summaries, which reach search through their own channel

    ALLOWED = ("kind", "role", "speaker", "visibility", "event_after", "event_before", "metadata")

    @classmethod
    def parse(cls, raw: dict[str, Any] | None) -> Filters:
        if raw is None:
            return cls()
        if not isinstance(raw, dict):
            raise InvalidInputError(f"filters must be an object (dict), got {type(raw).__name__}")
        if not raw:
            return cls()
        unknown = set(raw) - set(cls.ALLOWED)
        if unknown:
            raise InvalidInputError(
                f"unknown filter key(s) {sorted(unknown)}; allowed: {', '.join(cls.ALLOWED)}"
            )

        def many(key: str) -> tuple[str, ...]:
            value = raw.get(key)
            if value is None:
                return ()
            if not isinstance(value, str | list | tuple):
                raise InvalidInputError(
                    f"filter {key} must be a string or a list of strings, got {type(value).__name__}")
            values = [value] if isinstance(value, str) else list(value)
            if not values:
                raise InvalidInputError(f"filter {key} is an empty list; leave it out to match every {key}")
            for v in values:
                check_scope_value(f"filter {key}", v)
                if key == "role":
                    check_role(v, "filter role")
            return tuple(values)

        metadata = check_metadata(raw.get("metadata"))
        for key, value in metadata.items():
            if not isinstance(value, str | int | float | bool) or value is None:
                raise InvalidInputError(f"metadata filter {key!r} must be a string, number or bool")
        visibility = raw.get("visibility")
        if visibility not in (None, "private", "shared"):
            raise InvalidInputError("filter visibility must be 'private' or 'shared'")
        return cls(
            kinds=many("kind"),
            roles=many("role"),
            speakers=many("speaker"),
            visibility=visibility,
            event_after=parse_timestamp(raw.get("event_after"), "filter event_after"),
            event_before=parse_timestamp(raw.get("event_before"), "filter event_before"),
            metadata=metadata,
        )

    @classmethod
    def everything(cls) -> Filters:
        """No filter at all, archived memories included (erase, export, dedupe, stats)."""
        return cls(include_archived=True)

    def is_empty(self) -> bool:
        """True when only the defaults apply (archived and excluded kinds): FTS5 can then rank
        over all rows and leave the scope check to the caller."""
        return not (
            self.kinds or self.roles or self.speakers or self.visibility or self.metadata
            or self.event_after is not None or self.event_before is not None
            or self.access is not None or self.as_of is not None or self.time_range is not None
            or self.include_archived or self.archived is not None
        )
