"""The Python client and the MCP server against a real app (in-process transports)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from memgrid import AsyncClient, Client, NotFoundError, PermissionDeniedError
from memgrid.access.models import TenantSettings
from memgrid.server.app import create_app
from memgrid.server.client import AuthenticationError
from memgrid.server.mcp import build_mcp
from memgrid.server.service import MemoryService, open_service
from tests.conftest import hashing_config


@pytest.fixture
def served(tmp_path: Path, model_home: Path) -> Iterator[tuple[MemoryService, TestClient, str]]:
    service = open_service(hashing_config(model_home, tmp_path / "s.db"))
    _, _, admin_key = service.access.create_tenant("acme")
    with TestClient(create_app(service)) as http:
        yield service, http, admin_key
    service.memory.close()


def client(http: TestClient, key: str) -> Client:
    return Client("http://testserver", key, http=http)


def test_client_verbs_and_sharing(served: tuple[MemoryService, TestClient, str]) -> None:
    _, http, admin_key = served
    admin = client(http, admin_key)
    alice_p, bob_p = admin.create_principal("user", "alice"), admin.create_principal("user", "bob")
    alice = client(http, admin.create_key(alice_p.id).secret or "")
    bob = client(http, admin.create_key(bob_p.id).secret or "")
    [m] = alice.add("alice shared roadmap notes", visibility="shared", session_id="s1")
    alice.add([{"role": "user", "content": "alice private diary notes"}])
    assert {h.memory.text for h in alice.search("notes")} == {
        "alice shared roadmap notes", "alice private diary notes"}
    assert bob.search("notes") == []
    with pytest.raises(NotFoundError):
        bob.get(m.id)
    grant = alice.grant(bob_p.id, resource="session", value="s1")
    assert [h.memory.id for h in bob.search("notes")] == [m.id]
    assert "roadmap" in bob.context("roadmap")
    with pytest.raises(PermissionDeniedError):
        bob.update(m.id, text="bob was here")
    alice.update(m.id, text="alice shared roadmap notes v2")
    assert [e.event for e in alice.history(m.id)] == ["ADD", "UPDATE"]
    assert len(alice.list().items) == 2 and len(bob.list().items) == 1
    alice.revoke_grant(grant.id)
    assert bob.search("notes") == []
    alice.add("I moved to Porto", session_id="s2")
    assert alice.consolidate()["created"] == 2
    assert alice.profile()["self|residence"].text == "I moved to Porto"
    assert alice.archive_cold(threshold=0.001) == 0  # everything was just said
    assert m.id in {r.memory.id for r in alice.related(next(
        x.id for x in alice.list().items if x.text == "alice private diary notes"))}
    with pytest.raises(PermissionDeniedError):  # a tenant's policy is for its admins
        alice.settings()
    assert admin.settings() == TenantSettings()
    with pytest.raises(PermissionDeniedError):
        alice.update_settings(TenantSettings(archive_threshold=0.2))
    assert admin.update_settings(TenantSettings(archive_threshold=0.2)).archive_threshold == 0.2
    with pytest.raises(PermissionDeniedError):
        bob.erase(user_id=alice_p.id)
    assert alice.erase(user_id=alice_p.id) == 5  # three turns and two session units
    with pytest.raises(AuthenticationError):
        client(http, "mg_bad_key").search("x")


def test_async_client(served: tuple[MemoryService, TestClient, str]) -> None:
    _, http, admin_key = served

    async def scenario() -> None:
        admin = AsyncClient("http://testserver", admin_key, http=http)
        user = await admin.create_principal("user", "carol")
        key = await admin.create_key(user.id)
        carol = AsyncClient("http://testserver", key.secret or "", http=http)
        await asyncio.gather(*(carol.add(f"async note about {w}") for w in ("tea", "jazz", "kites")))
        hits = await carol.search("jazz")
        assert hits[0].memory.text == "async note about jazz"

    asyncio.run(scenario())


def test_mcp_tools_through_the_sdk_client(served: tuple[MemoryService, TestClient, str]) -> None:
    from mcp import Client as MCPClient

    service, _, admin_key = served
    admin = service.access.authenticate(admin_key)
    assert admin is not None
    dana = service.access.create_principal(admin.tenant_id, "user", "dana")
    key = service.access.create_key(dana.id).secret or ""
    server = build_mcp(service, key)

    async def scenario() -> None:
        async with MCPClient(server) as mcp:
            names = {t.name for t in (await mcp.list_tools()).tools}
            assert {"remember", "recall", "get_context", "forget"} <= names
            stored = await mcp.call_tool("remember", {"text": "dana prefers window seats"})
            memory_id = json.loads(stored.content[0].text)["id"] if stored.content else None  # type: ignore[union-attr]
            recalled = await mcp.call_tool("recall", {"query": "window seats"})
            assert "window seats" in recalled.content[0].text  # type: ignore[union-attr]
            context = await mcp.call_tool("get_context", {"query": "seats"})
            assert "window seats" in context.content[0].text  # type: ignore[union-attr]
            assert memory_id
            await mcp.call_tool("forget", {"memory_id": memory_id})
            recalled = await mcp.call_tool("recall", {"query": "window seats"})
            assert "window seats" not in str(recalled.content)

    asyncio.run(scenario())
    service.access.revoke_key(dana.tenant_id, key.split("_")[1])
    with pytest.raises(PermissionDeniedError):
        build_mcp(service, key)


def test_mcp_tool_errors_say_why_and_unknown_arguments_are_refused(
        served: tuple[MemoryService, TestClient, str], caplog: pytest.LogCaptureFixture) -> None:
    from mcp import Client as MCPClient

    service, _, admin_key = served
    admin = service.access.authenticate(admin_key)
    assert admin is not None
    erin = service.access.create_principal(admin.tenant_id, "user", "erin")
    server = build_mcp(service, service.access.create_key(erin.id).secret or "")

    async def scenario() -> None:
        async with MCPClient(server, raise_exceptions=False) as mcp:
            for tool, args, reason in [
                ("forget", {"memory_id": "missing"}, "no memory"),
                ("remember", {"text": ""}, "empty"),
                ("recall", {"query": "x", "limit": 0}, "limit"),
                ("recall", {"query": "x", "colour": "red"}, "unknown argument"),
                ("remember", {"text": "x", "visibility": "public"}, "visibility"),
            ]:
                result = await mcp.call_tool(tool, args)
                assert result.is_error, (tool, args)
                assert reason in str(result.content), (tool, args, result.content)

    asyncio.run(scenario())
    assert "Traceback" not in caplog.text
