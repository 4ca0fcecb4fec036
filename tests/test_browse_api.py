"""The read views the console uses, over REST on SQLite and PostgreSQL: filtered, newest-first
listing; timelines; counts; the link graph; the erase preview; the audit log paged back. Each
shows a caller only what it may read."""

from __future__ import annotations

from typing import Any

from tests.test_server import Tenant, tenant  # noqa: F401  (the fixture)


def _add(t: Tenant, who: str, messages: list[dict[str, Any]], **kw: Any) -> list[dict[str, Any]]:
    r = t.call(who, "POST", "/v1/memories", json={"messages": messages, **kw})
    assert r.status_code == 201, r.text
    return list(r.json())


def _said(text: str, at: str) -> dict[str, Any]:
    return {"content": text, "timestamp": at}


def _seed(t: Tenant) -> dict[str, list[dict[str, Any]]]:
    return {
        "s1": _add(t, "alice", [_said("I live in Lyon with my dog Rex.", "2023-05-08T10:00:00Z"),
                                _said("Rex loves the park by the Rhone.", "2023-05-08T10:01:00Z")],
                   session_id="s1"),
        "s2": _add(t, "alice", [_said("I moved to Berlin, Rex too.", "2023-07-01T09:00:00Z")],
                   session_id="s2", visibility="shared"),
        "bob": _add(t, "bob", [_said("Bob keeps bees in Berlin.", "2023-06-01T09:00:00Z")], session_id="b1"),
    }


def _texts(page: dict[str, Any]) -> list[str]:
    return [m["text"] for m in page["items"]]


def test_listing_filters_order_and_cursor(tenant: Tenant) -> None:  # noqa: F811
    t = tenant
    _seed(t)
    newest = t.call("admin", "GET", "/v1/memories", params={"order": "newest", "limit": 2}).json()
    assert _texts(newest) == ["Bob keeps bees in Berlin.", "I moved to Berlin, Rex too."]
    rest = t.call("admin", "GET", "/v1/memories", params={"order": "newest", "limit": 2,
                                                          "cursor": newest["next_cursor"]}).json()
    assert _texts(rest) == ["Rex loves the park by the Rhone.", "I live in Lyon with my dog Rex."]
    assert rest["next_cursor"] is None
    shared = t.call("admin", "GET", "/v1/memories", params={"visibility": "shared"}).json()
    assert _texts(shared) == ["I moved to Berlin, Rex too."]
    june = t.call("admin", "GET", "/v1/memories", params={"event_after": "2023-06-01T00:00:00Z",
                                                          "event_before": "2023-06-30T00:00:00Z"}).json()
    assert _texts(june) == ["Bob keeps bees in Berlin."]
    assert _texts(t.call("admin", "GET", "/v1/memories", params={"kind": ["summary", "fact"]}).json()) == []
    # archived: only archived, only live, or both
    store = t.service.store
    first = store.get(t.admin.tenant_id, rest["items"][1]["id"])
    assert first is not None
    store.update(first, {"archived": True}, None)
    assert _texts(t.call("admin", "GET", "/v1/memories", params={"archived": True}).json()) == [first.text]
    assert first.text not in _texts(t.call("admin", "GET", "/v1/memories", params={"archived": False}).json())
    assert len(t.call("admin", "GET", "/v1/memories").json()["items"]) == 4
    # bob reads alice's nothing, and filters never widen what he reads
    assert _texts(t.call("bob", "GET", "/v1/memories", params={"user_id": t.alice["id"]}).json()) == []
    bad = t.call("admin", "GET", "/v1/memories", params={"order": "sideways"})
    assert bad.status_code == 422 and "order" in bad.text
    assert t.call("admin", "GET", "/v1/memories", params={"event_after": "not a date"}).status_code == 422


def test_me_sessions_users_and_counts(tenant: Tenant) -> None:  # noqa: F811
    t = tenant
    _seed(t)
    assert t.call("agent", "GET", "/v1/me").json()["acts_for"] == [t.alice["id"]]
    sessions = t.call("admin", "GET", "/v1/sessions", params={"user_id": t.alice["id"]}).json()
    assert [(s["session_id"], s["memories"]) for s in sessions] == [("s2", 1), ("s1", 2)]
    assert sessions[1]["first_at"].startswith("2023-05-08T10:00")
    assert sessions[1]["last_at"].startswith("2023-05-08T10:01")
    # bob sees only the sessions he may read: none of alice's until she grants her shared ones
    assert t.call("bob", "GET", "/v1/sessions", params={"user_id": t.alice["id"]}).json() == []
    t.call("alice", "POST", "/v1/grants", json={"grantee": t.bob["id"]})
    seen = t.call("bob", "GET", "/v1/sessions", params={"user_id": t.alice["id"]}).json()
    assert [(s["session_id"], s["memories"]) for s in seen] == [("s2", 1)]

    users = {u["user_id"]: u["memories"] for u in t.call("admin", "GET", "/v1/users").json()}
    assert users == {t.alice["id"]: 3, t.bob["id"]: 1}
    assert [u["user_id"] for u in t.call("bob", "GET", "/v1/users").json()] == [t.bob["id"]]

    counts = t.call("admin", "GET", "/v1/stats").json()
    assert counts["memories"] == 4 and counts["users"] == 2 and counts["sessions"] == 3
    assert "by_tenant" not in counts  # another tenant's size is none of this admin's business
    mine = t.call("alice", "GET", "/v1/stats").json()
    assert mine["memories"] == 3 and mine["scope"] == f"user {t.alice['id']}"


def test_counts_stay_in_the_tenant(tenant: Tenant) -> None:  # noqa: F811
    t = tenant
    _seed(t)
    _, _, other_key = t.service.access.create_tenant("globex")
    other = t.call(other_key, "GET", "/v1/stats").json()
    assert other["memories"] == 0 and other["users"] == 0
    assert t.call(other_key, "GET", "/v1/users").json() == []
    assert t.call(other_key, "GET", "/v1/sessions").json() == []


def test_graph_links_readable_memories_only(tenant: Tenant) -> None:  # noqa: F811
    t = tenant
    seeded = _seed(t)
    berlin = seeded["s2"][0]["id"]
    graph = t.call("admin", "GET", f"/v1/memories/{berlin}/graph").json()
    ids = {n["id"] for n in graph["nodes"]}
    assert graph["center"] == berlin and berlin in ids and len(ids) >= 2
    assert all(e["source"] in ids and e["target"] in ids for e in graph["edges"])
    assert all(e["kinds"] and 0 < e["weight"] <= 1 for e in graph["edges"])
    # links join one owner's memories: bob, granted alice's shared ones, sees the shared
    # memory and none of the private ones it links to
    private = {m["id"] for m in seeded["s1"]}
    assert private & ids, "the admin sees the links to alice's private memories"
    t.call("alice", "POST", "/v1/grants", json={"grantee": t.bob["id"]})
    bob_view = t.call("bob", "GET", f"/v1/memories/{berlin}/graph").json()
    assert [n["id"] for n in bob_view["nodes"]] == [berlin] and bob_view["edges"] == []
    assert t.call("bob", "GET", f"/v1/memories/{seeded['s1'][0]['id']}/graph").status_code == 404
    assert t.call("admin", "GET", f"/v1/memories/{berlin}/graph", params={"depth": 9}).status_code == 422


def test_erase_preview_then_erase(tenant: Tenant) -> None:  # noqa: F811
    t = tenant
    _seed(t)
    alice = t.alice["id"]
    preview = t.call("admin", "GET", "/v1/erase/preview", params={"user_id": alice}).json()
    assert preview["memories"] == 3 and preview["sessions"] == 2 and preview["history_entries"] >= 3
    assert t.call("bob", "GET", "/v1/erase/preview", params={"user_id": alice}).status_code == 403
    assert t.call("alice", "GET", "/v1/erase/preview", params={"user_id": alice}).status_code == 200
    assert t.call("admin", "POST", "/v1/erase", json={"user_id": alice}).json() == {"count": 3}
    after = t.call("admin", "GET", "/v1/erase/preview", params={"user_id": alice}).json()
    assert after["memories"] == 0 and after["history_entries"] == 0


def test_context_reports_tokens_and_audit_pages_back(tenant: Tenant) -> None:  # noqa: F811
    t = tenant
    _seed(t)
    ctx = t.call("alice", "POST", "/v1/context", json={"query": "where does alice live"}).json()
    assert ctx["context"] and 0 < ctx["tokens"] <= 800
    newest = t.call("admin", "GET", "/v1/audit", params={"order": "newest", "limit": 3}).json()
    assert len(newest) == 3 and newest[0]["id"] > newest[1]["id"] > newest[2]["id"]
    older = t.call("admin", "GET", "/v1/audit", params={"order": "newest", "before_id": newest[-1]["id"],
                                                           "limit": 3}).json()
    assert older[0]["id"] == newest[-1]["id"] - 1
    assert newest[0]["action"] == "memory.search" or any(e["action"] == "memory.search" for e in newest)


def test_the_python_client_reads_the_same_views(tenant: Tenant) -> None:  # noqa: F811
    from memgrid import Client

    t = tenant
    seeded = _seed(t)
    admin = Client("http://testserver", t.admin_key, http=t.http)
    alice = Client("http://testserver", t.keys["alice"], http=t.http)
    newest = admin.list(newest_first=True, limit=1)
    assert [m.text for m in newest.items] == ["Bob keeps bees in Berlin."]
    assert [m.text for m in admin.list(visibility="shared").items] == ["I moved to Berlin, Rex too."]
    assert admin.list(kind=["fact"]).items == [] and len(admin.list(archived=False).items) == 4
    assert len(admin.list(event_after="2023-07-01T00:00:00Z").items) == 1
    assert [s.session_id for s in alice.sessions()] == ["s2", "s1"]
    graph = alice.graph(seeded["s2"][0]["id"])
    assert graph.center == seeded["s2"][0]["id"] and graph.nodes
    assert alice.stats().memories == 3 and admin.stats().users == 2
    assert admin.erase_preview(user_id=t.bob["id"]).memories == 1
    events = admin.audit(newest_first=True, limit=2)
    assert events[0].id > events[1].id
