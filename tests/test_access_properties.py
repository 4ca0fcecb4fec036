"""Property test of the sharing rule: for random tenants, users, agents, grants and memories
(facts that supersede each other across private and shared, consolidated units), every
search/list/get/context/related/chain/history/profile result is readable by the caller,
nothing readable is missing, and no field points at a memory the caller may not read.
SQLite and PostgreSQL.

The oracle below is written from the spec, independently of memgrid.access.rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from memgrid.access.models import Grant, Principal
from memgrid.errors import NotFoundError, PermissionDeniedError
from memgrid.models import MemoryRecord, Scope, StoredMemory
from memgrid.server.service import MemoryService, open_service
from memgrid.validation import Filters
from memgrid.write.links import DERIVED_KINDS
from tests.conftest import hashing_config

SESSIONS = ("s1", "s2")
TAGS = ("red", "blue")
NAMESPACES = ("team", "ops")
CITIES = ("Denver", "Boston", "Austin")


@dataclass(frozen=True)
class MemorySpec:
    owner: int
    shared: bool
    session: str
    tags: tuple[str, ...]
    namespace: str | None
    city: int | None  # a fact ("I live in ..."): a later one of the same owner supersedes it


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
                         namespace=st.sampled_from((None, *NAMESPACES)),
                         city=st.sampled_from((None, None, 0, 1, 2)))
grant_specs = st.builds(GrantSpec, grantee=st.integers(0, 4), owner=st.one_of(st.none(), st.integers(0, 2)),
                        resource=st.sampled_from(("all", "session", "tag", "namespace")),
                        value=st.integers(0, 1), read=st.booleans(),
                        window=st.sampled_from(("open", "open", "expired", "future")))
worlds = st.tuples(st.lists(memory_specs, max_size=7), st.lists(grant_specs, max_size=5),
                   st.lists(st.integers(0, 2), min_size=1, max_size=2, unique=True),  # agent 1 acts for
                   st.booleans(),  # revoke one grant after the fact
                   st.booleans(),  # consolidate: session and topic units with source ids
                   st.lists(st.integers(0, 2), max_size=2))  # owners who then move, privately


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
    memories, grants, acts_for, revoke_one, units, moves = world
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
        text = f"memory number {i} about things"
        if spec.city is not None:
            text = f"I live in {CITIES[spec.city]}, memory number {i} about things"
        service.add(users[spec.owner], text, session_id=spec.session,
                    visibility="shared" if spec.shared else "private", metadata=metadata)
    for owner in moves:  # a private successor of the owner's shared facts, if any
        service.add(users[owner], "I live in Lisbon now", session_id=SESSIONS[0], visibility="private")
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
    if units:
        for user in users:
            service.consolidate(admin, user.id)
    return principals, access.grants(tenant_id)


def pointers(record: MemoryRecord) -> set[str]:
    """Every memory id a record names besides its own."""
    return {i for i in (record.superseded_by, record.supersedes, *record.provenance.source_ids) if i}


def check_principal(service: MemoryService, p: Principal, every: list[StoredMemory], expected: set[str],
                    users: list[Principal], admin: Principal) -> int:
    """Every read path of one caller against the oracle's set; returns the checks made."""
    checks = 0
    listed = service.list_memories(p, limit=1000).items
    assert {r.id for r in listed} == expected, (p.kind, p.name)
    hits = service.search(p, "memory number things", limit=1000)
    # search answers with turns; session and topic units lead to their turns
    turns = {m.id for m in every if m.id in expected and m.kind not in DERIVED_KINDS}
    assert {h.memory.id for h in hits} == turns, (p.kind, p.name)
    for record in [*listed, *(h.memory for h in hits)]:
        assert pointers(record) <= expected, (p.kind, record.id)
    context = service.context(p, "memory number things", token_budget=4000)
    in_context = {m.id for m in every if f"(id:{m.id})" in context}
    assert in_context <= expected and (in_context or not expected), (p.kind, context[:200])
    checks += 3
    for m in every:
        readable_here = m.id in expected
        reads: list[Callable[[], Any]] = [lambda m=m: service.get(p, m.id),
                                          lambda m=m: service.chain(p, m.id),
                                          lambda m=m: service.related(p, m.id, 100)]
        for read in reads:
            try:
                result = read()
            except NotFoundError:
                assert not readable_here, (p.kind, p.name, m.id)
                continue
            assert readable_here, (p.kind, p.name, m.id)
            records = [result] if isinstance(result, MemoryRecord) else [
                getattr(r, "memory", r) for r in result]
            for record in records:
                assert record.id in expected and pointers(record) <= expected, (p.kind, m.id, record.id)
        try:
            entries = service.history(p, m.id)
            assert readable_here, (p.kind, p.name, m.id)
            named = {str(e.metadata["superseded_by"]) for e in entries if "superseded_by" in e.metadata}
            assert named <= expected, (p.kind, m.id, named)
        except NotFoundError:
            assert not readable_here, (p.kind, p.name, m.id)
        checks += 4
    for user in users:  # a profile holds every readable current fact and nothing else, projected
        try:
            facts = service.profile(p, user.id)
        except PermissionDeniedError:
            continue
        current = service.profile(admin, user.id)
        assert {k: r.id for k, r in facts.items()} == {
            k: r.id for k, r in current.items() if r.id in expected}, (p.kind, p.name, user.name)
        for record in facts.values():
            assert pointers(record) <= expected, (p.kind, record.id)
        checks += 1
    return checks


def run_property(service: MemoryService, examples: int) -> int:
    checks = [0]

    @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
    @given(worlds)
    def property_holds(world: tuple[Any, ...]) -> None:
        principals, grants = build_world(service, world)
        tenant_id = principals[0].tenant_id
        every = service.memory.store.list_memories(Scope(tenant_id), Filters(), None, 1000)
        now = time.time()
        users = [p for p in principals if p.kind == "user"]
        for p in principals:
            expected = {m.id for m in every if oracle(p, {
                "user_id": m.scope.user_id, "visibility": m.visibility, "session_id": m.scope.session_id,
                "metadata": m.metadata}, grants, now)}
            checks[0] += check_principal(service, p, every, expected, users, principals[-1])

    property_holds()
    return checks[0]


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_every_result_is_readable_and_nothing_readable_is_missing(
        tmp_path: Path, model_home: Path, request: pytest.FixtureRequest, backend: str) -> None:
    config = hashing_config(model_home, tmp_path / "props.db", durability="normal")
    if backend == "postgres":
        config.db_url = request.getfixturevalue("postgres_url")
    config.retrieval.neighbor_weight = 0.5  # optional stages that add candidates are checked too
    config.retrieval.link_weight = 0.5
    service = open_service(config)
    examples = 250 if backend == "sqlite" else 60
    checks = run_property(service, examples)
    service.memory.close()
    # each example checks every principal's list, search, context, profiles and every
    # memory's get, chain, related and history
    print(f"{checks} access checks")
    assert checks >= examples * 20, checks
