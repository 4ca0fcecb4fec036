"""MCP server (official SDK): remember, recall, get_context, forget — as one authenticated principal."""

from __future__ import annotations

from typing import Any

from mcp.server.mcpserver import MCPServer

from memgrid.errors import PermissionDeniedError
from memgrid.server.service import MemoryService


def build_mcp(service: MemoryService, api_key: str) -> MCPServer:
    principal = service.access.authenticate(api_key)
    if principal is None:
        raise PermissionDeniedError("MCP server: the API key is unknown, revoked or expired")
    server = MCPServer("memgrid", instructions=(
        "Long-term memory. Call recall or get_context before answering questions about the user's "
        "past; call remember for facts worth keeping."))

    def caller() -> Any:
        # re-check on every call: a revoked key stops working at once
        current = service.access.authenticate(api_key)
        if current is None:
            raise PermissionDeniedError("the API key was revoked or expired")
        return current

    @server.tool()
    def remember(text: str, session_id: str | None = None, visibility: str = "private",
                 user_id: str | None = None) -> list[dict[str, Any]]:
        """Store a memory verbatim for the user (or the user this agent acts for)."""
        added = service.add(caller(), text, user_id=user_id, session_id=session_id, visibility=visibility)
        return [{"id": m.id, "text": m.text} for m in added]

    @server.tool()
    def recall(query: str, limit: int = 10) -> list[dict[str, Any]]:
        """Search the memories this principal may read; best first, with dates and ids."""
        hits = service.search(caller(), query, limit=limit)
        return [{"id": h.memory.id, "text": h.memory.text, "score": round(h.score, 5),
                 "event_time": h.memory.event_time.isoformat() if h.memory.event_time else None,
                 "user_id": h.memory.user_id} for h in hits]

    @server.tool()
    def get_context(query: str, token_budget: int = 800) -> str:
        """A prompt-ready block of relevant memories within a token budget."""
        return service.context(caller(), query, token_budget=token_budget)

    @server.tool()
    def related(memory_id: str, limit: int = 10) -> list[dict[str, Any]]:
        """Memories linked to a recalled one (similar meaning, same people or things)."""
        return [{"id": r.memory.id, "text": r.memory.text, "weight": r.weight, "kinds": r.kinds}
                for r in service.related(caller(), memory_id, limit)]

    @server.tool()
    def forget(memory_id: str) -> str:
        """Delete one memory this principal may change."""
        service.delete(caller(), memory_id)
        return f"deleted {memory_id}"

    del principal
    return server
