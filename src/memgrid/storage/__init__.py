"""Storage behind one narrow interface (`Store`); SQLite is the embedded default."""

from memgrid.storage.base import Placement, Store, TextHit, VectorHit

__all__ = ["Placement", "Store", "TextHit", "VectorHit"]
