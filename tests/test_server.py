"""REST server end to end (FastAPI TestClient): auth, sharing through grants, audit, errors."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from memgrid import Memory
from memgrid.access.models import Grant, Principal
from memgrid.models import Provenance, Scope, StoredMemory
from memgrid.server.app import create_app
from memgrid.server.service import MemoryService, open_service
from tests.conftest import hashing_config


class Tenant:
    def __init__(self, service: MemoryService, http: TestClient) -> None:
        self.service, self.http = service, http
        _, self.admin, self.admin_key = service.access.create_tenant("acme")
        self.alice = self.principal("user", "alice")
        self.bob = self.principal("user", "bob")
        self.agent = self.principal("agent", "alice-assistant", acts_for=[self.alice["id"]])
        self.keys = {n: self.key(p["id"]) for n, p in
                     (("alice", self.alice), ("bob", self.bob), ("agent", self.agent))}

    def call(self, who: str, method: str, path: str, **kw: Any) -> Any:
        key = self.admin_key if who == "admin" else self.keys.get(who, who)
        return self.http.request(method, path, headers={"Authorization": f"Bearer {key}"}, **kw)

    def principal(self, kind: str, name: str, acts_for: list[str] | None = None) -> dict[str, Any]:
        r = self.call("admin", "POST", "/v1/admin/principals",
                      json={"kind": kind, "name": name, "acts_for": acts_for})
        assert r.status_code == 201, r.text
        return dict(r.json())

    def key(self, principal_id: str, expires_at: float | None = None) -> str:
        r = self.call("admin", "POST", "/v1/keys", json={"principal_id": principal_id,
                                                         "expires_at": expires_at})
        assert r.status_code == 201, r.text
        return str(r.json()["secret"])

    def texts(self, who: str, query: str = "notes") -> set[str]:
        r = self.call(who, "POST", "/v1/memories/search", json={"query": query, "limit": 100})
        assert r.status_code == 200, r.text
        return {h["memory"]["text"] for h in r.json()}


@pytest.fixture(params=["sqlite", "postgres"])
def tenant(request: pytest.FixtureRequest, tmp_path: Path, model_home: Path) -> Iterator[Tenant]:
    config = hashing_config(model_home, tmp_path / "server.db")
    if request.param == "postgres":
        config.db_url = request.getfixturevalue("postgres_url")
    service = open_service(config)
    with TestClient(create_app(service)) as http:
        yield Tenant(service, http)
    service.memory.close()
    service.access.close()


def test_server_that_owns_its_service_flushes_it_at_shutdown(tmp_path: Path, model_home: Path) -> None:
    """A stopping server writes pending recall counts and the vector index file (before, the
    index was rebuilt from SQLite at the next start and the counts were lost)."""
    service = open_service(hashing_config(model_home, tmp_path / "owned.db"))
    with TestClient(create_app(service, close_at_shutdown=True)):
        [added] = service.memory.add("I keep bees", user_id="u")
        assert service.memory.search("bees", user_id="u")[0].memory.id == added.id
        vectors = service.memory.store.vectors  # type: ignore[attr-defined]
        assert vectors.dirty > 0 and service.memory.store._recalls.pending  # type: ignore[attr-defined]
    assert vectors.dirty == 0
    with Memory(config=hashing_config(model_home, tmp_path / "owned.db")) as reopened:
        assert reopened.get(added.id).access_count == 1


def test_health_docs_and_metrics(tenant: Tenant) -> None:
    assert tenant.http.get("/healthz").json() == {"status": "ok"}
    assert "/v1/memories" in tenant.http.get("/openapi.json").json()["paths"]
    tenant.call("alice", "GET", "/v1/memories")
    tenant.call("alice", "GET", "/v1/memories/nope")
    metrics = tenant.http.get("/metrics").text
    assert 'memgrid_requests_total{route="/v1/memories",status="200"} 1.0' in metrics
    assert 'memgrid_requests_total{route="/v1/memories/{memory_id}",status="404"} 1.0' in metrics
    assert 'memgrid_request_seconds_count{route="/v1/memories"} 1.0' in metrics


def test_401_without_or_with_bad_keys(tenant: Tenant) -> None:
    assert tenant.http.get("/v1/memories").status_code == 401
    assert tenant.call("mg_nope_nope", "GET", "/v1/memories").status_code == 401
    assert tenant.call("garbage", "GET", "/v1/memories").status_code == 401


def test_403_for_admin_work_by_users(tenant: Tenant) -> None:
    assert tenant.call("alice", "POST", "/v1/admin/principals",
                       json={"kind": "user", "name": "eve"}).status_code == 403
    assert tenant.call("alice", "GET", "/v1/audit").status_code == 403
    assert tenant.call("agent", "POST", "/v1/grants", json={"grantee": tenant.bob["id"]}).status_code == 403


def test_private_memories_stay_private_and_grants_share(tenant: Tenant) -> None:
    t = tenant
    r = t.call("alice", "POST", "/v1/memories", json={"text": "alice private notes on the merger"})
    assert r.status_code == 201
    private_id = r.json()[0]["id"]
    t.call("alice", "POST", "/v1/memories",
           json={"text": "alice shared notes on the offsite", "visibility": "shared"})
    assert t.texts("bob") == set()
    assert t.call("bob", "GET", f"/v1/memories/{private_id}").status_code == 404  # not 403: no leak
    # the agent acting for alice sees all of alice's memories
    assert t.texts("agent") == {"alice private notes on the merger", "alice shared notes on the offsite"}
    grant = t.call("alice", "POST", "/v1/grants", json={"grantee": t.bob["id"]})
    assert grant.status_code == 201, grant.text
    assert t.texts("bob") == {"alice shared notes on the offsite"}  # shared only, at once
    assert t.call("bob", "DELETE", f"/v1/grants/{grant.json()['id']}").status_code == 404  # not his
    assert t.call("alice", "DELETE", f"/v1/grants/{grant.json()['id']}").status_code == 204
    assert t.texts("bob") == set()  # revocation applies at once


def test_grants_by_session_tag_and_time_window(tenant: Tenant) -> None:
    t = tenant
    for text, extra in (("notes in s1", {"session_id": "s1"}),
                        ("notes tagged", {"metadata": {"tags": ["x"]}}),
                        ("notes in ns", {"metadata": {"namespace": "team"}})):
        t.call("alice", "POST", "/v1/memories", json={"text": text, "visibility": "shared", **extra})
    bob = t.bob["id"]
    t.call("alice", "POST", "/v1/grants", json={"grantee": bob, "resource": "session", "value": "s1"})
    assert t.texts("bob") == {"notes in s1"}
    t.call("alice", "POST", "/v1/grants", json={"grantee": bob, "resource": "tag", "value": "x"})
    t.call("alice", "POST", "/v1/grants", json={"grantee": bob, "resource": "namespace", "value": "team",
                                               "valid_to": time.time() - 1})  # already expired
    assert t.texts("bob") == {"notes in s1", "notes tagged"}
    t.call("alice", "POST", "/v1/grants", json={"grantee": bob, "resource": "namespace", "value": "team",
                                               "valid_from": time.time() + 3600})  # not yet
    assert t.texts("bob") == {"notes in s1", "notes tagged"}


def test_writes_need_rights(tenant: Tenant) -> None:
    t = tenant
    r = t.call("alice", "POST", "/v1/memories",
               json={"text": "shared notes to edit", "visibility": "shared"})
    mid = r.json()[0]["id"]
    as_alice = {"text": "x", "user_id": t.alice["id"]}
    assert t.call("bob", "POST", "/v1/memories", json=as_alice).status_code == 403
    t.call("alice", "POST", "/v1/grants", json={"grantee": t.bob["id"]})
    assert t.call("bob", "PATCH", f"/v1/memories/{mid}", json={"text": "edited"}).status_code == 403
    t.call("alice", "POST", "/v1/grants", json={"grantee": t.bob["id"], "write": True, "read": True})
    r = t.call("bob", "PATCH", f"/v1/memories/{mid}", json={"text": "edited notes"})
    assert r.status_code == 200 and r.json()["version"] == 2
    assert [h["event"] for h in t.call("alice", "GET", f"/v1/memories/{mid}/history").json()] == [
        "ADD", "UPDATE"]


def test_key_revocation_and_expiry_apply_immediately(tenant: Tenant) -> None:
    t = tenant
    assert t.call("alice", "GET", "/v1/memories").status_code == 200
    key_id = t.keys["alice"].split("_")[1]
    assert t.call("admin", "DELETE", f"/v1/keys/{key_id}").status_code == 204
    assert t.call("alice", "GET", "/v1/memories").status_code == 401
    short = t.key(t.bob["id"], expires_at=time.time() + 2.0)
    assert t.call(short, "GET", "/v1/memories").status_code == 200
    time.sleep(2.1)
    assert t.call(short, "GET", "/v1/memories").status_code == 401


def test_audit_log_records_and_is_append_only(tenant: Tenant) -> None:
    t = tenant
    t.call("alice", "POST", "/v1/memories", json={"text": "audited notes"})
    t.call("bob", "GET", "/v1/memories/nope")
    events = t.call("admin", "GET", "/v1/audit", params={"limit": 1000}).json()
    actions = [(e["action"], e["result"]) for e in events]
    assert ("memory.add", "ok") in actions and ("memory.get", "NotFoundError") in actions
    assert ("principal.create", "ok") in actions and ("key.create", "ok") in actions
    assert all("audited notes" not in str(e["detail"]) for e in events)  # no memory text in the log
    with pytest.raises(Exception, match="append-only"):
        t.service.access._x("UPDATE audit SET result = 'tampered'")
    with pytest.raises(Exception, match="append-only"):
        t.service.access._x("DELETE FROM audit")


def test_bad_requests_get_clear_4xx(tenant: Tenant) -> None:
    t = tenant
    r = t.call("alice", "POST", "/v1/memories", json={"text": "   "})
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    assert t.call("alice", "POST", "/v1/memories", json={}).status_code == 422
    assert t.call("alice", "POST", "/v1/memories", json={"text": "x", "bogus": 1}).status_code == 422
    assert t.call("alice", "POST", "/v1/memories/search", json={"query": "x", "limit": 0}).status_code == 422
    big = {"text": "x" * (3 * 1024 * 1024)}
    assert t.call("alice", "POST", "/v1/memories", json=big).status_code == 413


def test_summary_never_leaks_private_sources(tenant: Tenant) -> None:
    t = tenant
    private = t.call("alice", "POST", "/v1/memories", json={"text": "salary is secret notes"}).json()[0]
    alice = t.alice["id"]
    summary = StoredMemory(
        id="summary-1", text="alice summary notes", index_text="alice summary notes", kind="summary",
        scope=Scope(t.admin.tenant_id, alice), visibility="shared", role="system", speaker=None,
        provenance=Provenance(writer=alice, method="consolidated", source_ids=(private["id"],)),
        content_hash="h", created_at=time.time(), updated_at=time.time(), event_time=None)
    t.service.memory.writer.write([summary], actor=alice)
    t.call("alice", "POST", "/v1/grants", json={"grantee": t.bob["id"]})
    seen = t.call("bob", "GET", "/v1/memories/summary-1").json()
    assert seen["text"] == "alice summary notes" and seen["provenance"]["source_ids"] == []
    mine = t.call("alice", "GET", "/v1/memories/summary-1").json()
    assert mine["provenance"]["source_ids"] == [private["id"]]


def test_a_private_successor_is_not_leaked_through_a_shared_fact(tenant: Tenant) -> None:
    t = tenant
    t.call("alice", "POST", "/v1/memories", json={"text": "I live in Denver", "visibility": "shared",
                                                  "timestamp": "2023-01-01T00:00:00"})
    t.call("alice", "POST", "/v1/memories", json={"text": "I moved to Austin", "timestamp": "2023-02-01"})
    t.call("alice", "POST", "/v1/grants", json={"grantee": t.bob["id"]})
    assert t.texts("bob", "where does alice live") == {"I live in Denver"}
    assert "I moved to Austin" in t.texts("alice", "where does alice live")


def test_tenants_over_rest_need_the_root_key(tmp_path: Path, model_home: Path) -> None:
    service = open_service(hashing_config(model_home, tmp_path / "root.db"))
    with TestClient(create_app(service, root_key="root-secret")) as http:
        assert http.post("/v1/admin/tenants", json={"name": "x"}).status_code == 401
        bad = http.post("/v1/admin/tenants", json={"name": "x"}, headers={"Authorization": "Bearer nope"})
        assert bad.status_code == 401
        made = http.post("/v1/admin/tenants", json={"name": "globex"},
                         headers={"Authorization": "Bearer root-secret"})
        assert made.status_code == 201, made.text
        key = made.json()["api_key"]
        info = http.get("/v1/admin/tenant", headers={"Authorization": f"Bearer {key}"}).json()
        assert info["tenant_id"] == made.json()["tenant_id"] and info["principals"][0]["kind"] == "admin"
    service.memory.close()


def test_lifecycle_over_rest(tenant: Tenant) -> None:
    t = tenant
    denver = t.call("alice", "POST", "/v1/memories", json={
        "text": "I live in Denver", "visibility": "shared", "session_id": "s1",
        "timestamp": "2023-01-01"}).json()[0]["id"]
    t.call("alice", "POST", "/v1/memories", json={"text": "I moved to Austin", "session_id": "s2",
                                                  "timestamp": "2023-02-01"})
    made = t.call("alice", "POST", "/v1/lifecycle/consolidate", json={})
    assert made.status_code == 200 and made.json()["created"] == 2
    profile = t.call("alice", "GET", "/v1/lifecycle/profile").json()
    assert profile["self|residence"]["text"] == "I moved to Austin"
    assert t.call("bob", "POST", "/v1/lifecycle/consolidate",
                  json={"user_id": t.alice["id"]}).status_code == 403
    t.call("alice", "POST", "/v1/grants", json={"grantee": t.bob["id"]})
    # bob sees only shared facts, and the private current one is not among them
    seen = t.call("bob", "GET", "/v1/lifecycle/profile", params={"user_id": t.alice["id"]}).json()
    assert seen == {}
    chain = t.call("alice", "GET", f"/v1/memories/{denver}/chain").json()
    assert [m["text"] for m in chain] == ["I live in Denver", "I moved to Austin"]
    assert [m["text"] for m in t.call("bob", "GET", f"/v1/memories/{denver}/chain").json()] == [
        "I live in Denver"]  # the private newer version is not shown to bob
    archived = t.call("alice", "POST", "/v1/lifecycle/archive", json={"threshold": 0.999})
    assert archived.status_code == 200 and archived.json()["count"] >= 2


def test_optional_stages_never_pull_in_unreadable_memories(tmp_path: Path, model_home: Path) -> None:
    """Neighbour and link spreading (off by default) must respect the sharing rule too, and so
    must following links by hand."""
    config = hashing_config(model_home, tmp_path / "n.db")
    config.retrieval.neighbor_weight = 1.0
    config.retrieval.link_weight = 1.0
    service = open_service(config)
    _, admin, _ = service.access.create_tenant("t")
    alice = service.access.create_principal(admin.tenant_id, "user", "alice")
    bob = service.access.create_principal(admin.tenant_id, "user", "bob")
    service.add(alice, "shared: the launch is on Monday", session_id="s", visibility="shared")
    service.add(alice, "private: I might quit after the launch", session_id="s")
    service.add(alice, "shared: bring snacks to the launch", session_id="s", visibility="shared")
    service.access.create_grant(Grant(tenant_id=admin.tenant_id, grantee=bob.id, owner=alice.id,
                                      created_by=admin.id))
    texts = {h.memory.text for h in service.search(bob, "launch Monday snacks", limit=50)}
    assert texts == {"shared: the launch is on Monday", "shared: bring snacks to the launch"}
    monday = next(h.memory for h in service.search(alice, "launch Monday", limit=1))
    assert "private: I might quit after the launch" in {
        r.memory.text for r in service.related(alice, monday.id)}  # linked: the owner sees it
    assert {r.memory.text for r in service.related(bob, monday.id)} == {
        "shared: bring snacks to the launch"}
    service.memory.close()


def test_lifecycle_policy_is_per_tenant(tenant: Tenant) -> None:
    t = tenant
    assert t.call("alice", "PUT", "/v1/admin/settings", json={"archive_threshold": 0.5}).status_code == 403
    assert t.call("admin", "PUT", "/v1/admin/settings", json={"archive_threshold": 2}).status_code == 422
    assert t.call("admin", "PUT", "/v1/admin/settings", json={"decay": 1}).status_code == 422
    policy = {"retention_half_life_days": 1.0, "retention_weight": 1.0, "archive_threshold": 0.5}
    assert t.call("admin", "PUT", "/v1/admin/settings", json=policy).json() == policy
    assert t.call("admin", "GET", "/v1/admin/settings").json() == policy
    assert t.call("bob", "GET", "/v1/admin/settings").status_code == 403
    # a second tenant on the same server keeps the server's defaults (30-day half-life, 0.05)
    _, other_admin, _ = t.service.access.create_tenant("globex")
    carol = t.service.access.create_principal(other_admin.tenant_id, "user", "carol")
    alice = t.service.access.authenticate(t.keys["alice"])
    assert alice is not None
    three_days_ago = time.time() - 3 * 86400
    for who in (alice, carol):
        t.service.add(who, "old notes about the boiler", timestamp=three_days_ago)
        t.service.add(who, "new notes about the boiler")
    # archive without a threshold uses each tenant's policy: 3 days is cold only for alice's
    assert t.call("alice", "POST", "/v1/lifecycle/archive", json={}).json()["count"] == 1
    assert t.service.archive_cold(carol) == 0
    t.service.add(alice, "older notes about the boiler", timestamp=three_days_ago)
    weighted = t.service.search(alice, "boiler notes")
    assert [h.memory.text for h in weighted] == ["new notes about the boiler", "older notes about the boiler"]
    assert all("retention" in h.explain for h in weighted)
    assert all("retention" not in h.explain for h in t.service.search(carol, "boiler notes"))


def test_activation_never_travels_through_unreadable_memories(tmp_path: Path, model_home: Path) -> None:
    config = hashing_config(model_home, tmp_path / "hops.db")
    config.retrieval.link_weight, config.retrieval.link_hops = 1.0, 2
    service = open_service(config)
    _, admin, _ = service.access.create_tenant("t")
    alice = service.access.create_principal(admin.tenant_id, "user", "alice")
    bob = service.access.create_principal(admin.tenant_id, "user", "bob")
    service.add(alice, "Zorblax painted the harbour", visibility="shared")
    service.add(alice, "Zorblax secretly owes Quintar money")  # private bridge
    service.add(alice, "Quintar collects old maps", visibility="shared")
    service.access.create_grant(Grant(tenant_id=admin.tenant_id, grantee=bob.id, owner=alice.id,
                                      created_by=admin.id))

    def linked(who: Principal) -> set[str]:
        hits = service.search(who, "painted harbour", limit=10)
        return {h.memory.text for h in hits if "link" in h.explain}

    assert "Quintar collects old maps" in linked(alice)  # two hops through the bridge
    assert "Quintar collects old maps" not in linked(bob)
    service.memory.close()
