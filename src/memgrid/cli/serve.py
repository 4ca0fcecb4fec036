"""`memgrid serve` and `memgrid admin ...`: run the shared server and bootstrap tenants."""

from __future__ import annotations

import os
import signal
import sys
from typing import Annotated

import typer
from pydantic import ValidationError

from memgrid.cli.app import (
    DbOpt,
    EmbOpt,
    LlmModelOpt,
    LlmUrlOpt,
    app,
    console,
    emit_json,
    err,
    fail,
    llm_config,
    memory_config,
    recorded_embedder,
)
from memgrid.config import MemgridConfig
from memgrid.errors import MemgridError

# only uvicorn's access log gets a handler: its startup lines (INFO) reach no handler and stay quiet
ACCESS_LOG_CONFIG = {
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"access": {"()": "uvicorn.logging.AccessFormatter",
                              "fmt": '%(asctime)s %(client_addr)s "%(request_line)s" %(status_code)s'}},
    "handlers": {"access": {"formatter": "access", "class": "logging.StreamHandler",
                            "stream": "ext://sys.stderr"}},
    "loggers": {"uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False}},
}

admin_app = typer.Typer(help="Bootstrap tenants and admin keys (works on the database directly).",
                        no_args_is_help=True)
app.add_typer(admin_app, name="admin")


def server_config(db: str | None, embedder: str | None, create: bool = False) -> MemgridConfig:
    """Like the other verbs, only `admin create-tenant` may start a new database."""
    return memory_config(db, embedder, create=create)


@app.command()
def serve(db: DbOpt = None, embedder: EmbOpt = None,
          host: Annotated[str, typer.Option()] = "127.0.0.1",
          port: Annotated[int, typer.Option()] = 8420,
          pool_size: Annotated[int | None, typer.Option(
              help="most PostgreSQL connections a process holds (memory and access each); "
                   "default MemgridConfig.pool_size")] = None,
          workers: Annotated[int, typer.Option(
              min=1, help="server processes (PostgreSQL only): one process runs Python on one core")] = 1,
          access_log: Annotated[bool, typer.Option(help="a line per request on stderr")] = True,
          llm_base_url: LlmUrlOpt = None, llm_model: LlmModelOpt = None,
) -> None:
    """Start the REST server (OpenAPI docs at /docs)."""
    import uvicorn

    from memgrid.server.app import CONFIG_ENV, create_app
    from memgrid.server.service import open_service

    config = server_config(db, embedder).model_copy(update={"llm": llm_config(llm_base_url, llm_model)})
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
        err.print(f"memgrid listening on http://{host}:{port} ({workers} processes; OpenAPI at /docs)")
        uvicorn.run("memgrid.server.app:app_from_env", factory=True, workers=workers, host=host,
                    port=port, log_level="info", access_log=access_log, log_config=ACCESS_LOG_CONFIG)
        return
    root_key = os.environ.get("MEMGRID_ROOT_KEY") or None
    try:
        service = open_service(config)
    except MemgridError as exc:
        fail(str(exc))
    err.print(f"memgrid listening on http://{host}:{port} (OpenAPI at /docs)")
    # the access log is uvicorn's (one line per request); its startup chatter stays off
    uvicorn.run(create_app(service, root_key, close_at_shutdown=True), host=host, port=port,
                log_level="info", access_log=access_log, log_config=ACCESS_LOG_CONFIG)


@app.command("ui")
def ui(db: DbOpt = None, embedder: EmbOpt = None,
       port: Annotated[int, typer.Option()] = 8422,
       tenant: Annotated[str | None, typer.Option(
           help="tenant id or name (default: the embedded store's own, 'default')")] = None,
       access_log: Annotated[bool, typer.Option(help="a line per request on stderr")] = False,
       ) -> None:
    """Open the web console on a store, on 127.0.0.1 only, with an admin key made for this run
    (revoked when it stops)."""
    import uvicorn

    from memgrid.server.app import create_app
    from memgrid.server.service import open_service

    config = server_config(db, embedder)
    try:
        service = open_service(config)
        tenant_id = service.access.find_tenant(tenant) if tenant else config.tenant_id
        key = service.access.console_key(tenant_id)
    except MemgridError as exc:
        fail(str(exc))
    # the key rides in the URL fragment, which the browser never sends to a server
    console.print(f"memgrid console: http://127.0.0.1:{port}/ui/#key={key.secret}", soft_wrap=True)
    err.print("Open that address in a browser on this machine; Ctrl+C stops the console and revokes its key.")
    # uvicorn re-raises a caught SIGTERM once it has stopped: with Python's default handler that
    # would end the process before the key is revoked, so it becomes SystemExit here
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        uvicorn.run(create_app(service), host="127.0.0.1", port=port, log_level="warning",
                    access_log=access_log, log_config=ACCESS_LOG_CONFIG)
    finally:
        service.access.revoke_key(tenant_id, key.id)
        service.close()


@app.command("mcp")
def mcp_server(api_key: Annotated[str | None, typer.Option(
                   envvar="MEMGRID_API_KEY", help="stdio: the principal (HTTP: each request's key)")] = None,
               db: DbOpt = None, embedder: EmbOpt = None,
               transport: Annotated[str, typer.Option(help="stdio | streamable-http")] = "stdio",
               host: Annotated[str, typer.Option(help="HTTP: the address to bind")] = "127.0.0.1",
               port: Annotated[int, typer.Option()] = 8421) -> None:
    """Serve memory to MCP clients: over stdio as the principal of MEMGRID_API_KEY; over
    streamable HTTP at /mcp, where every request sends its own `Authorization: Bearer` key."""
    import uvicorn

    from memgrid.server.mcp import build_mcp, http_app
    from memgrid.server.service import open_service

    if transport not in ("stdio", "streamable-http"):
        fail("--transport must be stdio or streamable-http")
    if transport == "stdio" and not api_key:
        fail("stdio needs the principal's key: set MEMGRID_API_KEY or pass --api-key")
    try:
        service = open_service(server_config(db, embedder))
    except MemgridError as exc:
        fail(str(exc))
    try:
        if transport == "stdio":
            try:
                server = build_mcp(service, api_key)
            except MemgridError as exc:
                fail(str(exc))
            server.run("stdio")
        else:
            err.print(f"MCP (streamable HTTP) listening on http://{host}:{port}/mcp; each request "
                      f"needs 'Authorization: Bearer <api key>'")
            uvicorn.run(http_app(service), host=host, port=port, log_level="warning")
    finally:
        service.close()  # buffered recall counts and the vector index file are written


@admin_app.command("create-tenant")
def create_tenant(name: str, db: DbOpt = None,
                  as_json: Annotated[bool, typer.Option("--json")] = False,
                  if_missing: Annotated[bool, typer.Option(
                      "--if-missing", help="a tenant of that name already there is not an error "
                                           "(for container start-up); no key is printed then")] = False,
                  ) -> None:
    """Create a tenant and print its first admin API key (shown once)."""
    from memgrid.access.store import AccessStore
    from memgrid.storage import open_store

    # no embedder is loaded here: the one named only has to agree with the store's own
    config = server_config(db, recorded_embedder(db) or "hashing", create=True)
    open_store(config).close()  # the memory schema first: it owns the database file
    access = AccessStore(sqlite_path=None if config.db_url else config.db_path(), postgres_url=config.db_url)
    try:
        existing = [t for t, n in access.tenants().items() if n == name]
        if if_missing and existing:
            if as_json:
                emit_json({"tenant_id": existing[0], "created": False})
            else:
                err.print(f"tenant {name!r} exists ({existing[0]}); its admin key was shown when it was made")
            return
        try:
            tenant_id, admin, key = access.create_tenant(name)
        except MemgridError as exc:
            fail(str(exc))
    finally:
        access.close()
    if as_json:
        emit_json({"tenant_id": tenant_id, "admin_id": admin.id, "api_key": key, "created": True})
    else:
        # one unwrapped line, so a log reader (grep "admin API key") gets the whole key
        console.print(f"tenant {tenant_id}, admin {admin.id}\nadmin API key (store it now): {key}",
                      soft_wrap=True)
