"""Property test of the sharing rule: for random tenants, users, agents, grants and memories,
every search/list/get/context result is readable by the caller, and nothing readable is missing.

The oracle below is written from the spec, independently of memgrid.access.rules.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memgrid.access.models import Grant, Principal
from memgrid.errors import NotFoundError
from memgrid.models import Scope
from memgrid.server.service import MemoryService, open_service
from memgrid.validation import Filters
from tests.conftest import hashing_config

SESSIONS = ("s1", "s2")
TAGS = ("red", "blue")
NAMESPACES = ("team", "ops")


@dataclass(frozen=True)
class MemorySpec:
    owner: int
    shared: bool
    session: str
    tags: tuple[str, ...]
    namespace: str | None


@dataclass(frozen=True)
class GrantSpec:
    grantee: int
    owner: int | None
    resource: str
    value: int
    read: bool
    window: str  # open, expired, future


memory_specs = st.builds(MemorySpec, owner=st.integers(0, 2), shared=st.booleans(),
                         session=st.sampled_from(SESSIONS),
                         tags=st.lists(st.sampled_from(TAGS), max_size=2, unique=True).map(tuple),
                         namespace=st.sampled_from((None, *NAMESPACES)))
grant_specs = st.builds(GrantSpec, grantee=st.integers(0, 4), owner=st.one_of(st.none(), st.integers(0, 2)),
                        resource=st.sampled_from(("all", "session", "tag", "namespace")),
                        value=st.integers(0, 1), read=st.booleans(),
                        window=st.sampled_from(("open", "open", "expired", "future")))
worlds = st.tuples(st.lists(memory_specs, max_size=7), st.lists(grant_specs, max_size=5),
                   st.lists(st.integers(0, 2), min_size=1, max_size=2, unique=True),  # agent 1 acts for
                   st.booleans())  # revoke one grant after the fact


def oracle(p: Principal, m: dict[str, Any], grants: list[Grant], now: float) -> bool:
    """The spec, spelled out."""
    if p.kind == "admin":
        return True
    mine = {p.id} if p.kind == "user" else set(p.acts_for)
    if m["user_id"] in mine:
        return True
    if m["visibility"] != "shared":
        return False
    for g in grants:
        if g.grantee not in mine | {p.id} or not g.read or g.revoked:
            continue
        if g.valid_from is not None and now < g.valid_from.timestamp():
            continue
        if g.valid_to is not None and now >= g.valid_to.timestamp():
            continue
        if g.owner is not None and g.owner != m["user_id"]:
            continue
        meta = m["metadata"]
        if (g.resource == "all" or (g.resource == "session" and m["session_id"] == g.value)
                or (g.resource == "namespace" and meta.get("namespace") == g.value)
                or (g.resource == "tag" and g.value in meta.get("tags", []))):
            return True
    return False


def build_world(service: MemoryService, world: tuple[Any, ...]) -> tuple[list[Principal], list[Grant]]:
    memories, grants, acts_for, revoke_one = world
    access = service.access
    tenant_id, admin, _ = access.create_tenant(f"t{len(access.tenants())}")  # names are unique
    users = [access.create_principal(tenant_id, "user", f"u{i}") for i in range(3)]
    agents = [access.create_principal(tenant_id, "agent", "a0", acts_for=[users[0].id]),
              access.create_principal(tenant_id, "agent", "a1", acts_for=[users[i].id for i in acts_for])]
    principals = [*users, *agents, admin]
    for i, spec in enumerate(memories):
        metadata: dict[str, Any] = {"tags": list(spec.tags)}
        if spec.namespace:
            metadata["namespace"] = spec.namespace
        service.add(users[spec.owner], f"memory number {i} about things", session_id=spec.session,
                    visibility="shared" if spec.shared else "private", metadata=metadata)
    now = time.time()
    windows = {"open": (None, None), "expired": (now - 100, now - 50), "future": (now + 3600, None)}
    made = []
    for spec in grants:
        values = {"all": (None, None), "session": SESSIONS, "tag": TAGS, "namespace": NAMESPACES}
        value = values[spec.resource][spec.value]
        valid_from, valid_to = windows[spec.window]
        grantee = (users + agents)[spec.grantee]
        made.append(access.create_grant(Grant(
            tenant_id=tenant_id, grantee=grantee.id,
            owner=None if spec.owner is None else users[spec.owner].id, resource=spec.resource,
            value=value, read=spec.read, valid_from=valid_from, valid_to=valid_to, created_by=admin.id)))
    if revoke_one and made:
        access.revoke_grant(tenant_id, made[0].id)
    return principals, access.grants(tenant_id)


@pytest.mark.slow
def test_every_result_is_readable_and_nothing_readable_is_missing(tmp_path: Path, model_home: Path) -> None:
    config = hashing_config(model_home, tmp_path / "props.db", durability="normal")
    config.retrieval.neighbor_weight = 0.5  # optional stages that add candidates are checked too
    config.retrieval.link_weight = 0.5
    service = open_service(config)
    checks = [0]

    @settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
    @given(worlds)
    def property_holds(world: tuple[Any, ...]) -> None:
        principals, grants = build_world(service, world)
        tenant_id = principals[0].tenant_id
        every = service.memory.store.list_memories(Scope(tenant_id), Filters(), None, 1000)
        now = time.time()
        for p in principals:
            expected = {m.id for m in every if oracle(p, {
                "user_id": m.scope.user_id, "visibility": m.visibility, "session_id": m.scope.session_id,
                "metadata": m.metadata}, grants, now)}
            listed = {r.id for r in service.list_memories(p, limit=1000).items}
            searched = {h.memory.id for h in service.search(p, "memory number things", limit=1000)}
            assert listed == expected, (p.kind, p.name)
            assert searched == expected, (p.kind, p.name)
            context = service.context(p, "memory number things", token_budget=4000)
            assert {m.id for m in every if f"(id:{m.id})" in context} <= expected
            for m in every:
                try:
                    service.get(p, m.id)
                    visible = True
                except NotFoundError:
                    visible = False
                assert visible == (m.id in expected), (p.kind, p.name, m.id)
            checks[0] += 3 + len(every)

    property_holds()
    service.memory.close()
    # each example checks every principal's list, search, context and every get
    print(f"{checks[0]} access checks")
    assert checks[0] >= 10_000, checks[0]
