"""`memgrid` command line: the SDK's verbs for shells and scripts (`--json`) and people (tables)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from memgrid.config import EmbedderConfig, MemgridConfig
from memgrid.errors import MemgridError
from memgrid.importers import is_locomo, load_locomo
from memgrid.memory import Memory

app = typer.Typer(help="Long-term memory for AI agents.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
bench_app = typer.Typer(help="Benchmarks: speed, LoCoMo recall.", no_args_is_help=True)
app.add_typer(bench_app, name="bench")
console = Console()
err = Console(stderr=True)
T = TypeVar("T")

DbOpt = Annotated[str | None, typer.Option(
    "--db", help="SQLite file (default $MEMGRID_HOME/memgrid.db) or postgresql://... URL")]
EmbOpt = Annotated[str, typer.Option("--embedder", help="static | minilm | hashing | openai")]
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output")]
UserOpt = Annotated[str | None, typer.Option("--user", "-u", help="user id")]
AgentOpt = Annotated[str | None, typer.Option("--agent", "-a", help="agent id")]
SessionOpt = Annotated[str | None, typer.Option("--session", "-s", help="session id")]


def open_memory(db: str | None, embedder: str) -> Memory:
    config = MemgridConfig(embedder=EmbedderConfig(provider=embedder))  # type: ignore[arg-type]
    if db and db.startswith(("postgresql://", "postgres://")):
        return Memory(config=config.model_copy(update={"db_url": db}))
    return Memory(Path(db) if db else None, config=config)


def run(db: str | None, embedder: str, action: Callable[[Memory], T]) -> T:
    """Open, act, close; memgrid errors become one red line and exit code 1."""
    try:
        with open_memory(db, embedder) as mem:
            return action(mem)
    except MemgridError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


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
        cells = [m["id"][:12], when, m.get("speaker") or m.get("user_id") or "", m["text"]]
        table.add_row(*([f"{r['score']:.4f}"] if score else []), *cells)
    return table


@app.command()
def add(text: str, db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None,
        agent: AgentOpt = None, session: SessionOpt = None,
        timestamp: Annotated[str | None, typer.Option(help="ISO 8601 event time")] = None,
        metadata: Annotated[str | None, typer.Option(help="JSON object")] = None,
        as_json: JsonOpt = False) -> None:
    """Remember TEXT for a user or agent."""
    meta = json.loads(metadata) if metadata else None
    added = run(db, embedder, lambda m: m.add(text, user_id=user, agent_id=agent, session_id=session,
                                              timestamp=timestamp, metadata=meta, source="cli"))
    if as_json:
        emit_json([a.model_dump(mode="json") for a in added])
    else:
        console.print(f"added {len(added)}" + (f": {added[0].id}" if added else " (duplicate)"))


@app.command()
def search(query: str, db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None,
           agent: AgentOpt = None, session: SessionOpt = None,
           limit: Annotated[int, typer.Option("--limit", "-k")] = 10,
           as_of: Annotated[str | None, typer.Option(help="what was true at this ISO time")] = None,
           archived: Annotated[bool, typer.Option("--archived", help="include archived memories")] = False,
           as_json: JsonOpt = False) -> None:
    """Recall memories relevant to QUERY."""
    hits = run(db, embedder, lambda m: m.search(query, user_id=user, agent_id=agent, session_id=session,
                                                limit=limit, as_of=as_of, include_archived=archived))
    rows = [h.model_dump(mode="json") for h in hits]
    if as_json:
        emit_json(rows)
    else:
        console.print(memories_table(rows, f"{len(rows)} hits for {query!r}", score=True))


@app.command()
def context(query: str, db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None,
            agent: AgentOpt = None, budget: Annotated[int, typer.Option("--budget")] = 800) -> None:
    """Print a prompt-ready memory block for QUERY within a token budget."""
    console.print(run(db, embedder, lambda m: m.context(query, user_id=user, agent_id=agent,
                                                        token_budget=budget)), markup=False)


@app.command()
def get(memory_id: str, db: DbOpt = None, embedder: EmbOpt = "static", as_json: JsonOpt = False) -> None:
    """Show one memory."""
    record = run(db, embedder, lambda m: m.get(memory_id)).model_dump(mode="json")
    if as_json:
        emit_json(record)
    else:
        console.print_json(json.dumps(record, default=str))


@app.command("list")
def list_(db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None, agent: AgentOpt = None,
          session: SessionOpt = None, cursor: str | None = None, limit: int = 50,
          as_json: JsonOpt = False) -> None:
    """List memories a page at a time."""
    page = run(db, embedder, lambda m: m.list(user_id=user, agent_id=agent, session_id=session,
                                              cursor=cursor, limit=limit))
    if as_json:
        emit_json(page.model_dump(mode="json"))
        return
    console.print(memories_table([i.model_dump(mode="json") for i in page.items], "memories"))
    if page.next_cursor:
        console.print(f"more: --cursor {page.next_cursor}")


@app.command()
def update(memory_id: str, text: Annotated[str | None, typer.Option()] = None,
           metadata: Annotated[str | None, typer.Option(help="JSON object")] = None,
           db: DbOpt = None, embedder: EmbOpt = "static", as_json: JsonOpt = False) -> None:
    """Change a memory's text or metadata (history keeps the old version)."""
    meta = json.loads(metadata) if metadata else None
    record = run(db, embedder, lambda m: m.update(memory_id, text=text, metadata=meta))
    if as_json:
        emit_json(record.model_dump(mode="json"))
    else:
        console.print(f"updated {record.id} to version {record.version}")


@app.command()
def history(memory_id: str, db: DbOpt = None, embedder: EmbOpt = "static", as_json: JsonOpt = False) -> None:
    """Every version of a memory."""
    entries = [e.model_dump(mode="json") for e in run(db, embedder, lambda m: m.history(memory_id))]
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
def chain(memory_id: str, db: DbOpt = None, embedder: EmbOpt = "static", as_json: JsonOpt = False) -> None:
    """A fact's versions across memories: what it superseded and what superseded it."""
    records = [r.model_dump(mode="json") for r in run(db, embedder, lambda m: m.chain(memory_id))]
    if as_json:
        emit_json(records)
    else:
        console.print(memories_table(records, f"chain of {memory_id}"))


@app.command()
def related(memory_id: str, db: DbOpt = None, embedder: EmbOpt = "static", as_json: JsonOpt = False,
            limit: Annotated[int, typer.Option(help="how many")] = 10) -> None:
    """Memories linked to this one on write (similar meaning, same people or things)."""
    links = run(db, embedder, lambda m: m.related(memory_id, limit=limit))
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
def profile(db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None,
            as_json: JsonOpt = False) -> None:
    """The facts currently true about a user (core memory), each with its evidence id."""
    if user is None:
        raise typer.BadParameter("--user is required")
    facts = run(db, embedder, lambda m: m.profile(user_id=user))
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
def consolidate(db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None,
                agent: AgentOpt = None, as_json: JsonOpt = False) -> None:
    """Build or refresh session units and topic summaries (incremental; verbatim stays)."""
    report = run(db, embedder, lambda m: m.consolidate(user_id=user, agent_id=agent))
    if as_json:
        emit_json(report.counts())
    else:
        t = report.topics
        console.print(f"{report.sessions} sessions: {report.created} created, {report.updated} updated, "
                      f"{report.unchanged} unchanged; {t.topics} topics: {t.created} created, "
                      f"{t.updated} updated, {t.unchanged} unchanged, {t.removed} removed; "
                      f"{report.backfilled} older memories linked")


@app.command()
def archive(db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None,
            threshold: Annotated[float, typer.Option(help="retention below which to archive")] = 0.05,
            as_json: JsonOpt = False) -> None:
    """Move cold memories (low retention) to the archive tier; nothing is deleted."""
    count = run(db, embedder, lambda m: m.archive_cold(user_id=user, threshold=threshold))
    if as_json:
        emit_json({"archived": count})
    else:
        console.print(f"archived {count} memories")


@app.command()
def delete(memory_id: str, db: DbOpt = None, embedder: EmbOpt = "static") -> None:
    """Delete one memory (its history stays until erase)."""
    run(db, embedder, lambda m: m.delete(memory_id))
    console.print(f"deleted {memory_id}")


@app.command()
def erase(db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None, agent: AgentOpt = None,
          session: SessionOpt = None, yes: Annotated[bool, typer.Option("--yes")] = False) -> None:
    """Remove every trace of a user, agent or session."""
    if not yes:
        typer.confirm(f"erase everything of user={user} agent={agent} session={session}?", abort=True)
    count = run(db, embedder, lambda m: m.erase(user_id=user, agent_id=agent, session_id=session))
    console.print(f"erased {count} memories")


@app.command("import")
def import_(path: Path, db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None,
            as_json: JsonOpt = False) -> None:
    """Import a LoCoMo conversation (JSON) or a memgrid export (JSONL)."""
    def action(mem: Memory) -> int:
        if path.suffix == ".jsonl":
            lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            with Progress(console=err, disable=as_json) as bar:
                task = bar.add_task("importing", total=len(lines))
                added = 0
                for start in range(0, len(lines), 512):
                    added += mem.import_records(lines[start : start + 512])
                    bar.advance(task, len(lines[start : start + 512]))
            return added
        if not is_locomo(json.loads(path.read_text())):
            raise typer.BadParameter("expected a LoCoMo .json conversation or a memgrid .jsonl export")
        conv = load_locomo(path)
        owner = user or conv.sample_id
        added = 0
        with Progress(console=err, disable=as_json) as bar:
            task = bar.add_task(f"importing {conv.sample_id}", total=len(conv.sessions))
            for session_id, _, messages in conv.sessions:
                added += len(mem.add(messages, user_id=owner, session_id=session_id, source="import"))
                bar.advance(task)
        mem.consolidate(user_id=owner)
        return added

    added = run(db, embedder, action)
    if as_json:
        emit_json({"added": added})
    else:
        console.print(f"imported {added} memories")


@app.command()
def export(db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None,
           agent: AgentOpt = None) -> None:
    """Write memories as JSONL to stdout (re-importable with `memgrid import FILE.jsonl`)."""
    def action(mem: Memory) -> None:
        for record in mem.export(user_id=user, agent_id=agent):
            sys.stdout.write(record.model_dump_json() + "\n")

    run(db, embedder, action)


@app.command()
def stats(db: DbOpt = None, embedder: EmbOpt = "static", user: UserOpt = None,
          as_json: JsonOpt = False) -> None:
    """Counts and sizes."""
    result = run(db, embedder, lambda m: m.stats(user_id=user)).model_dump()
    if as_json:
        emit_json(result)
        return
    table = Table(title="memgrid stats")
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in result.items():
        table.add_row(key, json.dumps(value) if isinstance(value, dict) else str(value))
    console.print(table)
