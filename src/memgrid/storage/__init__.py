"""Storage behind one narrow interface (`Store`); SQLite is the embedded default."""

from memgrid.storage.base import Store, TextHit, VectorHit

__all__ = ["Store", "TextHit", "VectorHit"]
