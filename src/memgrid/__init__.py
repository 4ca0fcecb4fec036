"""memgrid: long-term memory for AI agents. Local-first, zero-LLM core, hybrid recall."""

from memgrid.config import EmbedderConfig, MemgridConfig, RetrievalConfig
from memgrid.errors import EmbedderError, InvalidInputError, MemgridError, NotFoundError, StorageError
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
    "Provenance",
    "RetrievalConfig",
    "SearchHit",
    "Stats",
    "StorageError",
]
__version__ = "0.1.0"
