"""One client for every OpenAI-compatible chat endpoint (OpenAI, vLLM, Ollama, llama.cpp, or the
packaged local model): structured output through a JSON schema, validated by pydantic, with a
bounded retry; timeouts; token accounting per call; an LRU cache keyed by the prompt's hash."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError

from memgrid.config import LLMConfig
from memgrid.errors import LLMError, NoModelError

T = TypeVar("T", bound=BaseModel)
Messages = list[dict[str, str]]


@dataclass
class Call:
    """One completion: what it cost and whether the cache answered it."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    ms: float
    cached: bool = False
    attempts: int = 1


@dataclass
class Usage:
    """Running totals for a client (per process): calls, cache hits, tokens, time."""

    calls: int = 0
    cached: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    ms: float = 0.0
    failed: int = 0  # calls whose caller fell back after the model failed
    by_task: dict[str, dict[str, float]] = field(default_factory=dict)

    def add(self, task: str, call: Call) -> None:
        self.calls += 1
        self.cached += call.cached
        if not call.cached:
            self.prompt_tokens += call.prompt_tokens
            self.completion_tokens += call.completion_tokens
            self.ms += call.ms
        row = self.by_task.setdefault(task, {"calls": 0, "prompt_tokens": 0, "completion_tokens": 0,
                                             "ms": 0.0, "cached": 0})
        row["calls"] += 1
        row["cached"] += call.cached
        if not call.cached:
            row["prompt_tokens"] += call.prompt_tokens
            row["completion_tokens"] += call.completion_tokens
            row["ms"] += call.ms


class LLMClient:
    def __init__(self, config: LLMConfig, models_dir: Path | None = None) -> None:
        if not config.base_url:
            raise NoModelError("no model is configured: set MEMGRID_LLM_BASE_URL (an OpenAI-compatible "
                           "endpoint such as http://127.0.0.1:8080/v1, or 'local')")
        self.config = config
        self.models_dir = models_dir
        self.usage = Usage()
        self._cache: OrderedDict[str, Call] = OrderedDict()
        self._lock = threading.Lock()
        self._local: Any = None
        self._http: httpx.Client | None = None

    @property
    def model_name(self) -> str:
        if self.config.base_url == "local":
            from memgrid.llm.local import model_spec

            return model_spec(self.config.packaged_model).name
        return self.config.model or "default"

    def _endpoint(self) -> str:
        if self.config.base_url != "local":
            return str(self.config.base_url).rstrip("/")
        with self._lock:  # the packaged model, started on first use, in this process
            if self._local is None:
                from memgrid.llm.local import LocalServer

                if self.models_dir is None:
                    raise LLMError("the local model needs a models folder")
                self._local = LocalServer(self.config.packaged_model, self.models_dir,
                                          context=self.config.context_tokens)
            return str(self._local.base_url)

    def _client(self) -> httpx.Client:
        if self._http is None:
            headers = {"Authorization": f"Bearer {self.config.api_key}"} if self.config.api_key else {}
            self._http = httpx.Client(timeout=self.config.timeout, headers=headers)
        return self._http

    # -- calls

    def complete(self, messages: Messages, *, task: str = "complete", max_tokens: int | None = None,
                 schema: type[BaseModel] | None = None) -> Call:
        """A chat completion (temperature 0), from the cache when the same prompt was asked."""
        body: dict[str, Any] = {"model": self.model_name, "messages": messages, "temperature": 0,
                                "max_tokens": max_tokens or self.config.max_tokens}
        if schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": {
                "name": schema.__name__, "schema": schema.model_json_schema(), "strict": True}}
        key = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
        if hit is not None:
            call = Call(hit.text, hit.prompt_tokens, hit.completion_tokens, 0.0, cached=True)
            self.usage.add(task, call)
            return call
        call = self._post(body)
        with self._lock:
            if self.config.cache_size:
                self._cache[key] = call
                while len(self._cache) > self.config.cache_size:
                    self._cache.popitem(last=False)
        self.usage.add(task, call)
        return call

    def structured(self, messages: Messages, schema: type[T], *, task: str = "structured",
                   max_tokens: int | None = None) -> tuple[T, Call]:
        """Output that fits `schema`: asked for through the endpoint's JSON-schema mode, checked
        here, and asked again (with what was wrong) at most `max_retries` times."""
        asked = list(messages)
        problem = ""
        for attempt in range(self.config.max_retries + 1):
            call = self.complete(asked, task=task, max_tokens=max_tokens, schema=schema)
            try:
                return schema.model_validate_json(_json_part(call.text)), call
            except (ValidationError, ValueError) as exc:
                problem = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                call.attempts = attempt + 1
                asked = [*messages, {"role": "assistant", "content": call.text[:2000]},
                         {"role": "user", "content": f"That was not valid: {problem}. Answer again with "
                                                     f"only a JSON object that fits the schema."}]
        raise LLMError(f"the model's output never fit {schema.__name__} after "
                       f"{self.config.max_retries + 1} tries: {problem}")

    def _post(self, body: dict[str, Any]) -> Call:
        last = ""
        for attempt in range(self.config.max_retries + 1):
            started = time.perf_counter()
            try:
                answer = self._client().post(f"{self._endpoint()}/chat/completions", json=body)
            except httpx.HTTPError as exc:  # unreachable, reset, timed out: worth another try
                last = f"{type(exc).__name__}: {exc}"
            else:
                if answer.status_code < 400:
                    return _call(answer.json(), (time.perf_counter() - started) * 1000, attempt + 1)
                last = f"HTTP {answer.status_code}: {answer.text[:300]}"
                if answer.status_code < 500 and answer.status_code != 429:
                    raise LLMError(f"the model endpoint refused the request ({last})")
            time.sleep(min(4.0, 0.5 * 2 ** attempt))
        raise LLMError(f"the model endpoint failed {self.config.max_retries + 1} times; last: {last}")

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
        self._local = None  # xllamacpp stops its server when the object goes


def _call(payload: dict[str, Any], ms: float, attempts: int) -> Call:
    try:
        text = payload["choices"][0]["message"]["content"] or ""
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError(f"the model endpoint answered without a message: {str(payload)[:300]}") from exc
    usage = payload.get("usage") or {}
    return Call(text=str(text), prompt_tokens=int(usage.get("prompt_tokens") or 0),
                completion_tokens=int(usage.get("completion_tokens") or 0), ms=ms, attempts=attempts)


def _json_part(text: str) -> str:
    """The JSON object in an answer (some servers wrap it in a code fence despite the schema)."""
    start, end = text.find("{"), text.rfind("}")
    return text[start:end + 1] if start != -1 and end > start else text
