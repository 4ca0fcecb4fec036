"""Python client for the REST server: the same verbs as `memgrid.Memory`, sync and async.

`AsyncClient` runs the one sync implementation in worker threads (as `AsyncMemory` does), so
the two can never drift apart.
"""

from __future__ import annotations

import builtins
import uuid
from datetime import datetime
from typing import Any

import httpx

from memgrid.access.models import ApiKey, AuditEvent, Grant, Principal, TenantSettings
from memgrid.errors import (
    AuthenticationError,
    InvalidInputError,
    LLMError,
    MemgridError,
    NoModelError,
    NotFoundError,
    PermissionDeniedError,
    ServerUnavailableError,
)
from memgrid.llm.answer import Answer
from memgrid.llm.background import ExtractionStatus
from memgrid.models import (
    Added,
    AddEvent,
    ErasePreview,
    HistoryEntry,
    MemoryGraph,
    MemoryRecord,
    Page,
    RelatedMemory,
    SearchHit,
    SessionSummary,
    StoreCounts,
)
from memgrid.threads import in_thread

_ERRORS: dict[int, type[MemgridError]] = {
    401: AuthenticationError, 403: PermissionDeniedError, 404: NotFoundError,
    413: InvalidInputError, 422: InvalidInputError, 501: NoModelError, 502: LLMError,
}


def _iso(value: datetime | str | float | None) -> str | float | None:
    return value.isoformat() if isinstance(value, datetime) else value


class Client:
    """`Client("http://127.0.0.1:8420", api_key="mg_...")`; errors raise memgrid's own types."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0,
                 http: httpx.Client | None = None) -> None:
        """`http` lets callers bring their own configured client (proxies, TLS, test apps)."""
        self.http = http or httpx.Client(base_url=base_url, timeout=timeout)
        self.headers = {"Authorization": f"Bearer {api_key}"}

    def _call(self, method: str, path: str, **kw: Any) -> Any:
        try:
            headers = {**self.headers, **kw.pop("headers", {})}
            response = self.http.request(method, path, headers=headers, **kw)
        except httpx.TransportError as exc:
            raise ServerUnavailableError(
                f"cannot reach the memgrid server at {self.http.base_url} ({exc}); is it running?") from None
        if response.status_code >= 400:
            try:
                detail = response.json().get("detail", response.text)
            except ValueError:
                detail = response.text
            raise _ERRORS.get(response.status_code, MemgridError)(f"{response.status_code}: {detail}")
        return None if response.status_code == 204 else response.json()

    def add(self, data: str | builtins.list[dict[str, Any]], *, user_id: str | None = None,
            session_id: str | None = None, visibility: str = "private",
            metadata: dict[str, Any] | None = None, timestamp: Any = None,
            idempotency_key: str | None = None, infer: bool = False) -> Added:
        """Like Memory.add. Each call sends an idempotency key (a fresh one unless given), so a
        retry after a lost connection, with the same key, stores nothing twice. `infer`: the
        server's model extracts facts in the background (`extraction_status()`)."""
        body: dict[str, Any] = {"user_id": user_id, "session_id": session_id, "visibility": visibility,
                                "metadata": metadata, "timestamp": timestamp, "infer": infer}
        body["text" if isinstance(data, str) else "messages"] = data
        key = idempotency_key or uuid.uuid4().hex
        found = self._call("POST", "/v1/memories", json=body, params={"events": "true"},
                           headers={"Idempotency-Key": key})
        return Added([MemoryRecord.model_validate(r) for r in found["memories"]],
                     [AddEvent.model_validate(e) for e in found["events"]], queued=bool(found.get("queued")))

    def extraction_status(self, *, user_id: str | None = None) -> ExtractionStatus:
        """Progress of the server's background fact extraction (adds with `infer`)."""
        return ExtractionStatus.model_validate(self._call("GET", "/v1/extraction",
                                                          params={"user_id": user_id} if user_id else None))

    def search(self, query: str, *, limit: int = 10, filters: dict[str, Any] | None = None,
               session_id: str | None = None, reference_time: Any = None, as_of: Any = None,
               include_archived: bool = False, deep: bool = False) -> builtins.list[SearchHit]:
        body = {"query": query, "limit": limit, "filters": filters, "session_id": session_id,
                "reference_time": _iso(reference_time), "as_of": _iso(as_of),
                "include_archived": include_archived, "deep": deep}
        extra = {"timeout": 300.0} if deep else {}  # the server's model reads the candidates
        return [SearchHit.model_validate(h)
                for h in self._call("POST", "/v1/memories/search", json=body, **extra)]

    def context(self, query: str, *, token_budget: int = 800) -> str:
        return str(self._call("POST", "/v1/context", json={"query": query,
                                                           "token_budget": token_budget})["context"])

    def answer(self, question: str, *, token_budget: int = 1500, timeout: float = 300.0) -> Answer:
        """The server's model answers from what this key may read (a model takes its time)."""
        return Answer.model_validate(self._call("POST", "/v1/answer", timeout=timeout,
                                                json={"question": question, "token_budget": token_budget}))

    def get(self, memory_id: str) -> MemoryRecord:
        return MemoryRecord.model_validate(self._call("GET", f"/v1/memories/{memory_id}"))

    def list(self, *, user_id: str | None = None, session_id: str | None = None,
             agent_id: str | None = None, kind: str | builtins.list[str] | None = None,
             visibility: str | None = None, event_after: Any = None, event_before: Any = None,
             archived: bool | None = None, newest_first: bool = False,
             cursor: str | None = None, limit: int = 100) -> Page:
        """A page of readable memories; pass next_cursor back with the same order."""
        params = {k: v for k, v in {
            "user_id": user_id, "session_id": session_id, "agent_id": agent_id, "kind": kind,
            "visibility": visibility, "event_after": _iso(event_after), "event_before": _iso(event_before),
            "archived": None if archived is None else str(archived).lower(),
            "order": "newest" if newest_first else None, "cursor": cursor, "limit": limit,
        }.items() if v is not None}
        return Page.model_validate(self._call("GET", "/v1/memories", params=params))

    def update(self, memory_id: str, *, text: str | None = None, metadata: dict[str, Any] | None = None,
               importance: float | None = None, event_time: Any = None) -> MemoryRecord:
        body = {"text": text, "metadata": metadata, "importance": importance, "event_time": event_time}
        return MemoryRecord.model_validate(self._call("PATCH", f"/v1/memories/{memory_id}", json=body))

    def delete(self, memory_id: str) -> None:
        self._call("DELETE", f"/v1/memories/{memory_id}")

    def history(self, memory_id: str) -> builtins.list[HistoryEntry]:
        entries = self._call("GET", f"/v1/memories/{memory_id}/history")
        return [HistoryEntry.model_validate(h) for h in entries]

    def chain(self, memory_id: str) -> builtins.list[MemoryRecord]:
        return [MemoryRecord.model_validate(r) for r in self._call("GET", f"/v1/memories/{memory_id}/chain")]

    def related(self, memory_id: str, *, limit: int = 10) -> builtins.list[RelatedMemory]:
        found = self._call("GET", f"/v1/memories/{memory_id}/related", params={"limit": limit})
        return [RelatedMemory.model_validate(r) for r in found]

    def graph(self, memory_id: str, *, depth: int = 2, limit: int = 40) -> MemoryGraph:
        found = self._call("GET", f"/v1/memories/{memory_id}/graph", params={"depth": depth, "limit": limit})
        return MemoryGraph.model_validate(found)

    def sessions(self, *, user_id: str | None = None, limit: int = 100) -> builtins.list[SessionSummary]:
        params = {k: v for k, v in {"user_id": user_id, "limit": limit}.items() if v is not None}
        return [SessionSummary.model_validate(s) for s in self._call("GET", "/v1/sessions", params=params)]

    def stats(self) -> StoreCounts:
        return StoreCounts.model_validate(self._call("GET", "/v1/stats"))

    def erase_preview(self, *, user_id: str) -> ErasePreview:
        found = self._call("GET", "/v1/erase/preview", params={"user_id": user_id})
        return ErasePreview.model_validate(found)

    def settings(self) -> TenantSettings:
        return TenantSettings.model_validate(self._call("GET", "/v1/admin/settings"))

    def update_settings(self, settings: TenantSettings) -> TenantSettings:
        body = settings.model_dump(exclude_none=True)
        return TenantSettings.model_validate(self._call("PUT", "/v1/admin/settings", json=body))

    def erase(self, *, user_id: str) -> int:
        return int(self._call("POST", "/v1/erase", json={"user_id": user_id})["count"])

    def consolidate(self, *, user_id: str | None = None) -> dict[str, int]:
        return dict(self._call("POST", "/v1/lifecycle/consolidate", json={"user_id": user_id}))

    def archive_cold(self, *, user_id: str | None = None, threshold: float | None = None) -> int:
        """Archive cold memories; the threshold defaults to the tenant's policy."""
        body = {"user_id": user_id, "threshold": threshold}
        return int(self._call("POST", "/v1/lifecycle/archive", json=body)["count"])

    def profile(self, *, user_id: str | None = None) -> dict[str, MemoryRecord]:
        params = {"user_id": user_id} if user_id else {}
        facts = self._call("GET", "/v1/lifecycle/profile", params=params)
        return {k: MemoryRecord.model_validate(v) for k, v in facts.items()}

    def create_principal(self, kind: str, name: str,
                         acts_for: builtins.list[str] | None = None) -> Principal:
        body = {"kind": kind, "name": name, "acts_for": acts_for}
        return Principal.model_validate(self._call("POST", "/v1/admin/principals", json=body))

    def principals(self) -> builtins.list[Principal]:
        return [Principal.model_validate(p) for p in self._call("GET", "/v1/admin/principals")]

    def create_key(self, principal_id: str, expires_at: datetime | str | float | None = None) -> ApiKey:
        """`expires_at`: a datetime, an ISO 8601 string or epoch seconds."""
        body = {"principal_id": principal_id, "expires_at": _iso(expires_at)}
        return ApiKey.model_validate(self._call("POST", "/v1/keys", json=body))

    def keys(self) -> builtins.list[ApiKey]:
        return [ApiKey.model_validate(k) for k in self._call("GET", "/v1/keys")]

    def revoke_key(self, key_id: str) -> None:
        self._call("DELETE", f"/v1/keys/{key_id}")

    def grant(self, grantee: str, *, resource: str = "all", value: str | None = None,
              read: bool = True, write: bool = False, valid_from: datetime | str | float | None = None,
              valid_to: datetime | str | float | None = None, owner: str | None = None) -> Grant:
        body = {"grantee": grantee, "resource": resource, "value": value, "read": read, "write": write,
                "valid_from": _iso(valid_from), "valid_to": _iso(valid_to), "owner": owner}
        return Grant.model_validate(self._call("POST", "/v1/grants", json=body))

    def grants(self) -> builtins.list[Grant]:
        return [Grant.model_validate(g) for g in self._call("GET", "/v1/grants")]

    def audit(self, *, after_id: int = 0, limit: int = 100, principal_id: str | None = None,
              action: str | None = None, before_id: int | None = None,
              newest_first: bool = False) -> builtins.list[AuditEvent]:
        params = {k: v for k, v in {"after_id": after_id, "limit": limit, "principal_id": principal_id,
                                    "action": action, "before_id": before_id,
                                    "order": "newest" if newest_first else None}.items() if v is not None}
        return [AuditEvent.model_validate(e) for e in self._call("GET", "/v1/audit", params=params)]

    def revoke_grant(self, grant_id: str) -> None:
        self._call("DELETE", f"/v1/grants/{grant_id}")

    def close(self) -> None:
        self.http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()




class AsyncClient:
    def __init__(self, base_url: str, api_key: str, timeout: float = 30.0,
                 http: httpx.Client | None = None) -> None:
        self.sync = Client(base_url, api_key, timeout, http)

    add = in_thread(Client.add)
    search = in_thread(Client.search)
    context = in_thread(Client.context)
    answer = in_thread(Client.answer)
    extraction_status = in_thread(Client.extraction_status)
    get = in_thread(Client.get)
    list = in_thread(Client.list)
    update = in_thread(Client.update)
    delete = in_thread(Client.delete)
    history = in_thread(Client.history)
    related = in_thread(Client.related)
    chain = in_thread(Client.chain)
    graph = in_thread(Client.graph)
    sessions = in_thread(Client.sessions)
    stats = in_thread(Client.stats)
    erase_preview = in_thread(Client.erase_preview)
    settings = in_thread(Client.settings)
    update_settings = in_thread(Client.update_settings)
    erase = in_thread(Client.erase)
    consolidate = in_thread(Client.consolidate)
    archive_cold = in_thread(Client.archive_cold)
    profile = in_thread(Client.profile)
    create_principal = in_thread(Client.create_principal)
    create_key = in_thread(Client.create_key)
    keys = in_thread(Client.keys)
    principals = in_thread(Client.principals)
    grants = in_thread(Client.grants)
    audit = in_thread(Client.audit)
    revoke_key = in_thread(Client.revoke_key)
    grant = in_thread(Client.grant)
    revoke_grant = in_thread(Client.revoke_grant)
    close = in_thread(Client.close)
