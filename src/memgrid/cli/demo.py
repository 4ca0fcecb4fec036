"""`memgrid demo`: the main job end to end on the embedded default, with real data."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from memgrid.cli.app import app, console, fail
from memgrid.config import MemgridConfig
from memgrid.errors import MemgridError
from memgrid.importers import load_locomo
from memgrid.memory import Memory


@app.command()
def demo(
    data: Annotated[Path, typer.Option(help="a LoCoMo conversation")] = Path(
        "../shared/data/locomo/conv-26.json"),
    db: Annotated[Path | None, typer.Option(help="SQLite file (default: under $MEMGRID_HOME)")] = None,
    questions: Annotated[int, typer.Option(help="how many of its questions to ask")] = 5,
) -> None:
    """Import a LoCoMo conversation into the embedded default store (or --db) and answer a few
    of its questions."""
    if not data.is_file():
        fail(f"no LoCoMo conversation at {data}; pass --data PATH/conv-26.json (the repo's "
             f"../shared/data/locomo holds them)")
    try:
        conv = load_locomo(data)
    except (MemgridError, ValueError) as exc:
        fail(f"{data} is not a LoCoMo conversation: {exc}")
    config = MemgridConfig()
    path = db or config.db_path()
    with Memory(path, config=config) as mem:
        start = time.perf_counter()
        added = sum(len(mem.add(msgs, user_id=conv.sample_id, session_id=sid, source="demo"))
                    for sid, _, msgs in conv.sessions)
        mem.consolidate(user_id=conv.sample_id)
        took = time.perf_counter() - start
        turns = sum(len(m) for _, _, m in conv.sessions)
        console.print(f"[bold]{conv.sample_id}[/bold]: {turns} turns, {added} new memories "
                      f"in {took:.2f}s -> {path}")
        asked_at = (conv.sessions[-1][1] + timedelta(days=1)).timestamp()
        shown = 0
        for qa in conv.qa:
            if shown >= questions or not qa.get("evidence"):
                continue
            shown += 1
            start = time.perf_counter()
            hits = mem.search(qa["question"], user_id=conv.sample_id, limit=5, reference_time=asked_at)
            ms = (time.perf_counter() - start) * 1000
            table = Table(title=f"Q: {qa['question']}  (answer: {qa.get('answer')}; {ms:.1f} ms)")
            for col in ("score", "turn", "evidence", "when", "text"):
                table.add_column(col, overflow="fold")
            for h in hits:
                dia = h.memory.metadata.get("dia_id", "")
                table.add_row(f"{h.score:.4f}", dia, "yes" if dia in qa["evidence"] else "",
                              h.memory.event_time.strftime("%Y-%m-%d") if h.memory.event_time else "",
                              f"{h.memory.speaker}: {h.memory.text}")
            console.print(table)
        console.print(mem.context(conv.qa[0]["question"], user_id=conv.sample_id, token_budget=200,
                                  reference_time=asked_at), markup=False)
