"""Connections to PostgreSQL, pooled so that one process's threads query it in parallel.

One connection behind a lock made a server's requests queue at the database: while one request
waited on PostgreSQL, none of the others could send a statement. Each call now borrows a
connection for one statement or one transaction. Connections open on demand (one at start), so
an embedded `Memory` used from one thread still holds a single connection.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import psycopg
from psycopg.adapt import Dumper
from psycopg.pq import Format
from psycopg.types import TypeInfo
from psycopg_pool import ConnectionPool, PoolTimeout

from memgrid.errors import StorageError

OPEN_TIMEOUT_S = 15.0


def register_vector_dumper(conn: Any) -> None:
    """Send numpy vectors to pgvector in its binary form (`%b` parameters): formatting 256
    floats as text took ~0.1 ms a vector, ~4% of a PostgreSQL server's CPU under load."""
    info = TypeInfo.fetch(conn, "vector")
    if info is None:
        raise StorageError("the pgvector extension is missing: CREATE EXTENSION vector")

    class VectorDumper(Dumper):
        format = Format.BINARY
        oid = info.oid

        def dump(self, obj: Any) -> bytes:
            values = np.asarray(obj, dtype=">f4")
            return struct.pack(">HH", values.shape[0], 0) + values.tobytes()

    conn.adapters.register_dumper(np.ndarray, VectorDumper)


def open_pool(url: str, size: int, settings: Sequence[str] = (),
              setup: Callable[[Any], None] | None = None, vectors: bool = False) -> ConnectionPool:
    """An open psycopg pool of autocommit connections, each configured with `settings` (SET ...)
    and, with `vectors`, sending numpy arrays as pgvector vectors.

    A first connection is made directly, so a wrong URL fails at once with PostgreSQL's own
    message (a pool would retry until its timeout), and runs `setup` (migrations) before any
    pooled connection exists."""

    def configure(conn: Any) -> None:
        for statement in settings:
            conn.execute(statement)
        if vectors:
            register_vector_dumper(conn)

    where = url.split("@")[-1]
    try:
        with psycopg.connect(url, autocommit=True) as first:
            if setup is not None:
                setup(first)
        pool = ConnectionPool(url, min_size=1, max_size=size, kwargs={"autocommit": True},
                              configure=configure, open=False, name=f"memgrid-{where}")
        try:
            pool.open(wait=True, timeout=OPEN_TIMEOUT_S)
        except PoolTimeout:
            pool.close()
            raise
    except (PoolTimeout, psycopg.Error) as exc:
        raise StorageError(f"cannot use {where} as a memgrid database: {exc}") from exc
    return pool
