"""memgrid: long-term memory for AI agents. Local-first, zero-LLM core, hybrid recall."""

from memgrid.config import EmbedderConfig, MemgridConfig, RetrievalConfig
from memgrid.errors import (
    EmbedderError,
    InvalidInputError,
    MemgridError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
)
from memgrid.memory import AsyncMemory, Memory
from memgrid.models import HistoryEntry, MemoryRecord, Page, Provenance, SearchHit, Stats

__all__ = [
    "AsyncMemory",
    "EmbedderConfig",
    "EmbedderError",
    "HistoryEntry",
    "InvalidInputError",
    "MemgridConfig",
    "MemgridError",
    "Memory",
    "MemoryRecord",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "Provenance",
    "RetrievalConfig",
    "SearchHit",
    "Stats",
    "StorageError",
]
__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`memgrid.Client` / `memgrid.AsyncClient` load the HTTP client only when asked for."""
    if name in ("Client", "AsyncClient"):
        from memgrid.server import client

        return getattr(client, name)
    raise AttributeError(name)
