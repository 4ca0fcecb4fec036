"""`memgrid bench ...`: benchmarks from the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from memgrid.cli.app import LlmModelOpt, LlmUrlOpt, bench_app, console, llm_config
from memgrid.config import RetrievalConfig, default_home

_PEERS_HELP = "comma list of peers run after --systems on the same data: mem0,bm25,hybrid,dense"


def _recall_bench(runner: Callable[..., Any], data: Path, systems: str, peers: str, embedder: str,
                  config: str | None, json_out: Path | None, **options: Any) -> None:
    """Shared by the recall harnesses: parse the options, turn bad ones into a usage error."""
    retrieval = RetrievalConfig(**json.loads(config)) if config else RetrievalConfig()
    names = [s.strip() for s in f"{systems},{peers}".split(",") if s.strip()]
    try:
        runner(data, list(dict.fromkeys(names)), embedder, default_home(), retrieval, json_out,
               log=console.print, **options)
    except (ValueError, FileNotFoundError) as exc:
        raise typer.BadParameter(str(exc)) from None


@bench_app.command("locomo")
def locomo(
    data: Annotated[Path, typer.Option(help="LoCoMo .json file or a folder of them")] = Path(
        "../shared/data/locomo"),
    systems: Annotated[str, typer.Option(help="comma list: memgrid,dense,bm25,hybrid,mem0,"
                                              "memgrid-no-<mechanism>, memgrid-deep (a model)")] = "memgrid",
    peers: Annotated[str, typer.Option(help=_PEERS_HELP)] = "",
    embedder: Annotated[str, typer.Option(help="static | minilm | hashing")] = "static",
    config: Annotated[str | None, typer.Option(help="JSON of RetrievalConfig overrides")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write results JSON (+ .png)")] = None,
    db_url: Annotated[str | None, typer.Option(
        help="run memgrid's systems on this PostgreSQL (each conversation a user, erased after)")] = None,
    answer: Annotated[bool, typer.Option(
        "--answer", help="answer accuracy instead of recall: a model answers a sample of questions "
                         "with each system's memory and judges each answer")] = False,
    questions: Annotated[int, typer.Option(
        min=1, help="--answer: how many questions (categories 1-4)")] = 150,
    seed: Annotated[int, typer.Option(help="--answer: the sample's seed")] = 7,
    budget: Annotated[int, typer.Option(min=64, help="--answer: tokens of memory per question")] = 1000,
    llm_base_url: LlmUrlOpt = None, llm_model: LlmModelOpt = None,
    categories: Annotated[str | None, typer.Option(
        help="only these question categories, e.g. multi-hop,open-domain")] = None,
) -> None:
    """Turn-level evidence recall@k, hit@k, NDCG@10 per category, with speed, for each system;
    with --answer, a model's answer accuracy with each system's memory."""
    from memgrid.bench.locomo import run_locomo, run_locomo_answers

    if not answer:
        wanted = [c.strip() for c in categories.split(",") if c.strip()] if categories else None
        _recall_bench(run_locomo, data, systems, peers, embedder, config, json_out, db_url=db_url,
                      llm=llm_config(llm_base_url, llm_model), categories=wanted)
        return
    _recall_bench(run_locomo_answers, data, systems, peers, embedder, config, json_out, db_url=db_url,
                  llm=llm_config(llm_base_url, llm_model), questions=questions, seed=seed, budget=budget)


@bench_app.command("speed")
def speed(
    sizes: Annotated[str, typer.Option(help="comma list of memory counts")] = "10000,100000",
    embedder: Annotated[str, typer.Option()] = "static",
    queries: Annotated[int, typer.Option()] = 200,
    json_out: Annotated[Path | None, typer.Option("--json")] = None,
    links: Annotated[bool, typer.Option(help="make links on write (the default); --no-links to "
                                             "measure what they cost")] = True,
    users: Annotated[int, typer.Option(help="spread the memories over this many users of one "
                                            "store; each search is one user's")] = 1,
) -> None:
    """Ingest turns/s and search p50/p95 at each size, beside the embedder's own cost."""
    from memgrid.bench.speed import run_speed

    run_speed([int(s) for s in sizes.split(",")], embedder, queries, json_out, log=console.print,
              links=links, users=users)


@bench_app.command("longmemeval")
def longmemeval(
    data: Annotated[Path, typer.Option(help="LongMemEval JSON (a list of questions)")],
    systems: Annotated[str, typer.Option(help="comma list: memgrid,dense,bm25,hybrid,"
                                              "memgrid-no-<mechanism>")] = "memgrid",
    peers: Annotated[str, typer.Option(help=_PEERS_HELP)] = "",
    embedder: Annotated[str, typer.Option(help="static | minilm | hashing")] = "static",
    config: Annotated[str | None, typer.Option(help="JSON of RetrievalConfig overrides")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="write results JSON (+ .png)")] = None,
) -> None:
    """Session- and turn-level recall_any/recall_all/NDCG@k per question type."""
    from memgrid.bench.longmemeval import run_longmemeval

    _recall_bench(run_longmemeval, data, systems, peers, embedder, config, json_out)


@bench_app.command("load")
def load(
    backends: Annotated[str, typer.Option(help="comma list: sqlite,postgres")] = "sqlite,postgres",
    clients: Annotated[int, typer.Option()] = 32,
    seconds: Annotated[float, typer.Option()] = 20.0,
    add_ratio: Annotated[float, typer.Option(help="share of requests that are adds")] = 0.3,
    embedder: Annotated[str, typer.Option()] = "static",
    json_out: Annotated[Path | None, typer.Option("--json")] = None,
    workers: Annotated[int, typer.Option(min=1, help="server processes for postgres (sqlite: 1)")] = 1,
) -> None:
    """Requests/s and p50/p95/p99 for concurrent add/search against a real server on loopback."""
    from memgrid.bench.load import run_load

    run_load([b.strip() for b in backends.split(",") if b.strip()], clients, seconds, add_ratio,
             embedder, json_out, log=console.print, workers=workers)


@bench_app.command("knowledge-update")
def knowledge_update(
    users: Annotated[int, typer.Option(min=1)] = 40,
    embedder: Annotated[str, typer.Option()] = "static",
    json_out: Annotated[Path | None, typer.Option("--json")] = None,
    model_judge: Annotated[bool, typer.Option("--model-judge", help="also run with the model as "
                                              "fact judge (needs --llm-base-url)")] = False,
    llm_base_url: LlmUrlOpt = None, llm_model: LlmModelOpt = None,
) -> None:
    """Supersession link precision/recall and recall of the current value, on and off."""
    from memgrid.bench.knowledge_update import run_knowledge_update

    llm = llm_config(llm_base_url, llm_model) if model_judge else None
    if llm is not None and not llm.enabled:
        raise typer.BadParameter("--model-judge needs a model: --llm-base-url URL or 'local'",
                                 param_hint="--llm-base-url")
    run_knowledge_update(users=users, embedder=embedder, json_out=json_out, log=console.print, llm=llm)


@bench_app.command("halumem")
def halumem(
    data: Annotated[Path, typer.Option(help="a HaluMem user file (.jsonl), e.g. "
                                            "../shared/data/halumem/pilot_slice_user0.jsonl")],
    infer: Annotated[bool, typer.Option("--infer", help="extract facts with the model on add, and "
                                                        "score extraction and updates")] = False,
    sessions: Annotated[int | None, typer.Option(min=1, help="only the first N sessions")] = None,
    qa: Annotated[bool, typer.Option(help="with a model, answer and judge each session's questions; "
                                          "--no-qa to measure extraction alone")] = True,
    embedder: Annotated[str, typer.Option(help="static | minilm | hashing")] = "static",
    json_out: Annotated[Path | None, typer.Option("--json", help="write results JSON")] = None,
    llm_base_url: LlmUrlOpt = None, llm_model: LlmModelOpt = None,
) -> None:
    """HaluMem: the zero-LLM update links beside the gold updates; with a model, question
    answering per question type and, with --infer, memory-point extraction recall and precision
    and update accuracy."""
    from memgrid.bench.halumem import NotHaluMemError, run_halumem
    from memgrid.errors import NoModelError

    if not data.is_file():
        raise typer.BadParameter(f"no HaluMem file at {data}", param_hint="--data")
    try:
        result = run_halumem(data, llm_config(llm_base_url, llm_model), default_home(), embedder, infer,
                             sessions, json_out, log=console.print, qa=qa)
    except NotHaluMemError as exc:
        raise typer.BadParameter(str(exc), param_hint="--data") from None
    except NoModelError as exc:
        raise typer.BadParameter(str(exc), param_hint="--llm-base-url") from None
    console.print_json(json.dumps({k: v for k, v in result.items() if k not in ("usage", "links")}))


@bench_app.command("console")
def console_pages(
    memories: Annotated[int, typer.Option(min=100, help="memories in the store measured")] = 100_000,
    users: Annotated[int, typer.Option(min=1)] = 50,
    repeats: Annotated[int, typer.Option(min=1, help="loads of each page")] = 15,
    embedder: Annotated[str, typer.Option()] = "static",
    data: Annotated[Path, typer.Option(help="LoCoMo folder (turn texts)")] = Path("../shared/data/locomo"),
    chromium: Annotated[str, typer.Option(help="the browser binary")] = "/usr/bin/chromium",
    json_out: Annotated[Path | None, typer.Option("--json")] = None,
) -> None:
    """Console page loads (render p50/p95 per page, cold load) on a store of that size, in a real
    headless Chromium."""
    from memgrid.bench.console import run_console_bench

    run_console_bench(memories, users, repeats, embedder, data, json_out, log=console.print,
                      chromium=chromium)
