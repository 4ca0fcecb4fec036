"""Cross-process locks on byte ranges of `<db>.lock`, for SQLite stores.

POSIX record locks belong to the process, and closing *any* descriptor of a file drops all of
the process's locks on it. So each lock file is opened once per process and never closed: a
store that opened and closed its own handle released a lock another thread still held. That
one handle per path is the only process-wide state in memgrid, and it is the OS that makes it so.
Record locks do not exclude threads of one process; each range also has a thread lock.
"""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

_HANDLES: dict[str, IO[str]] = {}
_THREAD_LOCKS: dict[tuple[str, int], threading.Lock] = {}
_GUARD = threading.Lock()

# offsets above any crc32, so the schema lock never shares a byte with a lifecycle pass's lock
SCHEMA_OFFSET = 2**33


def _handle(path: Path) -> tuple[IO[str], threading.Lock, str]:
    key = os.path.realpath(path)
    with _GUARD:
        handle = _HANDLES.get(key)
        if handle is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            handle = _HANDLES[key] = open(path, "a")  # noqa: SIM115 - kept for the process's life
        return handle, _GUARD, key


@contextmanager
def locked(path: Path, offset: int) -> Iterator[None]:
    """Hold byte `offset` of `path` exclusively: other threads of this process and other
    processes wait."""
    handle, guard, key = _handle(path)
    with guard:
        thread_lock = _THREAD_LOCKS.setdefault((key, offset), threading.Lock())
    with thread_lock:
        fcntl.lockf(handle, fcntl.LOCK_EX, 1, offset)
        try:
            yield
        finally:
            fcntl.lockf(handle, fcntl.LOCK_UN, 1, offset)
