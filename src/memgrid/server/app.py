"""REST API (FastAPI). Thin: parse, authenticate, call MemoryService, map errors to 4xx."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Header, Query, Request, Response
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from pydantic import BaseModel, ConfigDict, Field
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from memgrid.access.models import ApiKey, AuditEvent, Grant, Principal, PrincipalKind, TenantSettings, Time
from memgrid.access.rules import Resource
from memgrid.errors import InvalidInputError, LLMError, NoModelError, NotFoundError, PermissionDeniedError
from memgrid.llm.answer import Answer
from memgrid.llm.background import ExtractionStatus
from memgrid.models import AddEvent, HistoryEntry, MemoryRecord, Page, RelatedMemory, SearchHit
from memgrid.server.browse import Browser, browse_routes
from memgrid.server.console import console_routes
from memgrid.server.deps import Caller, Ident, PathIdent, unauthorized
from memgrid.server.openapi import document
from memgrid.server.service import MemoryService, open_service
from memgrid.text import estimate_tokens

CONFIG_ENV = "MEMGRID_SERVE_CONFIG"  # MemgridConfig as JSON, for server processes started by uvicorn

MAX_BODY_BYTES = 2 * 1024 * 1024


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Message(_Body):
    role: Literal["user", "assistant", "system", "tool"] = "user"
    content: str
    speaker: str | None = None
    timestamp: str | float | None = None
    metadata: dict[str, Any] | None = None
    kind: Ident | None = Field(default=None, description="message (default), fact, event, ...")


def _text_or_messages(schema: dict[str, Any]) -> None:
    """The document says what the handler enforces: exactly one of the two, not null."""
    props = schema["properties"]
    props["text"] = {"type": "string", "minLength": 1, "title": "Text", "description": "one memory"}
    props["messages"] = {"type": "array", "minItems": 1, "title": "Messages",
                         "items": {"$ref": "#/components/schemas/Message"}}
    schema["oneOf"] = [{"required": ["text"]}, {"required": ["messages"]}]


class AddRequest(_Body):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_text_or_messages)
    text: str | None = Field(default=None, description="one memory; or use messages")
    messages: list[Message] | None = None
    user_id: Ident | None = Field(default=None, description="owner; defaults to the caller's user")
    session_id: Ident | None = None
    visibility: Literal["private", "shared"] = "private"
    metadata: dict[str, Any] | None = None
    timestamp: str | float | None = None
    infer: bool = Field(default=False, description="the server's model also extracts facts about the "
                        "user, in the background (501 without a model); GET /v1/extraction tells progress")


class AddResponse(BaseModel):
    memories: list[MemoryRecord]
    events: list[AddEvent] = Field(description="per input message: ADD, UPDATE or NONE")
    queued: bool = Field(default=False, description="fact extraction was queued (infer)")


class SearchRequest(_Body):
    query: str
    limit: int = Field(default=10, ge=1, le=1000)
    filters: dict[str, Any] | None = None
    session_id: Ident | None = None
    reference_time: str | float | None = None
    as_of: str | float | None = Field(default=None, description="only what was true at this time")
    include_archived: bool = False
    deep: bool = Field(default=False, description="the server's model splits the question and reranks "
                                                  "the top (501 without a model)")


class ContextRequest(_Body):
    query: str
    token_budget: int = Field(default=800, ge=16, le=100_000)
    reference_time: str | float | None = None


class AnswerRequest(_Body):
    question: str
    token_budget: int = Field(default=1500, ge=64, le=100_000)
    reference_time: str | float | None = None


class ContextResponse(BaseModel):
    context: str
    tokens: int = Field(description="the block's size in the estimate the token budget uses")


class UpdateRequest(_Body):
    text: str | None = None
    metadata: dict[str, Any] | None = None
    importance: float | None = Field(default=None, ge=0, le=1)
    event_time: str | float | None = Field(default=None, description="when it happened (ISO 8601)")


class EraseRequest(_Body):
    user_id: Ident


class CountResponse(BaseModel):
    count: int


class LifecycleRequest(_Body):
    user_id: Ident | None = Field(default=None, description="defaults to the caller's user")
    threshold: float | None = Field(default=None, gt=0, lt=1,
                                    description="archive: retention below this (default: the tenant's)")


class ConsolidateResponse(BaseModel):
    sessions: int
    created: int
    updated: int
    unchanged: int
    removed: int
    topics: int
    topics_created: int
    topics_updated: int
    topics_unchanged: int
    topics_removed: int
    backfilled: int


class PrincipalRequest(_Body):
    kind: PrincipalKind
    name: Ident
    acts_for: list[Ident] | None = None


class KeyRequest(_Body):
    principal_id: Ident
    expires_at: Time | None = Field(default=None, description="ISO 8601; a non-admin's key expires "
                                                              "no later than the key that makes it")


class TenantRequest(_Body):
    name: Ident


class TenantCreated(BaseModel):
    tenant_id: str
    admin: Principal
    api_key: str = Field(description="the tenant admin's key, shown once")


class GrantRequest(_Body):
    grantee: Ident
    owner: Ident | None = None
    resource: Resource = "all"
    value: Ident | None = None
    read: bool = True
    write: bool = False
    valid_from: Time | None = None
    valid_to: Time | None = None




class LimitsAndMetrics:
    """Body-size limit and per-route metrics as plain ASGI: Starlette's `@app.middleware`
    (BaseHTTPMiddleware) runs each request through an extra task and memory stream, which
    showed up across a loaded server's profile (py-spy)."""

    def __init__(self, app: ASGIApp, requests: Counter, latency: Histogram) -> None:
        self.app, self.requests, self.latency = app, requests, latency

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY_BYTES):
            await _too_large(scope, receive, send)
            return
        status = 500  # unless the app starts a response
        received = 0
        refused = False

        async def counted_receive() -> AsgiMessage:
            """The limit counts the bytes that arrive, so a chunked body cannot pass it."""
            nonlocal received, refused
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > MAX_BODY_BYTES:
                    refused = True
                    raise BodyTooLarge
            return message

        async def send_noting_status(message: AsgiMessage) -> None:
            nonlocal status
            if refused:
                return  # whatever the app answers to a cut-off body, the client gets the 413
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        start = time.perf_counter()
        try:
            await self.app(scope, counted_receive, send_noting_status)
        except BodyTooLarge:
            pass
        finally:
            if refused:
                status = 413
                await _too_large(scope, receive, send)
            name = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(name, str(status)).inc()
            self.latency.labels(name).observe(time.perf_counter() - start)


class BodyTooLarge(Exception):
    """Raised into the app when a request body passes the limit while it streams in."""


async def _too_large(scope: Scope, receive: Receive, send: Send) -> None:
    reply = JSONResponse({"detail": f"request body over {MAX_BODY_BYTES} bytes"}, status_code=413)
    await reply(scope, receive, send)


def docs_routes(app: FastAPI) -> None:
    """Swagger UI from files in the wheel (swagger-ui-bundle), not a CDN: /docs works offline.
    The OpenAPI document declares the bearer scheme, so 'Authorize' takes an API key."""
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles
    from swagger_ui_bundle import swagger_ui_path

    app.mount("/docs-assets", StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/openapi.json", title="memgrid API",
                                   swagger_js_url="/docs-assets/swagger-ui-bundle.js",
                                   swagger_css_url="/docs-assets/swagger-ui.css",
                                   swagger_favicon_url="/docs-assets/favicon-32x32.png")


def create_app(service: MemoryService, root_key: str | None = None,
               close_at_shutdown: bool = False) -> FastAPI:
    """`root_key` (from MEMGRID_ROOT_KEY at `memgrid serve`) may create tenants over REST;
    without it tenants are created with `memgrid admin create-tenant`. `close_at_shutdown`
    when the app owns the service (a server process): pending recall counts and the vector
    index file are written when the server stops, not left to the next start."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        if close_at_shutdown:
            service.close()

    app = FastAPI(title="memgrid", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="Long-term memory for AI agents, shared safely.")
    docs_routes(app)
    app.state.service = service
    registry = CollectorRegistry()
    requests = Counter("memgrid_requests", "requests by route and status", ["route", "status"],
                       registry=registry)
    latency = Histogram("memgrid_request_seconds", "request latency by route", ["route"],
                        registry=registry)

    app.add_middleware(LimitsAndMetrics, requests=requests, latency=latency)

    for error, status in ((InvalidInputError, 422), (NotFoundError, 404), (PermissionDeniedError, 403),
                          (NoModelError, 501), (LLMError, 502)):
        def handler(_: Request, exc: Exception, status: int = status) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=status)

        app.add_exception_handler(error, handler)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        """Liveness: answers while the process serves requests (no key needed)."""
        return {"status": "ok"}

    @app.get("/metrics", response_class=PlainTextResponse)
    def metrics() -> str:
        """Prometheus metrics: requests, latencies and errors per route (no key needed)."""
        return generate_latest(registry).decode()

    @app.post("/v1/memories", status_code=201)
    def add(body: AddRequest, p: Caller,
            events: Annotated[bool, Query(description="answer {memories, events}, not the list")] = False,
            idempotency_key: Annotated[str | None, Header(
                alias="Idempotency-Key", max_length=256,
                description="the same key on a retry stores nothing twice")] = None,
            ) -> list[MemoryRecord] | AddResponse:
        """Store text or chat messages verbatim for the caller's user (or the user an agent acts for)."""
        if (body.text is None) == (body.messages is None):
            raise InvalidInputError("send exactly one of 'text' or 'messages'")
        data: Any = body.text if body.text is not None else [
            m.model_dump(exclude_none=True) for m in body.messages or []]
        added = service.add(p, data, user_id=body.user_id, session_id=body.session_id,
                            visibility=body.visibility, metadata=body.metadata, timestamp=body.timestamp,
                            idempotency_key=idempotency_key, infer=body.infer)
        return (AddResponse(memories=list(added), events=added.events, queued=added.queued) if events
                else list(added))

    @app.get("/v1/extraction")
    def extraction(p: Caller, user_id: Annotated[Ident | None, Query(
            description="one user (admins: leave out for the whole tenant)")] = None) -> ExtractionStatus:
        """Progress of background fact extraction (adds with infer): jobs by state, newest errors."""
        return service.extraction_status(p, user_id)

    @app.post("/v1/memories/search")
    def search(body: SearchRequest, p: Caller) -> list[SearchHit]:
        """Hybrid recall over the memories the caller may read, best first, with channel scores."""
        return service.search(p, body.query, limit=body.limit, filters=body.filters,
                              session_id=body.session_id, reference_time=body.reference_time,
                              as_of=body.as_of, include_archived=body.include_archived, deep=body.deep)

    @app.post("/v1/context")
    def context(body: ContextRequest, p: Caller) -> ContextResponse:
        """A prompt-ready block of the memories relevant to a query, within a token budget."""
        block = service.context(p, body.query, token_budget=body.token_budget,
                                reference_time=body.reference_time)
        return ContextResponse(context=block, tokens=estimate_tokens(block) if block else 0)

    @app.post("/v1/answer")
    def answer(body: AnswerRequest, p: Caller) -> Answer:
        """The server's model answers from the memories the caller may read, citing their ids
        (501 when the server has no model, 502 when the model fails)."""
        return service.answer(p, body.question, token_budget=body.token_budget,
                              reference_time=body.reference_time)

    @app.get("/v1/memories")
    def list_memories(p: Caller, user_id: Annotated[Ident | None, Query()] = None,
                      session_id: Annotated[Ident | None, Query()] = None,
                      agent_id: Annotated[Ident | None, Query()] = None,
                      kind: Annotated[list[Ident] | None, Query(description="any of these kinds")] = None,
                      visibility: Annotated[Literal["private", "shared"] | None, Query()] = None,
                      event_after: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
                      event_before: Annotated[str | None, Query(description="ISO 8601, inclusive")] = None,
                      archived: Annotated[bool | None, Query(description="only archived (true) or "
                                                             "only live (false); both when left out")] = None,
                      order: Annotated[Literal["oldest", "newest"], Query()] = "oldest",
                      cursor: Annotated[Ident | None, Query()] = None,
                      limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> Page:
        """Readable memories in insertion order (or newest first), a page at a time (pass
        next_cursor back with the same order)."""
        filters = {k: v for k, v in {"kind": kind, "visibility": visibility, "event_after": event_after,
                                     "event_before": event_before}.items() if v is not None}
        return service.list_memories(p, user_id=user_id, session_id=session_id, agent_id=agent_id,
                                     filters=filters or None, archived=archived,
                                     newest_first=order == "newest", cursor=cursor, limit=limit)

    @app.get("/v1/memories/{memory_id}")
    def get(memory_id: PathIdent, p: Caller) -> MemoryRecord:
        """One memory; 404 when it does not exist or the caller may not read it."""
        return service.get(p, memory_id)

    @app.patch("/v1/memories/{memory_id}")
    def update(memory_id: PathIdent, body: UpdateRequest, p: Caller) -> MemoryRecord:
        """Change a memory in place ; the old version stays in its history."""
        return service.update(p, memory_id, text=body.text, metadata=body.metadata,
                              importance=body.importance, event_time=body.event_time)

    @app.delete("/v1/memories/{memory_id}", status_code=204)
    def delete(memory_id: PathIdent, p: Caller) -> Response:
        """Remove a memory from search and listing; its versions stay in history until erase."""
        service.delete(p, memory_id)
        return Response(status_code=204)

    @app.get("/v1/memories/{memory_id}/history")
    def history(memory_id: PathIdent, p: Caller) -> list[HistoryEntry]:
        """Every version of a memory, oldest first."""
        return service.history(p, memory_id)

    @app.get("/v1/memories/{memory_id}/chain")
    def chain(memory_id: PathIdent, p: Caller) -> list[MemoryRecord]:
        """A fact's versions across memories, oldest first (supersedes / superseded_by)."""
        return service.chain(p, memory_id)

    @app.get("/v1/memories/{memory_id}/related")
    def related(memory_id: PathIdent, p: Caller,
                limit: Annotated[int, Query(ge=1, le=100)] = 10) -> list[RelatedMemory]:
        """Memories linked to this one on write, as far as the caller may read them."""
        return service.related(p, memory_id, limit)

    @app.post("/v1/erase")
    def erase(body: EraseRequest, p: Caller) -> CountResponse:
        """Remove every trace of a user, agent or one owner's session: rows, full text, vectors, history."""
        return CountResponse(count=service.erase(p, body.user_id))

    @app.post("/v1/lifecycle/consolidate")
    def consolidate(body: LifecycleRequest, p: Caller) -> ConsolidateResponse:
        """Build or refresh session summaries and topics for a user."""
        return ConsolidateResponse(**service.consolidate(p, body.user_id).counts())

    @app.post("/v1/lifecycle/archive")
    def archive(body: LifecycleRequest, p: Caller) -> CountResponse:
        """Move a user's cold memories out of default search (they stay listed and exportable)."""
        return CountResponse(count=service.archive_cold(p, body.user_id, body.threshold))

    @app.get("/v1/lifecycle/profile")
    def profile(p: Caller, user_id: Annotated[Ident | None, Query()] = None) -> dict[str, MemoryRecord]:
        """The facts currently true about a user, one per attribute."""
        return service.profile(p, user_id)

    @app.post("/v1/admin/tenants", status_code=201)
    def create_tenant(body: TenantRequest,
                      authorization: Annotated[str | None, Header()] = None) -> TenantCreated:
        """Create a tenant and its first admin key (needs the server's root key)."""
        presented = (authorization or "")[7:].strip()
        if root_key is None or not hmac.compare_digest(presented.encode(), root_key.encode()):
            raise unauthorized("creating tenants needs the server's root key (MEMGRID_ROOT_KEY)")
        tenant_id, admin, key = service.access.create_tenant(body.name)
        service.access.audit(tenant_id, None, "tenant.create", tenant_id, "ok")
        return TenantCreated(tenant_id=tenant_id, admin=admin, api_key=key)

    @app.get("/v1/admin/settings")
    def settings(p: Caller) -> TenantSettings:
        """The tenant's lifecycle policy (unset fields use the server's defaults)."""
        return service.settings(p)

    @app.put("/v1/admin/settings")
    def update_settings(body: TenantSettings, p: Caller) -> TenantSettings:
        """Replace the tenant's lifecycle policy (admins)."""
        return service.update_settings(p, body)

    @app.get("/v1/admin/tenant")
    def tenant(p: Caller) -> dict[str, Any]:
        """The caller's tenant: principals and memory counts (admins)."""
        return {"tenant_id": p.tenant_id, "principals": [x.model_dump() for x in service.principals(p)]}

    @app.post("/v1/admin/principals", status_code=201)
    def create_principal(body: PrincipalRequest, p: Caller) -> Principal:
        """Create a user or agent principal in the caller's tenant (admins)."""
        return service.create_principal(p, body.kind, body.name, body.acts_for)

    @app.get("/v1/admin/principals")
    def principals(p: Caller) -> list[Principal]:
        """The principals of the caller's tenant (admins)."""
        return service.principals(p)

    @app.post("/v1/keys", status_code=201)
    def create_key(body: KeyRequest, p: Caller) -> ApiKey:
        """Create an API key for a principal; the secret is in this answer only."""
        return service.create_key(p, body.principal_id, body.expires_at)

    @app.get("/v1/keys")
    def keys(p: Caller) -> list[ApiKey]:
        """Admins: every key of the tenant; others: their own. Secrets are never shown again."""
        return service.keys(p)

    @app.delete("/v1/keys/{key_id}", status_code=204)
    def revoke_key(key_id: PathIdent, p: Caller) -> Response:
        """Revoke an API key at once."""
        service.revoke_key(p, key_id)
        return Response(status_code=204)

    @app.post("/v1/grants", status_code=201)
    def create_grant(body: GrantRequest, p: Caller) -> Grant:
        """Let another principal read (or write) some of the caller's shared memories."""
        return service.create_grant(p, Grant(tenant_id=p.tenant_id, **body.model_dump()))

    @app.get("/v1/grants")
    def grants(p: Caller) -> list[Grant]:
        """Grants the caller holds or gave (admins: all of the tenant's)."""
        return service.grants(p)

    @app.delete("/v1/grants/{grant_id}", status_code=204)
    def revoke_grant(grant_id: PathIdent, p: Caller) -> Response:
        """Revoke a grant at once."""
        service.revoke_grant(p, grant_id)
        return Response(status_code=204)

    @app.get("/v1/audit")
    def audit(p: Caller, after_id: Annotated[int, Query(ge=0, le=2**62)] = 0,
              limit: Annotated[int, Query(ge=1, le=1000)] = 100,
              principal_id: Annotated[Ident | None, Query()] = None,
              action: Annotated[Ident | None, Query()] = None,
              before_id: Annotated[int | None, Query(ge=1, le=2**62, description=(
                  "only events before this id (with order=newest, to page back)"))] = None,
              order: Annotated[Literal["oldest", "newest"], Query()] = "oldest") -> list[AuditEvent]:
        """The tenant's audit log after after_id: who did what, when, with what result (admins)."""
        return service.audit_log(p, after_id, limit, principal_id, action, before_id, order == "newest")

    browse_routes(app, Browser(service))
    console_routes(app)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = document(get_openapi(
                title=app.title, version=app.version, description=app.description, routes=app.routes))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app


def app_from_env() -> FastAPI:
    """The app for one of several worker processes: uvicorn imports this in each one, and each
    opens its own service (its own connection pools) from the config `memgrid serve` put in
    the environment."""
    from memgrid.config import MemgridConfig

    config = MemgridConfig.model_validate_json(os.environ[CONFIG_ENV])
    return create_app(open_service(config), os.environ.get("MEMGRID_ROOT_KEY") or None,
                      close_at_shutdown=True)
