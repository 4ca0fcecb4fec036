"""memgrid: long-term memory for AI agents. Local-first, zero-LLM core, hybrid recall."""

from importlib import metadata as _metadata

from memgrid.config import EmbedderConfig, LinkConfig, MemgridConfig, RetrievalConfig, TopicConfig
from memgrid.errors import (
    AuthenticationError,
    EmbedderError,
    InvalidInputError,
    LLMError,
    MemgridError,
    NoModelError,
    NotFoundError,
    PermissionDeniedError,
    ServerUnavailableError,
    StorageError,
)
from memgrid.memory import AsyncMemory, Memory
from memgrid.models import HistoryEntry, MemoryRecord, Page, Provenance, RelatedMemory, SearchHit, Stats

__all__ = [
    "AsyncMemory",
    "AuthenticationError",
    "EmbedderConfig",
    "EmbedderError",
    "HistoryEntry",
    "InvalidInputError",
    "LLMError",
    "LinkConfig",
    "MemgridConfig",
    "MemgridError",
    "Memory",
    "MemoryRecord",
    "NoModelError",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "Provenance",
    "RelatedMemory",
    "RetrievalConfig",
    "SearchHit",
    "ServerUnavailableError",
    "Stats",
    "StorageError",
    "TopicConfig",
]
try:  # one source of truth: the installed distribution's version (pyproject.toml)
    __version__ = _metadata.version("memgrid")
except _metadata.PackageNotFoundError:  # run from a source tree that was never installed
    __version__ = "0.0.0+unknown"


def __getattr__(name: str) -> object:
    """`memgrid.Client` / `memgrid.AsyncClient` load the HTTP client only when asked for."""
    if name in ("Client", "AsyncClient"):
        from memgrid.server import client

        return getattr(client, name)
    raise AttributeError(name)
