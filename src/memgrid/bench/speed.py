"""Speed at scale: ingest turns/s and search p50/p95 at growing sizes, beside the embedder's cost.

`python -m memgrid.bench.speed` or `memgrid bench speed`. Texts are recombined LoCoMo turns
(unique, realistic length) when ../shared/data is present, else generated sentences.
"""

from __future__ import annotations

import json
import random
import resource
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from memgrid.bench.metrics import percentile_ms
from memgrid.bench.report import write_json
from memgrid.config import EmbedderConfig, LinkConfig, MemgridConfig, default_home
from memgrid.embedders import create_embedder
from memgrid.memory import Memory

BATCH = 50  # turns per add(): one chat session's worth
_WORDS = ("trip museum sister garden painting camping adoption guitar recipe marathon puppy "
          "concert school job interview beach hiking book friend weekend festival").split()


def corpus(data: Path) -> tuple[list[str], list[str]]:
    """(turn texts, questions) from LoCoMo if available, else synthetic."""
    turns: list[str] = []
    questions: list[str] = []
    for f in sorted(data.glob("*.json")) if data.is_dir() else []:
        raw = json.loads(f.read_text())
        for key, value in raw.items():
            if key.startswith("session_") and isinstance(value, list):
                turns.extend(t["text"] for t in value if t.get("text"))
        questions.extend(q["question"] for q in raw.get("qa", []))
    if not turns:
        rng = random.Random(0)
        turns = [" ".join(rng.choices(_WORDS, k=14)) for _ in range(2000)]
        questions = [" ".join(rng.choices(_WORDS, k=6)) + "?" for _ in range(300)]
    return turns, questions


def unique_texts(turns: list[str], n: int, offset: int, rng: random.Random) -> list[str]:
    out = []
    for i in range(offset, offset + n):
        a, b = rng.choice(turns), rng.choice(turns)
        out.append(f"{a[: len(a) // 2 + 1]} {b[len(b) // 2 :]} (note {i})")
    return out


def current_rss_mb() -> float:
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def embedder_cost(provider: str, home: Path, texts: list[str], queries: list[str]) -> dict[str, float]:
    embedder = create_embedder(EmbedderConfig(provider=provider, cache_size=0), home)  # type: ignore[arg-type]
    embedder.embed(texts[:64])  # warm up
    sample = texts[:4000] if provider != "minilm" else texts[:1000]
    start = time.perf_counter()
    embedder.embed(sample)
    batch_rate = len(sample) / (time.perf_counter() - start)
    single = []
    for q in queries[:200]:
        t = time.perf_counter()
        embedder.embed([q])
        single.append(time.perf_counter() - t)
    return {"embedder_batch_per_s": round(batch_rate, 1),
            "embedder_single_ms_p50": round(percentile_ms(single, 50), 3)}


def _user(n: int, users: int) -> str:
    return "bench" if users == 1 else f"user{n % users}"


def run_speed(sizes: list[int], embedder: str = "static", n_queries: int = 200,
              json_out: Path | None = None, data: Path = Path("../shared/data/locomo"),
              log: Any = print, links: bool = True, users: int = 1) -> dict[str, Any]:
    """`users` > 1 spreads the sessions over that many users of one store (a shared server's
    shape) and rotates the searches over them: each search ranks within one user's share."""
    if users < 1:
        raise ValueError("users must be at least 1")
    home = default_home()
    turns, questions = corpus(data)
    rng = random.Random(7)
    result: dict[str, Any] = {"embedder": embedder, "links": links, "users": users,
                              **embedder_cost(embedder, home, unique_texts(turns, 4000, 10**9, rng),
                                              questions)}
    log(f"embedder {embedder}: {result['embedder_batch_per_s']} texts/s batched, "
        f"{result['embedder_single_ms_p50']} ms per single query")
    workdir = Path(tempfile.mkdtemp(prefix="memgrid-speed-"))
    config = MemgridConfig(home=home, path=workdir / "speed.db",
                           embedder=EmbedderConfig(provider=embedder, cache_size=0),  # type: ignore[arg-type]
                           links=LinkConfig(neighbors=LinkConfig().neighbors if links else 0))
    result["sizes"] = {}
    with Memory(config=config) as mem:
        stored = 0
        for size in sorted(sizes):
            texts = unique_texts(turns, size - stored, stored, rng)
            start = time.perf_counter()
            for i in range(0, len(texts), BATCH):
                session = (stored + i) // BATCH
                mem.add(texts[i : i + BATCH], user_id=_user(session, users), session_id=f"s{session}")
            took = time.perf_counter() - start
            stored = size
            latencies = []
            asked = (questions * (1 + n_queries // max(1, len(questions))))[:n_queries]
            for n, q in enumerate(asked):
                t = time.perf_counter()
                mem.search(q, user_id=_user(n, users), limit=10)
                latencies.append(time.perf_counter() - t)
            row = {
                "ingest_turns_per_s": round(len(texts) / took, 1),
                "ingest_vs_embedder": round(len(texts) / took / result["embedder_batch_per_s"], 3),
                "search_ms_p50": round(percentile_ms(latencies, 50), 3),
                "search_ms_p95": round(percentile_ms(latencies, 95), 3),
                "search_vs_embedder_single": round(
                    percentile_ms(latencies, 50) / result["embedder_single_ms_p50"], 2),
                "rss_mb": round(current_rss_mb(), 1),
                "db_mb": round(sum(p.stat().st_size for p in workdir.iterdir()) / 2**20, 1),
            }
            result["sizes"][str(size)] = row
            log(f"{size:>8} memories: ingest {row['ingest_turns_per_s']} turns/s "
                f"({row['ingest_vs_embedder']:.0%} of embedder), search p50 {row['search_ms_p50']} ms "
                f"p95 {row['search_ms_p95']} ms, RSS {row['rss_mb']} MB, files {row['db_mb']} MB")
    shutil.rmtree(workdir, ignore_errors=True)
    write_json(json_out, result)
    return result


if __name__ == "__main__":
    import typer

    from memgrid.cli.bench_commands import speed

    typer.run(speed)
