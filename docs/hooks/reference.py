"""MkDocs hook: the REST, MCP and CLI reference pages are rendered at build time from the running
code (the server's OpenAPI document, the MCP server's tool list, the Typer app), so they cannot
drift from it. A page asks for one with a marker line: `<!-- reference:rest -->` etc."""

from __future__ import annotations

import asyncio
import json
import tempfile
from functools import cache
from pathlib import Path
from typing import Any

METHODS = ("get", "post", "put", "patch", "delete")


def on_page_markdown(markdown: str, page: Any, config: Any, files: Any) -> str:
    for name, render in (("rest", rest), ("mcp", mcp), ("cli", cli)):
        marker = f"<!-- reference:{name} -->"
        if marker in markdown:
            markdown = markdown.replace(marker, render())
    return markdown


def on_files(files: Any, config: Any) -> Any:
    """The OpenAPI document itself, for clients and code generators."""
    from mkdocs.structure.files import File

    files.append(File.generated(config, "openapi.json", content=json.dumps(_spec(), indent=1)))
    return files


@cache
def _service_parts() -> tuple[Any, str]:
    """A throwaway embedded server (hashing embedder: no model) and an admin key for it."""
    from memgrid.access.store import AccessStore
    from memgrid.config import EmbedderConfig, MemgridConfig
    from memgrid.server.service import open_service

    home = Path(tempfile.mkdtemp(prefix="memgrid-docs-"))
    config = MemgridConfig(home=home, path=home / "docs.db", embedder=EmbedderConfig(provider="hashing"))
    service = open_service(config)
    access = AccessStore(sqlite_path=config.db_path(), postgres_url=None)
    _, _, key = access.create_tenant("docs")
    access.close()
    return service, key


@cache
def _spec() -> dict[str, Any]:
    from memgrid.server.app import create_app

    spec: dict[str, Any] = create_app(_service_parts()[0]).openapi()
    return spec


def _ref(schema: dict[str, Any]) -> str:
    if "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if "oneOf" in schema or "anyOf" in schema:
        return " or ".join(_ref(s) for s in schema.get("oneOf") or schema["anyOf"])
    if schema.get("type") == "array":
        return f"list of {_ref(schema.get('items', {}))}"
    return f"`{schema.get('type', 'object')}`"


def _group(path: str) -> str:
    part = path.split("/")[2] if path.startswith("/v1/") else ""
    return {"memories": "Memories", "context": "Memories", "erase": "Memories",
            "lifecycle": "Lifecycle", "admin": "Tenants and principals", "keys": "Keys",
            "grants": "Grants", "audit": "Audit"}.get(part, "Service")


def _cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def rest() -> str:
    spec = _spec()
    out = [f"OpenAPI {spec['openapi']}, API version {spec['info']['version']}. The same document is "
           "served by every server at `/openapi.json` (interactive at `/docs`) and is "
           "[part of this site](../openapi.json).", ""]
    by_tag: dict[str, list[tuple[str, str, dict[str, Any]]]] = {}
    for path, item in spec["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                by_tag.setdefault(_group(path), []).append((method, path, op))
    for tag, ops in by_tag.items():
        out += [f"## {tag}", ""]
        for method, path, op in ops:
            out += [f"### `{method.upper()} {path}`", ""]
            if op.get("summary"):
                out += [f"**{_cell(op['summary'])}**", ""]
            if op.get("description"):
                out += [op["description"].strip(), ""]
            params = op.get("parameters", [])
            if params:
                out += ["| parameter | in | type | required | description |", "|---|---|---|---|---|"]
                out += [f"| `{p['name']}` | {p['in']} | {_ref(p.get('schema', {}))} | "
                        f"{'yes' if p.get('required') else 'no'} | {_cell(p.get('description', ''))} |"
                        for p in params]
                out.append("")
            body = op.get("requestBody", {}).get("content", {}).get("application/json")
            if body:
                out += [f"Body: {_ref(body.get('schema', {}))}", ""]
            out += ["| status | meaning |", "|---|---|"]
            out += [f"| {code} | {_cell(r.get('description', ''))} |" for code, r in op["responses"].items()]
            out.append("")
    out += ["## Schemas", ""]
    for name, schema in spec["components"]["schemas"].items():
        props = schema.get("properties", {})
        out += [f"### `{name}`", "", _cell(schema.get("description", "")), ""]
        if props:
            required = set(schema.get("required", []))
            out += ["| field | type | required | description |", "|---|---|---|---|"]
            out += [f"| `{k}` | {_ref(v)} | {'yes' if k in required else 'no'} | "
                    f"{_cell(v.get('description', ''))} |" for k, v in props.items()]
            out.append("")
    return "\n".join(out)


def mcp() -> str:
    from memgrid.server.mcp import build_mcp

    service, key = _service_parts()
    tools = asyncio.run(build_mcp(service, key).list_tools())
    out: list[str] = []
    for tool in tools:
        out += [f"## `{tool.name}`", "", (tool.description or "").strip(), ""]
        props = tool.input_schema.get("properties", {})
        required = set(tool.input_schema.get("required", []))
        out += ["| argument | type | required | default |", "|---|---|---|---|"]
        out += [f"| `{k}` | {_ref(v)} | {'yes' if k in required else 'no'} | "
                f"{'' if 'default' not in v else '`' + json.dumps(v['default']) + '`'} |"
                for k, v in props.items()]
        out.append("")
    return "\n".join(out)


def cli() -> str:
    import typer
    from typer.cli import get_docs_for_click

    from memgrid.cli.main import app

    command = typer.main.get_command(app)
    with typer.Context(command) as ctx:  # type: ignore[arg-type]
        text: str = get_docs_for_click(obj=command, ctx=ctx, name="memgrid")
    # Typer's page starts with its own level-1 title; this page has one
    return text.split("\n", 1)[1] if text.startswith("# ") else text
