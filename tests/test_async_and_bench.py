from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from memgrid import AsyncMemory
from memgrid.bench.locomo import flatten_units, run_locomo
from memgrid.bench.metrics import all_at_k, hit_at_k, ndcg_at_k, recall_at_k
from memgrid.read.assemble import assemble
from tests.conftest import LOCOMO, hashing_config


def test_async_memory_runs_the_same_engine(tmp_path: Path, model_home: Path) -> None:
    async def scenario() -> None:
        mem = AsyncMemory(config=hashing_config(model_home, tmp_path / "a.db"))
        words = ["apple", "brick", "cloud", "delta", "eagle", "flute", "grape", "harbor"]
        await asyncio.gather(*(mem.add(f"async note about {w}", user_id="u") for w in words))
        hits = await mem.search("grape", user_id="u", limit=3)
        assert hits[0].memory.text == "async note about grape"
        assert (await mem.stats()).memories == len(words)
        await mem.close()

    asyncio.run(scenario())


def test_metrics_match_their_definitions() -> None:
    retrieved = ["a", "x", "b", "y"]
    assert recall_at_k(retrieved, {"a", "b"}, 1) == 0.5
    assert recall_at_k(retrieved, {"a", "b"}, 3) == 1.0
    assert hit_at_k(retrieved, {"b"}, 2) == 0.0 and hit_at_k(retrieved, {"b"}, 3) == 1.0
    assert all_at_k(retrieved, {"a", "y"}, 3) == 0.0 and all_at_k(retrieved, {"a", "y"}, 4) == 1.0
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    assert ndcg_at_k(["x", "a"], {"a"}, 10) == pytest.approx(1 / 1.5849625, rel=1e-6)


def test_big_units_spend_k_per_turn() -> None:
    units = [["D1:1", "D1:2", "D1:3"], ["D2:1"], ["D3:1", "D3:2"]]
    assert flatten_units(units, 4) == ["D1:1", "D1:2", "D1:3", "D2:1"]


def test_assemble_respects_tiny_budget(mem) -> None:  # type: ignore[no-untyped-def]
    mem.add("x " * 400, user_id="u")
    hits = mem.search("x", user_id="u")
    assert assemble(hits, token_budget=20) == ""


@pytest.mark.slow
@pytest.mark.skipif(not (LOCOMO / "conv-30.json").exists(), reason="shared LoCoMo data not present")
def test_locomo_harness_smoke(tmp_path: Path, model_home: Path) -> None:
    out = tmp_path / "locomo.json"
    results = run_locomo(LOCOMO / "conv-30.json", ["memgrid", "bm25"], "static", model_home,
                         json_out=out, log=lambda *_: None)
    saved = json.loads(out.read_text())
    assert set(saved) == {"memgrid", "bm25"}
    for r in results.values():
        assert r["questions"] > 50 and 0.0 <= r["recall@10"] <= 1.0
        assert r["recall@1"] <= r["recall@5"] <= r["recall@10"] <= r["recall@20"]
        assert {"search_ms_p50", "search_ms_p95", "ingest_turns_per_s", "peak_rss_mb"} <= set(r)
        assert "single-hop" in r["per_category"]
    assert out.with_suffix(".png").exists()


@pytest.mark.slow
@pytest.mark.skipif(not (LOCOMO / "conv-30.json").exists(), reason="shared LoCoMo data not present")
def test_mem0_peer_runs_offline(model_home: Path) -> None:
    from memgrid.bench.peers import Mem0System
    from memgrid.importers import load_locomo

    conv = load_locomo(LOCOMO / "conv-30.json")
    conv.sessions = conv.sessions[:1]
    peer = Mem0System(model_home)
    try:
        turns, seconds = peer.ingest(conv)
        assert seconds > 0
        assert turns == len(conv.sessions[0][2])
        units = peer.search("What did Jon lose?", 5, 0.0)
        known = {m["metadata"]["dia_id"] for m in conv.sessions[0][2]}
        assert len(units) == 5 and all(u[0] in known for u in units)
    finally:
        peer.close()


@pytest.mark.skipif(not (LOCOMO / "conv-30.json").exists(), reason="shared LoCoMo data not present")
def test_locomo_system_removes_its_scratch_databases(model_home: Path) -> None:
    from memgrid.bench.locomo import MemgridSystem
    from memgrid.config import RetrievalConfig
    from memgrid.importers import load_locomo

    conv = load_locomo(LOCOMO / "conv-30.json")
    conv.sessions = conv.sessions[:1]
    system = MemgridSystem("memgrid", RetrievalConfig(), "hashing", model_home)
    system.ingest(conv)
    assert any(system.workdir.iterdir())
    system.close()
    assert not system.workdir.exists()


@pytest.mark.skipif(not (LOCOMO / "conv-30.json").exists(), reason="shared LoCoMo data not present")
def test_locomo_runs_on_postgres_and_erases_its_users(model_home: Path, postgres_url: str) -> None:
    import psycopg

    from memgrid.bench.locomo import MemgridSystem
    from memgrid.config import RetrievalConfig
    from memgrid.importers import load_locomo

    conv = load_locomo(LOCOMO / "conv-30.json")
    conv.sessions = conv.sessions[:2]
    system = MemgridSystem("memgrid", RetrievalConfig(), "hashing", model_home, db_url=postgres_url)
    system.ingest(conv)
    known = {m["metadata"]["dia_id"] for _, _, ms in conv.sessions for m in ms}
    units = system.search("What did Jon lose?", 5, 0.0)
    assert len(units) == 5 and all(u[0] in known for u in units)
    system.close()
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM memories").fetchone() == (0,)


def test_speed_bench_spreads_memories_over_users(tmp_path: Path, model_home: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from memgrid import Memory
    from memgrid.bench.speed import run_speed

    monkeypatch.setenv("MEMGRID_HOME", str(model_home))
    writers: set[str] = set()
    readers: set[str] = set()
    add, search = Memory.add, Memory.search

    def spy_add(self: Memory, data: Any, **kw: Any) -> Any:
        writers.add(kw["user_id"])
        return add(self, data, **kw)

    def spy_search(self: Memory, query: str, **kw: Any) -> Any:
        readers.add(kw["user_id"])
        return search(self, query, **kw)

    monkeypatch.setattr(Memory, "add", spy_add)
    monkeypatch.setattr(Memory, "search", spy_search)
    out = tmp_path / "speed.json"
    result = run_speed([200], embedder="hashing", n_queries=6, json_out=out, data=tmp_path,
                       log=lambda *_: None, users=3)
    row = json.loads(out.read_text())["sizes"]["200"]
    assert result["users"] == 3 and row["ingest_turns_per_s"] > 0 and row["search_ms_p50"] > 0
    assert writers == readers == {"user0", "user1", "user2"}
    with pytest.raises(ValueError, match="users"):
        run_speed([10], embedder="hashing", data=tmp_path, users=0)
