"""Lazy factory: only the configured provider's heavy imports run."""

from __future__ import annotations

from pathlib import Path

from memgrid.config import EmbedderConfig
from memgrid.embedders.base import CachedEmbedder, Embedder
from memgrid.errors import EmbedderError


def create_embedder(config: EmbedderConfig, home: Path) -> CachedEmbedder:
    inner: Embedder
    if config.provider == "static":
        from memgrid.embedders.static import StaticEmbedder

        inner = StaticEmbedder(home, config.model)
    elif config.provider == "minilm":
        from memgrid.embedders.minilm import MiniLMEmbedder

        inner = MiniLMEmbedder(config.model)
    elif config.provider == "openai":
        from memgrid.embedders.openai import OpenAIEmbedder

        if not config.model:
            raise EmbedderError("the openai embedder needs embedder.model (e.g. text-embedding-3-small)")
        inner = OpenAIEmbedder(config.base_url, config.model, config.api_key, config.dims)
    else:
        from memgrid.embedders.hashing import HashingEmbedder

        inner = HashingEmbedder(config.dims or 256)
    return CachedEmbedder(inner, config.batch_size, config.cache_size)
