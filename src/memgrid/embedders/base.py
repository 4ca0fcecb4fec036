"""Embedder protocol and the content-hash cache every embedder is wrapped in."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

import numpy as np


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows. `name` identifies the vector space."""

    name: str
    dims: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


def normalize(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.asarray(matrix / norms, dtype=np.float32)


class CachedEmbedder:
    """Batches calls and remembers recent results by text hash (re-adds and repeated queries)."""

    def __init__(self, inner: Embedder, batch_size: int = 256, cache_size: int = 20_000) -> None:
        self.inner = inner
        self.name = inner.name
        self.dims = inner.dims
        self.batch_size = batch_size
        self.cache_size = cache_size
        self._cache: OrderedDict[bytes, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()  # AsyncMemory calls from worker threads

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            return self._embed(texts)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        keys = [hashlib.blake2b(t.encode(), digest_size=16).digest() for t in texts]
        out = np.empty((len(texts), self.dims), np.float32)
        todo: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                out[i] = hit
            else:
                todo.setdefault(key, []).append(i)
        missing = list(todo)
        for start in range(0, len(missing), self.batch_size):
            chunk = missing[start : start + self.batch_size]
            vectors = normalize(self.inner.embed([texts[todo[k][0]] for k in chunk]))
            for key, vector in zip(chunk, vectors, strict=True):
                out[todo[key]] = vector
                self._remember(key, vector)
        return out

    def _remember(self, key: bytes, vector: np.ndarray) -> None:
        if self.cache_size <= 0:
            return
        self._cache[key] = vector
        if len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)
