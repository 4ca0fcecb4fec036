"""`memgrid` command line: the SDK's verbs for shells and scripts (`--json`) and people (tables)."""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from memgrid.config import EmbedderConfig, LLMConfig, MemgridConfig
from memgrid.errors import InvalidInputError, MemgridError
from memgrid.importers import is_locomo, load_locomo
from memgrid.memory import Memory

app = typer.Typer(help="Long-term memory for AI agents.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
bench_app = typer.Typer(help="Benchmarks: speed, LoCoMo recall.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")


def _print_version(value: bool) -> None:
    if value:
        import memgrid

        typer.echo(f"memgrid {memgrid.__version__}")
        raise typer.Exit()


@app.callback()
def _options(version: Annotated[bool, typer.Option(
        "--version", callback=_print_version, is_eager=True, help="print the version and exit")] = False,
             ) -> None:
    """Long-term memory for AI agents."""
console = Console()
err = Console(stderr=True, soft_wrap=True)
T = TypeVar("T")

DbOpt = Annotated[str | None, typer.Option(
    "--db", help="SQLite file (default $MEMGRID_HOME/memgrid.db) or postgresql://... URL")]
EmbOpt = Annotated[str | None, typer.Option(
    "--embedder", help="static | minilm | hashing | openai[:MODEL] (openai reads OPENAI_API_KEY); "
                       "default: the one the database was built with, else static")]
TenantOpt = Annotated[str | None, typer.Option(
    "--tenant", help="tenant id or name (a server database); default: the embedded 'default'")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
LlmUrlOpt = Annotated[str | None, typer.Option(
    "--llm-base-url", envvar="MEMGRID_LLM_BASE_URL",
    help="an OpenAI-compatible endpoint (http://127.0.0.1:8080/v1), or 'local' for the packaged model")]
LlmModelOpt = Annotated[str | None, typer.Option(
    "--llm-model", envvar="MEMGRID_LLM_MODEL", help="the model name the endpoint expects")]


def llm_config(base_url: str | None, model: str | None) -> LLMConfig:
    """The model the options (or MEMGRID_LLM_*) name; the API key only ever from the environment.
    A local model of another size is refused here, before any command starts its work."""
    config = LLMConfig().model_copy(update={"base_url": base_url, "model": model})
    if config.base_url == "local":
        try:
            config.packaged_model  # noqa: B018 - raises for a size that is not packaged
        except InvalidInputError as exc:
            raise typer.BadParameter(str(exc), param_hint="--llm-model") from None
    return config

UserOpt = Annotated[str | None, typer.Option(
    "--user", "-u", help="user id (on a server tenant: the principal id; `memgrid users` lists them)")]
AgentOpt = Annotated[str | None, typer.Option("--agent", "-a", help="agent id")]
SessionOpt = Annotated[str | None, typer.Option("--session", "-s", help="session id")]
POSTGRES_URL = ("postgresql://", "postgres://")


def fail(message: str) -> NoReturn:
    """One red line on stderr and exit code 2: what was wrong and what to do."""
    err.print(f"[red]error:[/red] {escape(message)}")
    raise typer.Exit(2)


def memory_config(db: str | None, embedder: str | None, tenant: str | None = None,
                  create: bool = False) -> MemgridConfig:
    """The configuration the options name. Only verbs that write (`create`) may start a new
    database: a mistyped --db elsewhere is an error, not an empty store."""
    recorded = recorded_embedder(db)
    if embedder and recorded and embedder.partition(":")[0] != recorded.partition(":")[0]:
        fail(f"{db or 'the default store'} was built with --embedder {recorded}, not {embedder}; "
             "leave --embedder out to use its own")
    embedder = embedder or recorded or "static"
    provider, _, model = embedder.partition(":")
    try:
        config = MemgridConfig(embedder=EmbedderConfig.model_validate(
            {"provider": provider, "model": model or None}))
    except ValidationError:
        fail(f"--embedder {embedder!r} is not one of static, minilm, hashing, openai[:MODEL]")
    if db and db.startswith(POSTGRES_URL):
        config = config.model_copy(update={"db_url": db})
    elif db:
        config = config.model_copy(update={"path": Path(db)})
    if not config.db_url and not create and not config.db_path().exists():
        fail(f"no memgrid database at {config.db_path()}; check --db (add and import create one)")
    if tenant is not None:
        config = config.model_copy(update={"tenant_id": server_tenant(config, tenant) or tenant})
    return config


def recorded_embedder(db: str | None) -> str | None:
    """The --embedder an existing SQLite store was built with (read without opening it as a
    store, so no model is loaded or built first); None when there is none to read."""
    if db is not None and db.startswith(POSTGRES_URL):
        return None
    path = MemgridConfig(path=Path(db) if db else None).db_path()
    if not path.exists():
        return None
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as conn:
            row = conn.execute("SELECT value FROM meta WHERE key = 'embedder'").fetchone()
    except sqlite3.Error:
        return None  # not a memgrid file: opening it says so
    name = str(json.loads(row[0])["name"]) if row else ""
    if name.startswith("openai:"):
        return name
    for prefix, provider in (("hashing-", "hashing"), ("minilm-l6-v2-static-", "static"),
                             ("minilm-l6-v2", "minilm")):
        if name.startswith(prefix):
            return provider
    return None


def server_tenant(config: MemgridConfig, tenant: str) -> str | None:
    """The id of a server database's tenant named by id or name; None for an embedded store."""
    from memgrid.access.store import AccessStore, has_access_tables

    if not has_access_tables(config):
        return None
    access = AccessStore(sqlite_path=None if config.db_url else config.db_path(), postgres_url=config.db_url)
    try:
        return access.find_tenant(tenant)
    finally:
        access.close()


def open_memory(db: str | None, embedder: str | None, tenant: str | None = None,
                create: bool = False, llm: LLMConfig | None = None) -> Memory:
    # a command's process is short: queued extraction is drained in the foreground
    # (`memgrid extract drain`), never by a thread that closing would wait for
    config = memory_config(db, embedder, tenant, create).model_copy(update={"extraction_worker": False})
    return Memory(config=config if llm is None else config.model_copy(update={"llm": llm}))


def run(db: str | None, embedder: str | None, action: Callable[[Memory], T], tenant: str | None = None,
        create: bool = False, llm: LLMConfig | None = None) -> T:
    """Open, act, close; bad input and memgrid's errors become one red line and exit code 2."""
    try:
        with open_memory(db, embedder, tenant, create, llm) as mem:
            return action(mem)
    except (MemgridError, ValidationError) as exc:
        fail(str(exc))


def json_object(value: str | None, option: str) -> dict[str, Any] | None:
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        fail(f"{option} is not JSON ({exc.msg}); pass an object like '{{\"key\": \"value\"}}'")
    if not isinstance(parsed, dict):
        fail(f"{option} must be a JSON object, not {type(parsed).__name__}")
    return parsed


def emit_json(value: Any) -> None:
    sys.stdout.write(json.dumps(value, default=str, ensure_ascii=False) + "\n")


def memories_table(rows: list[dict[str, Any]], title: str, score: bool = False) -> Table:
    table = Table(title=title, show_lines=False)
    if score:
        table.add_column("score", justify="right")
    for col in ("id", "when", "who", "text"):
        table.add_column(col, overflow="fold")
    for r in rows:
        m = r.get("memory", r)
        when = str(m.get("event_time") or m.get("created_at"))[:16]
        text = escape(m["text"])
        if m.get("superseded_by") and m.get("valid_to"):  # evidence, no longer the present
            text += f" [dim](was true until {str(m['valid_to'])[:10]})[/dim]"
        cells = [m["id"][:12], when, m.get("speaker") or m.get("user_id") or "", text]
        table.add_row(*([f"{r['score']:.4f}"] if score else []), *cells)
    return table


@app.command()
def add(text: str, db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
        user: UserOpt = None, agent: AgentOpt = None, session: SessionOpt = None,
        timestamp: Annotated[str | None, typer.Option(help="ISO 8601 event time")] = None,
        metadata: Annotated[str | None, typer.Option(help="JSON object")] = None,
        infer: Annotated[bool, typer.Option(
            "--infer", help="a model also extracts facts about the user (needs --llm-base-url)")] = False,
        background: Annotated[bool, typer.Option(
            "--background", help="with --infer: queue the extraction for `memgrid extract drain` "
                                 "(or a server on the same store) and return")] = False,
        llm_base_url: LlmUrlOpt = None, llm_model: LlmModelOpt = None,
        as_json: JsonOpt = False) -> None:
    """Remember TEXT for a user or agent."""
    meta = json_object(metadata, "--metadata")
    added = run(db, embedder, lambda m: m.add(text, user_id=user, agent_id=agent, session_id=session,
                                              timestamp=timestamp, metadata=meta, source="cli",
                                              infer=infer, background=background),
                tenant, create=True, llm=llm_config(llm_base_url, llm_model) if infer else None)
    if as_json:
        emit_json([a.model_dump(mode="json") for a in added])
        return
    console.print(f"added {len(added)}" + (f": {added[0].id}" if added else " (duplicate)"))
    for fact in added.facts:
        console.print(f"  {fact.event} {fact.text}", markup=False)
    if added.queued:
        console.print("  fact extraction queued: `memgrid extract drain` runs it", markup=False)


@app.command()
def search(query: str, db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
           user: UserOpt = None, agent: AgentOpt = None, session: SessionOpt = None,
           limit: Annotated[int, typer.Option("--limit", "-k")] = 10,
           as_of: Annotated[str | None, typer.Option(help="what was true at this ISO time")] = None,
           archived: Annotated[bool, typer.Option("--archived", help="include archived memories")] = False,
           deep: Annotated[bool, typer.Option(
               "--deep", help="a model splits the question and reranks (needs --llm-base-url)")] = False,
           llm_base_url: LlmUrlOpt = None, llm_model: LlmModelOpt = None, as_json: JsonOpt = False) -> None:
    """Recall memories relevant to QUERY."""
    hits = run(db, embedder, lambda m: m.search(query, user_id=user, agent_id=agent, session_id=session,
                                                limit=limit, as_of=as_of, include_archived=archived,
                                                deep=deep),
               tenant, llm=llm_config(llm_base_url, llm_model) if deep else None)
    rows = [h.model_dump(mode="json") for h in hits]
    if as_json:
        emit_json(rows)
    else:
        console.print(memories_table(rows, f"{len(rows)} hits for {query!r}", score=True))


@app.command()
def context(query: str, db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
            user: UserOpt = None, agent: AgentOpt = None, session: SessionOpt = None,
            budget: Annotated[int, typer.Option("--budget", help="tokens")] = 800,
            as_json: JsonOpt = False) -> None:
    """Print a prompt-ready memory block for QUERY within a token budget."""
    block = run(db, embedder, lambda m: m.context(query, user_id=user, agent_id=agent, session_id=session,
                                                  token_budget=budget), tenant)
    if as_json:
        emit_json({"context": block})
    else:
        console.print(block, markup=False)


@app.command()
def get(memory_id: str, db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
        as_json: JsonOpt = False) -> None:
    """Show one memory (a unique prefix of its id will do)."""
    record = run(db, embedder, lambda m: m.get(m.find_id(memory_id)), tenant).model_dump(mode="json")
    if as_json:
        emit_json(record)
    else:
        console.print_json(json.dumps(record, default=str))


@app.command("list")
def list_(db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None, user: UserOpt = None,
          agent: AgentOpt = None, session: SessionOpt = None, cursor: str | None = None, limit: int = 50,
          as_json: JsonOpt = False) -> None:
    """List memories a page at a time."""
    page = run(db, embedder, lambda m: m.list(user_id=user, agent_id=agent, session_id=session,
                                              cursor=cursor, limit=limit), tenant)
    if as_json:
        emit_json(page.model_dump(mode="json"))
        return
    console.print(memories_table([i.model_dump(mode="json") for i in page.items], "memories"))
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


@app.command()
def users(db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
          as_json: JsonOpt = False) -> None:
    """The users and agents with memories in this store, with counts."""
    owners = [o.model_dump(mode="json") for o in run(db, embedder, lambda m: m.users(), tenant)]
    if as_json:
        emit_json(owners)
        return
    table = Table(title="owners")
    for col in ("user", "agent", "memories", "sessions", "latest"):
        table.add_column(col)
    for o in owners:
        table.add_row(o["user_id"] or "", o["agent_id"] or "", str(o["memories"]), str(o["sessions"]),
                      (o["latest"] or "")[:16])
    console.print(table)


@app.command()
def update(memory_id: str, text: Annotated[str | None, typer.Option()] = None,
           metadata: Annotated[str | None, typer.Option(help="JSON object")] = None,
           importance: Annotated[float | None, typer.Option(help="0..1")] = None,
           event_time: Annotated[str | None, typer.Option(help="ISO 8601 time it happened")] = None,
           db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
           as_json: JsonOpt = False) -> None:
    """Change a memory's text, metadata, importance or time (history keeps the old version)."""
    meta = json_object(metadata, "--metadata")
    record = run(db, embedder, lambda m: m.update(m.find_id(memory_id), text=text, metadata=meta,
                                                  importance=importance, event_time=event_time), tenant)
    if as_json:
        emit_json(record.model_dump(mode="json"))
    else:
        console.print(f"updated {record.id} to version {record.version}")


@app.command()
def history(memory_id: str, db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
            as_json: JsonOpt = False) -> None:
    """Every version of a memory (also of a deleted one, until erase)."""
    entries = [e.model_dump(mode="json")
               for e in run(db, embedder, lambda m: m.history(m.find_id(memory_id)), tenant)]
    if as_json:
        emit_json(entries)
        return
    table = Table(title=f"history of {memory_id}")
    for col in ("version", "event", "at", "actor", "text"):
        table.add_column(col, overflow="fold")
    for e in entries:
        table.add_row(str(e["version"]), e["event"], e["at"][:19], e["actor"] or "", e["text"])
    console.print(table)


@app.command()
def chain(memory_id: str, db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
          as_json: JsonOpt = False) -> None:
    """A fact's versions across memories: what it superseded and what superseded it."""
    records = [r.model_dump(mode="json")
               for r in run(db, embedder, lambda m: m.chain(m.find_id(memory_id)), tenant)]
    if as_json:
        emit_json(records)
    else:
        console.print(memories_table(records, f"chain of {memory_id}"))


@app.command()
def related(memory_id: str, db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
            as_json: JsonOpt = False, limit: Annotated[int, typer.Option(help="how many")] = 10) -> None:
    """Memories linked to this one on write (similar meaning, same people or things)."""
    links = run(db, embedder, lambda m: m.related(m.find_id(memory_id), limit=limit), tenant)
    found = [r.model_dump(mode="json") for r in links]
    if as_json:
        emit_json(found)
        return
    table = Table(title=f"related to {memory_id}")
    for col in ("weight", "kinds", "id", "text"):
        table.add_column(col, overflow="fold")
    for r in found:
        table.add_row(f"{r['weight']:.2f}", ",".join(r["kinds"]), r["memory"]["id"], r["memory"]["text"])
    console.print(table)


@app.command()
def profile(user: Annotated[str, typer.Option("--user", "-u", help="user id")],
            db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
            as_json: JsonOpt = False) -> None:
    """The facts currently true about a user (core memory), each with its evidence id."""
    facts = run(db, embedder, lambda m: m.profile(user_id=user), tenant)
    if as_json:
        emit_json({k: v.model_dump(mode="json") for k, v in facts.items()})
        return
    table = Table(title=f"profile of {user}")
    for col in ("fact", "value", "since", "evidence"):
        table.add_column(col, overflow="fold")
    for key, record in facts.items():
        since = str(record.event_time or record.created_at)[:10]
        table.add_row(key, record.fact_value or "", since, record.id)
    console.print(table)


@app.command()
def consolidate(db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
                user: UserOpt = None, agent: AgentOpt = None, as_json: JsonOpt = False) -> None:
    """Build or refresh session units and topic summaries (incremental; verbatim stays)."""
    report = run(db, embedder, lambda m: m.consolidate(user_id=user, agent_id=agent), tenant)
    if as_json:
        emit_json(report.counts())
    else:
        t = report.topics
        console.print(f"{report.sessions} sessions: {report.created} created, {report.updated} updated, "
                      f"{report.unchanged} unchanged; {t.topics} topics: {t.created} created, "
                      f"{t.updated} updated, {t.unchanged} unchanged, {t.removed} removed; "
                      f"{report.backfilled} older memories linked")


@app.command()
def archive(db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None, user: UserOpt = None,
            threshold: Annotated[float, typer.Option(help="retention below which to archive")] = 0.05,
            as_json: JsonOpt = False) -> None:
    """Move cold memories (low retention) to the archive tier; nothing is deleted."""
    count = run(db, embedder, lambda m: m.archive_cold(user_id=user, threshold=threshold), tenant)
    if as_json:
        emit_json({"archived": count})
    else:
        console.print(f"archived {count} memories")


@app.command()
def delete(memory_id: str, db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
           as_json: JsonOpt = False) -> None:
    """Delete one memory (its history stays until erase)."""
    def action(mem: Memory) -> str:
        found = mem.find_id(memory_id)
        mem.delete(found)
        return found

    deleted = run(db, embedder, action, tenant)
    if as_json:
        emit_json({"deleted": deleted})
    else:
        console.print(f"deleted {deleted}")


@app.command()
def erase(db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None, user: UserOpt = None,
          agent: AgentOpt = None, session: SessionOpt = None,
          all_owners: Annotated[bool, typer.Option(
              "--all-owners", help="with only --session: that session of every user and agent")] = False,
          yes: Annotated[bool, typer.Option("--yes", help="do not ask")] = False,
          as_json: JsonOpt = False) -> None:
    """Remove every trace of a user, agent or one owner's session."""
    def action(mem: Memory) -> int:
        owners = mem.erase_preview(user_id=user, agent_id=agent, session_id=session, all_owners=all_owners)
        if not yes:
            total = sum(o.memories for o in owners)
            names = ", ".join(o.user_id or f"agent {o.agent_id}" for o in owners[:5])
            more = f" and {len(owners) - 5} more" if len(owners) > 5 else ""
            typer.confirm(f"erase {total} memories of {len(owners)} owner(s) ({names or 'none'}{more})"
                          + (f" in session {session!r}" if session else "") + "?", abort=True)
        return mem.erase(user_id=user, agent_id=agent, session_id=session, all_owners=all_owners)

    count = run(db, embedder, action, tenant)
    if as_json:
        emit_json({"erased": count})
    else:
        console.print(f"erased {count} memories")


@app.command("import")
def import_(path: Annotated[Path, typer.Argument(
                exists=True, dir_okay=False, readable=True,
                help="a LoCoMo .json conversation or a memgrid .jsonl export")],
            db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None, user: UserOpt = None,
            as_json: JsonOpt = False) -> None:
    """Import a LoCoMo conversation (JSON) or a memgrid export (JSONL). Into a server tenant,
    each user and agent is matched to a principal by id or name, or created (reported)."""
    if path.suffix == ".jsonl":
        lines = read_jsonl(path)
    else:
        try:
            raw = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            fail(f"{path} is not JSON ({exc}); expected a LoCoMo .json or a memgrid .jsonl export")
        if not is_locomo(raw):
            fail(f"{path} is not a LoCoMo conversation; expected a LoCoMo .json or a memgrid .jsonl export")
    config = memory_config(db, embedder, tenant, create=True)
    mapped: dict[str, Any] = {}

    def action(mem: Memory) -> int:
        if path.suffix == ".jsonl":
            records = map_owners(config, lines, mapped)
            with Progress(console=err, disable=as_json) as bar:
                task = bar.add_task("importing", total=len(records))
                added = 0
                for start in range(0, len(records), 512):
                    added += mem.import_records(records[start : start + 512])
                    bar.advance(task, len(records[start : start + 512]))
            return added
        conv = load_locomo(path)
        owner = map_owners(config, [{"user_id": user or conv.sample_id}], mapped)[0]["user_id"]
        mapped.setdefault("locomo_user", user or conv.sample_id)
        added = 0
        with Progress(console=err, disable=as_json) as bar:
            task = bar.add_task(f"importing {conv.sample_id}", total=len(conv.sessions))
            for session_id, _, messages in conv.sessions:
                added += len(mem.add(messages, user_id=owner, session_id=session_id, source="import"))
                bar.advance(task)
        mem.consolidate(user_id=owner)
        return added

    try:
        with Memory(config=config) as mem:
            added = action(mem)
    except (MemgridError, ValidationError) as exc:
        fail(str(exc))
    if as_json:
        emit_json({"added": added, **mapped})
        return
    if "locomo_user" in mapped:
        console.print(f"as user {mapped['locomo_user']!r} (choose another with --user)")
    for kind in ("users", "agents"):
        for name, principal in mapped.get(kind, {}).items():
            made = " (created)" if name in mapped.get("created", []) else ""
            console.print(f"{kind[:-1]} {name!r} -> principal {principal}{made}")
    console.print(f"imported {added} memories")


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    lines: list[dict[str, Any]] = []
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        fail(f"{path} is not UTF-8 text; expected a memgrid .jsonl export")
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as exc:
            fail(f"line {number} of {path} is not JSON ({exc.msg}); nothing was imported")
        if not isinstance(value, dict):
            fail(f"line {number} of {path} is not a JSON object; nothing was imported")
        lines.append(value)
    return lines


def map_owners(config: MemgridConfig, records: list[dict[str, Any]],
               report: dict[str, Any]) -> list[dict[str, Any]]:
    """Into a server tenant, owners become principals (matched by id or name, else created);
    an embedded store keeps the names as they are."""
    from memgrid.access.store import AccessStore, has_access_tables

    if not has_access_tables(config) or server_tenant(config, config.tenant_id) is None:
        return records
    access = AccessStore(sqlite_path=None if config.db_url else config.db_path(), postgres_url=config.db_url)
    try:
        users, made = access.principal_ids(
            config.tenant_id, [str(r["user_id"]) for r in records if r.get("user_id")], "user")
        acts: dict[str, list[str]] = {}
        for r in records:
            if r.get("agent_id") and r.get("user_id"):
                acts.setdefault(str(r["agent_id"]), []).append(users[str(r["user_id"])])
        agents, made_agents = access.principal_ids(
            config.tenant_id, [str(r["agent_id"]) for r in records if r.get("agent_id")], "agent",
            {a: sorted(set(u)) for a, u in acts.items()})
    finally:
        access.close()
    report.update(users=users, agents=agents, created=made + made_agents)
    return [{**r, "user_id": users.get(r.get("user_id") or "", r.get("user_id")),
             "agent_id": agents.get(r.get("agent_id") or "", r.get("agent_id"))} for r in records]


@app.command()
def export(db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None, user: UserOpt = None,
           agent: AgentOpt = None,
           names: Annotated[bool, typer.Option(
               "--names", help="server tenant: write principal names as user/agent ids (to move "
                               "the memories into an embedded store)")] = False,
           as_json: JsonOpt = False) -> None:
    """Write memories, with their versions and links, as JSONL to stdout (`--json`: one JSON
    array). `memgrid import FILE.jsonl` restores them exactly."""
    renames = principal_names(memory_config(db, embedder, tenant)) if names else {}

    def action(mem: Memory) -> None:
        if as_json:
            sys.stdout.write("[")
        for n, record in enumerate(mem.export(user_id=user, agent_id=agent)):
            if renames:
                record = record.model_copy(update={
                    "user_id": renames.get(record.user_id or "", record.user_id),
                    "agent_id": renames.get(record.agent_id or "", record.agent_id)})
            sys.stdout.write(("," if as_json and n else "") + record.model_dump_json()
                             + ("" if as_json else "\n"))
        if as_json:
            sys.stdout.write("]\n")

    run(db, embedder, action, tenant)


def principal_names(config: MemgridConfig) -> dict[str, str]:
    from memgrid.access.store import AccessStore, has_access_tables

    if not has_access_tables(config):
        fail("--names needs a server database (one with tenants)")
    access = AccessStore(sqlite_path=None if config.db_url else config.db_path(), postgres_url=config.db_url)
    try:
        return {p.id: p.name for p in access.principals(config.tenant_id)}
    finally:
        access.close()


@app.command()
def stats(db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None, user: UserOpt = None,
          as_json: JsonOpt = False) -> None:
    """Counts and sizes (by_tenant: every tenant of the database)."""
    result = run(db, embedder, lambda m: m.stats(user_id=user), tenant).model_dump()
    if as_json:
        emit_json(result)
        return
    table = Table(title="memgrid stats")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
    console.print(table)
