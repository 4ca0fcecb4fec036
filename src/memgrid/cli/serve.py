"""`memgrid serve` and `memgrid admin ...`: run the shared server and bootstrap tenants."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from memgrid.cli.app import DbOpt, EmbOpt, app, console, emit_json
from memgrid.config import EmbedderConfig, MemgridConfig

admin_app = typer.Typer(help="Bootstrap tenants and admin keys (works on the database directly).",
                        no_args_is_help=True)
app.add_typer(admin_app, name="admin")


def server_config(db: str | None, embedder: str) -> MemgridConfig:
    config = MemgridConfig(embedder=EmbedderConfig(provider=embedder))  # type: ignore[arg-type]
    if db and db.startswith(("postgresql://", "postgres://")):
        return config.model_copy(update={"db_url": db})
    return config.model_copy(update={"path": Path(db)}) if db else config


@app.command()
def serve(db: DbOpt = None, embedder: EmbOpt = "static",
          host: Annotated[str, typer.Option()] = "127.0.0.1",
          port: Annotated[int, typer.Option()] = 8420,
          pool_size: Annotated[int | None, typer.Option(
              help="most PostgreSQL connections a process holds (memory and access each); "
                   "default MemgridConfig.pool_size")] = None,
          workers: Annotated[int, typer.Option(
              min=1, help="server processes (PostgreSQL only): one process runs Python on one core")] = 1,
) -> None:
    """Start the REST server (OpenAPI docs at /docs)."""
    import uvicorn

    from memgrid.server.app import CONFIG_ENV, create_app
    from memgrid.server.service import open_service

    config = server_config(db, embedder)
    if pool_size is not None:  # validated by the config, which owns its limits and default
        try:
            config = MemgridConfig.model_validate({**config.model_dump(), "pool_size": pool_size})
        except ValidationError as exc:
            raise typer.BadParameter(str(exc.errors()[0]["msg"]), param_hint="--pool-size") from exc
    if workers > 1:
        if not config.db_url:
            raise typer.BadParameter(
                "--workers above 1 needs PostgreSQL (--db postgresql://...): SQLite's vector index "
                "lives in one process, and every other process would rebuild it after each write")
        os.environ[CONFIG_ENV] = config.model_dump_json()
        uvicorn.run("memgrid.server.app:app_from_env", factory=True, workers=workers, host=host,
                    port=port, log_level="warning")
        return
    root_key = os.environ.get("MEMGRID_ROOT_KEY") or None
    uvicorn.run(create_app(open_service(config), root_key, close_at_shutdown=True), host=host, port=port,
                log_level="warning")


@app.command("mcp")
def mcp_server(api_key: Annotated[str, typer.Option(envvar="MEMGRID_API_KEY", help="the principal")],
               db: DbOpt = None, embedder: EmbOpt = "static",
               transport: Annotated[str, typer.Option(help="stdio | streamable-http")] = "stdio",
               host: Annotated[str, typer.Option()] = "127.0.0.1",
               port: Annotated[int, typer.Option()] = 8421) -> None:
    """Serve memory to MCP clients as the principal the API key names."""
    from memgrid.server.mcp import build_mcp
    from memgrid.server.service import open_service

    if transport not in ("stdio", "streamable-http"):
        raise typer.BadParameter("transport must be stdio or streamable-http")
    service = open_service(server_config(db, embedder))
    try:
        server = build_mcp(service, api_key)
        if transport == "stdio":
            server.run("stdio")
        else:
            server.run("streamable-http", host=host, port=port)
    finally:
        service.close()  # buffered recall counts and the vector index file are written


@admin_app.command("create-tenant")
def create_tenant(name: str, db: DbOpt = None,
                  as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Create a tenant and print its first admin API key (shown once)."""
    from memgrid.access.store import AccessStore
    from memgrid.storage import open_store

    config = server_config(db, "hashing")
    open_store(config).close()  # the memory schema first: it owns the database file
    access = AccessStore(sqlite_path=None if config.db_url else config.db_path(), postgres_url=config.db_url)
    tenant_id, admin, key = access.create_tenant(name)
    access.close()
    if as_json:
        emit_json({"tenant_id": tenant_id, "admin_id": admin.id, "api_key": key})
    else:
        console.print(f"tenant {tenant_id}, admin {admin.id}\nadmin API key (store it now): {key}")
