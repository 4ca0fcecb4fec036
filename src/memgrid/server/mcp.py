"""MCP server (official SDK): remember, recall, get_context, related, forget.

Over stdio it acts as the principal of one API key (MEMGRID_API_KEY). Over streamable HTTP every
request carries its own key (`Authorization: Bearer`), checked before the request reaches the
MCP session and again by each tool call, so nobody who merely reaches the port can read or write.
"""

from __future__ import annotations

import logging
from typing import Any

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from memgrid.access.models import Principal
from memgrid.errors import MemgridError, PermissionDeniedError
from memgrid.server.service import MemoryService

log = logging.getLogger("memgrid.mcp")

TOOL_ARGS = {
    "remember": {"text", "session_id", "visibility", "user_id", "infer"},
    "recall": {"query", "limit", "deep"},
    "get_context": {"query", "token_budget"},
    "answer": {"question", "token_budget"},
    "related": {"memory_id", "limit"},
    "forget": {"memory_id"},
}


def bearer(headers: Any) -> str | None:
    value = headers.get("authorization") if headers is not None else None
    if not value or not value.startswith("Bearer "):
        return None
    return str(value[7:].strip())


def build_mcp(service: MemoryService, api_key: str | None) -> MCPServer:
    """`api_key`: the principal of a stdio server; None for HTTP, where each request brings one."""
    if api_key is not None and service.access.authenticate(api_key) is None:
        raise PermissionDeniedError("MCP server: the API key is unknown, revoked or expired")
    server = MCPServer("memgrid", instructions=(
        "Long-term memory. Call recall or get_context before answering questions about the user's "
        "past; call remember for facts worth keeping."))

    def caller(ctx: Context, tool: str) -> Principal:
        """Checked on every call: a revoked key stops working at once. Unknown arguments are
        refused rather than ignored."""
        params = ctx.request_context.params or {}
        unknown = set(params.get("arguments") or {}) - TOOL_ARGS[tool]
        if unknown:
            raise ToolError(f"unknown argument(s) {sorted(unknown)}; {tool} takes {sorted(TOOL_ARGS[tool])}")
        request = ctx.request_context.request
        key = bearer(getattr(request, "headers", None)) if request is not None else api_key
        current = service.access.authenticate(key) if key else None
        if current is None:
            raise ToolError("the API key is missing, unknown, revoked or expired")
        return current

    def run(tool: str, ctx: Context, action: Any) -> Any:
        """memgrid's errors become the tool's error text (one log line, no traceback)."""
        try:
            return action(caller(ctx, tool))
        except MemgridError as exc:
            raise ToolError(str(exc)) from None

    @server.tool()
    def remember(text: str, ctx: Context, session_id: str | None = None, visibility: str = "private",
                 user_id: str | None = None, infer: bool = False) -> list[dict[str, Any]]:
        """Store a memory verbatim for the user (or the user this agent acts for). `infer`: the
        server's model also extracts facts from it, in the background."""
        added = run("remember", ctx, lambda p: service.add(p, text, user_id=user_id, session_id=session_id,
                                                           visibility=visibility, infer=infer))
        return [{"id": m.id, "text": m.text} for m in added]

    @server.tool()
    def recall(query: str, ctx: Context, limit: int = 10, deep: bool = False) -> list[dict[str, Any]]:
        """Search the memories this principal may read; best first, with dates and ids. `deep`:
        the server's model splits a multi-hop question and reranks the top."""
        hits = run("recall", ctx, lambda p: service.search(p, query, limit=limit, deep=deep))
        return [{"id": h.memory.id, "text": h.memory.text, "score": round(h.score, 5),
                 "event_time": h.memory.event_time.isoformat() if h.memory.event_time else None,
                 "user_id": h.memory.user_id} for h in hits]

    @server.tool()
    def get_context(query: str, ctx: Context, token_budget: int = 800) -> str:
        """A prompt-ready block of relevant memories within a token budget."""
        return str(run("get_context", ctx, lambda p: service.context(p, query, token_budget=token_budget)))

    @server.tool()
    def answer(question: str, ctx: Context, token_budget: int = 1500) -> dict[str, Any]:
        """The server's model answers from the memories this principal may read, citing their ids
        ("I don't know" when they do not hold the answer)."""
        out = run("answer", ctx, lambda p: service.answer(p, question, token_budget=token_budget))
        return {"answer": out.text, "citations": out.citations, "known": out.known}

    @server.tool()
    def related(memory_id: str, ctx: Context, limit: int = 10) -> list[dict[str, Any]]:
        """Memories linked to a recalled one (similar meaning, same people or things)."""
        found = run("related", ctx, lambda p: service.related(p, memory_id, limit))
        return [{"id": r.memory.id, "text": r.memory.text, "weight": r.weight, "kinds": r.kinds}
                for r in found]

    @server.tool()
    def forget(memory_id: str, ctx: Context) -> str:
        """Delete one memory this principal may change."""
        run("forget", ctx, lambda p: service.delete(p, memory_id))
        return f"deleted {memory_id}"

    return server


class BearerGate:
    """Refuses an HTTP request without a valid key (401) before it opens or reaches a session."""

    def __init__(self, app: ASGIApp, service: MemoryService) -> None:
        self.app, self.service = app, service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            key = bearer(headers)
            if key is None or self.service.access.authenticate(key) is None:
                from starlette.responses import JSONResponse

                reply = JSONResponse({"detail": "send 'Authorization: Bearer <api key>' with a valid key"},
                                     status_code=401, headers={"WWW-Authenticate": "Bearer"})
                await reply(scope, receive, send)
                return
        await self.app(scope, receive, send)


def http_app(service: MemoryService) -> Starlette:
    """The streamable-HTTP app at /mcp, every request authenticated by its own key."""
    app = build_mcp(service, None).streamable_http_app()
    app.add_middleware(BearerGate, service=service)
    return app
