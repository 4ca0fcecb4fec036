"""Embedders behind one small interface; `create_embedder` imports only the one configured."""

from memgrid.embedders.base import CachedEmbedder, Embedder
from memgrid.embedders.factory import create_embedder

__all__ = ["CachedEmbedder", "Embedder", "create_embedder"]
