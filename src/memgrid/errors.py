"""Error types. Every error names what was wrong and what to do about it."""

from __future__ import annotations


class MemgridError(Exception):
    """Base class for all memgrid errors."""


class InvalidInputError(MemgridError, ValueError):
    """The caller passed something memgrid cannot store or use; nothing was changed."""


class NotFoundError(MemgridError, KeyError):
    """An id or scope that does not exist (or is not visible to the caller)."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else "not found"


class PermissionDeniedError(MemgridError):
    """The caller is known but lacks the right for this operation."""


class StorageError(MemgridError):
    """The database is corrupt, foreign, or was built with an incompatible setup."""


class EmbedderError(MemgridError):
    """The embedding model could not be loaded or called."""


class AuthenticationError(MemgridError):
    """The server did not accept the API key (missing, unknown, revoked or expired)."""


class ServerUnavailableError(MemgridError):
    """The memgrid server could not be reached (not running, wrong address, network down)."""


class LLMError(MemgridError):
    """The model could not be reached, refused the request, or never produced valid output."""


class NoModelError(LLMError):
    """A call that needs a model, where none is configured (the zero-LLM default)."""
