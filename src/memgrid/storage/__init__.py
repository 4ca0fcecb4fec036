"""Storage behind one narrow interface (`Store`): embedded SQLite by default, or PostgreSQL."""

from __future__ import annotations

from memgrid.config import MemgridConfig
from memgrid.storage.base import Closing, Placement, Store, TextHit, VectorHit

__all__ = ["Closing", "Placement", "Store", "TextHit", "VectorHit", "open_store"]


def open_store(config: MemgridConfig) -> Store:
    """PostgreSQL for a postgresql:// URL, else the SQLite file (lazy imports: no unused drivers)."""
    if config.db_url:
        if not config.db_url.startswith(("postgresql://", "postgres://")):
            from memgrid.errors import InvalidInputError

            raise InvalidInputError("db_url must start with postgresql://")
        try:
            from memgrid.storage.postgres import PostgresStore
        except ImportError as exc:
            from memgrid.errors import StorageError

            raise StorageError("the PostgreSQL backend needs psycopg and psycopg-pool: "
                               "pip install 'memgrid[postgres]'") from exc

        return PostgresStore(config.db_url, config.pool_size)
    from memgrid.storage.sqlite import SQLiteStore

    return SQLiteStore(config.db_path(), config.durability, config.vector_save_every,
                       config.text_index_from, config.sqlite_mmap_mb)
