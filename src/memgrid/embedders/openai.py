"""Any OpenAI-compatible /v1/embeddings endpoint (OpenAI, vLLM, Ollama, LM Studio, TEI, ...)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Sequence

import numpy as np

from memgrid.errors import EmbedderError


class OpenAIEmbedder:
    def __init__(self, base_url: str, model: str, api_key: str | None, dims: int | None,
                 timeout: float = 60.0) -> None:
        self.url = base_url.rstrip("/") + "/embeddings"
        self.model = model
        self.api_key = api_key
        self.requested_dims = dims
        self.timeout = timeout
        self.name = f"openai:{model}"
        self.dims = dims or len(self.embed(["dimension probe"])[0])

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        body: dict[str, object] = {"model": self.model, "input": list(texts)}
        if self.requested_dims:
            body["dimensions"] = self.requested_dims
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(self.url, json.dumps(body).encode(), headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                payload = json.loads(response.read())
        except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as exc:
            raise EmbedderError(f"embedding request to {self.url} failed: {exc}") from exc
        try:
            rows = sorted(payload["data"], key=lambda item: item["index"])
            return np.asarray([row["embedding"] for row in rows], np.float32)
        except (KeyError, TypeError) as exc:
            raise EmbedderError(f"unexpected response from {self.url}: {str(payload)[:200]}") from exc
