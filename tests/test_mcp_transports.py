"""The MCP server as users run it: `memgrid mcp` over stdio and over streamable HTTP."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from memgrid.bench.load import free_port

pytestmark = pytest.mark.slow


def bootstrap(db: Path, env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "memgrid", "admin", "create-tenant", "t", "--db", str(db),
                          "--json"], capture_output=True, text=True, env=env, check=True)
    admin_key = json.loads(out.stdout)["api_key"]
    # the admin key serves as the MCP principal here; admins write for a named user
    return str(admin_key)


async def exercise(client_target: object) -> None:
    from mcp import Client as MCPClient

    async with MCPClient(client_target) as mcp:  # type: ignore[arg-type]
        tools = {t.name for t in (await mcp.list_tools()).tools}
        assert {"remember", "recall", "get_context", "forget"} <= tools
        stored = await mcp.call_tool("remember", {"text": "the wifi password is on the fridge",
                                                  "user_id": "u1"})
        assert not stored.is_error, stored
        found = await mcp.call_tool("recall", {"query": "wifi password"})
        assert "fridge" in str(found.content)


def authorized(url: str, key: str) -> object:
    """A streamable-HTTP transport that sends the key with every request."""
    import httpx2
    from mcp.client.streamable_http import streamable_http_client

    return streamable_http_client(url, http_client=httpx2.AsyncClient(
        headers={"Authorization": f"Bearer {key}"}, timeout=30))


def test_stdio(tmp_path: Path, model_home: Path) -> None:
    from mcp.client.stdio import StdioServerParameters

    env = {**os.environ, "MEMGRID_HOME": str(model_home)}
    key = bootstrap(tmp_path / "m.db", env)
    params = StdioServerParameters(command=sys.executable, args=[
        "-m", "memgrid", "mcp", "--db", str(tmp_path / "m.db"), "--embedder", "hashing"],
        env={**env, "MEMGRID_API_KEY": key})
    asyncio.run(exercise(params))


def test_streamable_http(tmp_path: Path, model_home: Path) -> None:
    env = {**os.environ, "MEMGRID_HOME": str(model_home)}
    key = bootstrap(tmp_path / "m.db", env)
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "memgrid", "mcp", "--db", str(tmp_path / "m.db"),
                             "--embedder", "hashing", "--transport", "streamable-http", "--port", str(port)],
                            env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/mcp", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}/mcp"
        # no key, a wrong key: refused before any MCP session exists
        assert httpx.post(url, json={}).status_code == 401
        assert httpx.post(url, json={}, headers={"Authorization": "Bearer mg_x_y"}).status_code == 401
        asyncio.run(exercise(authorized(url, key)))
        with pytest.raises(BaseException):  # noqa: B017 - the SDK wraps the 401 in task groups
            asyncio.run(exercise(authorized(url, key + "x")))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
