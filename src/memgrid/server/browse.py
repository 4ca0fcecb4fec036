"""Read views for people looking at a store (the web console): a user's sessions, counts, the
link graph around a memory, and what an erase would remove. Each is checked and audited like
every other service call, and reads only what the caller may read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import FastAPI, Query

from memgrid.access.models import Principal
from memgrid.errors import InvalidInputError, PermissionDeniedError
from memgrid.models import (
    ErasePreview,
    GraphEdge,
    MemoryGraph,
    OwnerSummary,
    Scope,
    SessionSummary,
    StoreCounts,
)
from memgrid.server.deps import Caller, Ident, PathIdent
from memgrid.server.service import MemoryService
from memgrid.validation import Filters, check_scope_value


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


class Browser:
    def __init__(self, service: MemoryService) -> None:
        self.service = service
        self.store = service.store

    def sessions(self, p: Principal, user_id: str | None, limit: int = 100) -> list[SessionSummary]:
        def run() -> list[SessionSummary]:
            if not 1 <= limit <= 1000:
                raise InvalidInputError("limit must be between 1 and 1000")
            scope = Scope(p.tenant_id, check_scope_value("user_id", user_id))
            rows = self.store.sessions(scope, Filters(access=self.service.access.rule_for(p),
                                                      include_archived=True), limit)
            return [SessionSummary(user_id=u, agent_id=a, session_id=s, memories=n, first_at=_at(lo),
                                   last_at=_at(hi)) for u, a, s, n, lo, hi in rows]

        return self.service.audited(p, "memory.sessions", user_id, run)

    def _own_scope(self, p: Principal) -> tuple[Scope, str]:
        """Admins see the tenant; a user or agent the one user it owns (a scope names one)."""
        own = p.own_users()
        if p.kind == "admin":
            return Scope(p.tenant_id), f"tenant {p.tenant_id}"
        if len(own) == 1:
            return Scope(p.tenant_id, own[0]), f"user {own[0]}"
        raise InvalidInputError("this covers one user: this agent acts for several")

    def owners(self, p: Principal) -> list[OwnerSummary]:
        def run() -> list[OwnerSummary]:
            scope, _ = self._own_scope(p)
            return [OwnerSummary(user_id=u, agent_id=a, memories=n, sessions=s,
                                 last_at=_at(last) if last is not None else None)
                    for u, a, n, s, last in self.store.owners(scope)]

        return self.service.audited(p, "store.owners", None, run)

    def counts(self, p: Principal) -> StoreCounts:
        """Never other tenants: the store's by_tenant is dropped."""
        def run() -> StoreCounts:
            scope, label = self._own_scope(p)
            raw: dict[str, Any] = self.store.stats(scope, all_tenants=False)
            return StoreCounts(scope=label, **{k: v for k, v in raw.items() if k in StoreCounts.model_fields})

        return self.service.audited(p, "store.counts", None, run)

    def erase_preview(self, p: Principal, user_id: str) -> ErasePreview:
        def run() -> ErasePreview:
            if p.kind != "admin" and not (p.kind == "user" and p.id == user_id):
                raise PermissionDeniedError("only the user or a tenant admin may erase a user")
            scope = Scope(p.tenant_id, check_scope_value("user_id", user_id))
            raw = self.store.stats(scope, all_tenants=False)
            return ErasePreview(user_id=user_id, memories=raw["memories"], by_kind=raw["by_kind"],
                                sessions=raw["sessions"], history_entries=raw["history_entries"])

        return self.service.audited(p, "memory.erase_preview", user_id, run)

    def graph(self, p: Principal, memory_id: str, depth: int = 2, limit: int = 40) -> MemoryGraph:
        """Breadth first from the memory, strongest links first, until `limit` nodes."""
        def run() -> MemoryGraph:
            if not 1 <= depth <= 3 or not 2 <= limit <= 200:
                raise InvalidInputError("depth must be 1 to 3 and limit 2 to 200")
            center, rule = self.service.readable_memory(p, memory_id)
            assert center.seq is not None
            filters = Filters(access=rule, include_archived=True)
            nodes, frontier = [center.seq], [center.seq]
            edges: dict[tuple[int, int], tuple[float, set[str]]] = {}
            for _ in range(depth):
                found = self.store.links(frontier)
                candidates = {o for s in frontier for o, _, _ in found.get(s, [])}
                admitted = self.store.matching(list(candidates), Scope(p.tenant_id), filters)
                admitted |= set(nodes)
                next_frontier: list[int] = []
                for seq in frontier:
                    for other, weight, kind in found.get(seq, []):
                        if other not in admitted:
                            continue
                        if other not in nodes:
                            if len(nodes) >= limit:
                                continue
                            nodes.append(other)
                            next_frontier.append(other)
                        key = (min(seq, other), max(seq, other))
                        w, kinds = edges.get(key, (0.0, set()))
                        edges[key] = (max(w, weight), kinds | {kind})
                frontier = next_frontier
            rows = self.store.get_by_seq(nodes)
            ids = {s: rows[s].id for s in nodes if s in rows}
            return MemoryGraph(
                center=center.id,
                nodes=[self.service.project(rows[s].to_record(), rule) for s in nodes if s in rows],
                edges=[GraphEdge(source=ids[a], target=ids[b], weight=w, kinds=sorted(k))
                       for (a, b), (w, k) in edges.items() if a in ids and b in ids])

        return self.service.audited(p, "memory.graph", memory_id, run)


def browse_routes(app: FastAPI, browser: Browser) -> None:
    """The views above over REST: the console reads through them, and so can anyone else."""

    @app.get("/v1/me")
    def me(p: Caller) -> Principal:
        """The principal behind the presented key (who the console signs in as)."""
        return p

    @app.get("/v1/users")
    def owners(p: Caller) -> list[OwnerSummary]:
        """Who has memories: the tenant's users for admins, the caller's own user otherwise."""
        return browser.owners(p)

    @app.get("/v1/sessions")
    def sessions(p: Caller, user_id: Annotated[Ident | None, Query()] = None,
                 limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[SessionSummary]:
        """A timeline: the sessions the caller may read (of one user), latest first."""
        return browser.sessions(p, user_id, limit)

    @app.get("/v1/stats")
    def stats(p: Caller) -> StoreCounts:
        """Counts and store size: the tenant's for admins, the caller's own user's otherwise."""
        return browser.counts(p)

    @app.get("/v1/erase/preview")
    def erase_preview(p: Caller, user_id: Annotated[Ident, Query()]) -> ErasePreview:
        """What erasing this user would remove, before anyone confirms it."""
        return browser.erase_preview(p, user_id)

    @app.get("/v1/memories/{memory_id}/graph")
    def graph(memory_id: PathIdent, p: Caller, depth: Annotated[int, Query(ge=1, le=3)] = 2,
              limit: Annotated[int, Query(ge=2, le=200)] = 40) -> MemoryGraph:
        """The link graph around a memory (similar, entity, member links), readable nodes only."""
        return browser.graph(p, memory_id, depth, limit)
