"""PostgreSQL-specific guarantees (the shared API suite runs on both backends via the `mem` fixture)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import psycopg
import pytest

from memgrid import Memory, NotFoundError, StorageError
from memgrid.models import Scope
from memgrid.storage import postgres
from memgrid.storage.postgres import NAME_LOOKUP_SQL
from memgrid.storage.postgres_schema import SCHEMA_VERSION
from memgrid.storage.sql import POSTGRES, scope_sql
from memgrid.validation import Filters
from tests.conftest import hashing_config


def pg_config(model_home: Path, tmp_path: Path, url: str):  # type: ignore[no-untyped-def]
    config = hashing_config(model_home, tmp_path / "unused.db")
    config.db_url = url
    return config


def test_erase_removes_every_trace(postgres_url: str, model_home: Path, tmp_path: Path) -> None:
    with Memory(config=pg_config(model_home, tmp_path, postgres_url)) as mem:
        kept = mem.add("alice keeps zanzibarish notes", user_id="alice")
        gone = mem.add([f"bob's xylophonequartz secret {i}" for i in range(30)], user_id="bob")
        mem.update(gone[0].id, text="bob's xylophonequartz secret edited")
        mem.delete(gone[1].id)
        assert mem.erase(user_id="bob") == 29
        with pytest.raises(NotFoundError):
            mem.history(gone[1].id)
        assert mem.get(kept[0].id).text.startswith("alice")
    with psycopg.connect(postgres_url) as conn:
        assert conn.execute("SELECT count(*) FROM memories WHERE user_id = 'bob'").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM history WHERE user_id = 'bob'").fetchone()[0] == 0
        hits = conn.execute("SELECT count(*) FROM memories WHERE tsv @@ to_tsquery('xylophonequartz')")
        assert hits.fetchone()[0] == 0
        assert conn.execute("SELECT count(embedding) FROM memories").fetchone()[0] == 1


def test_data_survives_reopen_and_embedder_is_pinned(postgres_url: str, model_home: Path,
                                                      tmp_path: Path) -> None:
    config = pg_config(model_home, tmp_path, postgres_url)
    with Memory(config=config) as mem:
        [record] = mem.add("persisted across connections", user_id="u")
    with Memory(config=config) as mem:
        assert mem.get(record.id).text == "persisted across connections"
        assert mem.search("persisted", user_id="u")[0].memory.id == record.id
    config.embedder.dims = 64
    with pytest.raises(StorageError, match="same embedder"):
        Memory(config=config)


def test_foreign_memories_table_is_refused(postgres_url: str, model_home: Path, tmp_path: Path) -> None:
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE memories (id int)")
    with pytest.raises(StorageError, match="did not create"):
        Memory(config=pg_config(model_home, tmp_path, postgres_url))


def test_move_from_sqlite_to_postgres_keeps_ids(postgres_url: str, model_home: Path,
                                                 tmp_path: Path) -> None:
    with Memory(config=hashing_config(model_home, tmp_path / "local.db")) as local:
        local.add([{"content": "one", "timestamp": "2023-01-01"}, {"content": "two"}], user_id="a",
                  session_id="s")
        exported = [r.model_dump(mode="json") for r in local.export()]
    with Memory(config=pg_config(model_home, tmp_path, postgres_url)) as server:
        assert server.import_records(exported) == 2
        assert [r.id for r in server.export()] == [r["id"] for r in exported]
        assert server.search("two", user_id="a")[0].memory.text == "two"


def test_full_text_weighs_rare_words_above_common_ones(postgres_url: str, model_home: Path,
                                                       tmp_path: Path) -> None:
    """ts_rank alone has no IDF: a turn repeating a name everyone uses would outrank the one
    turn with the rare word. Weighted by IDF, the rare word decides (as in SQLite's BM25)."""
    from memgrid.models import Scope
    from memgrid.validation import Filters

    with Memory(config=pg_config(model_home, tmp_path, postgres_url)) as mem:
        mem.add([f"Caroline said hello number {i}" for i in range(20)], user_id="u")
        mem.add([f"the weather on day {i}" for i in range(30)], user_id="u")
        [said] = mem.add("Caroline, Caroline, Caroline: hi Caroline", user_id="u")
        name = mem.store.get("default", said.id)
        rare = mem.store.get("default", mem.add("my pottery class was fun", user_id="u")[0].id)
        assert name is not None and rare is not None
        for _ in range(2):  # the second search answers from cached document counts
            hits = mem.store.text_search(Scope("default", "u"), Filters(), ["caroline", "pottery"], 5,
                                         "index_text")
            assert hits[0][0] == rare.seq and hits[1][0] == name.seq
        assert mem.store.text_search(Scope("default", "u"), Filters(), ["the"], 5, "index_text") == []


def test_threads_share_a_pool_of_connections(postgres_url: str, model_home: Path, tmp_path: Path) -> None:
    """One process's threads query PostgreSQL in parallel (a server's requests no longer queue
    on one connection), never more than pool_size at once, and each sees only its own user."""
    from concurrent.futures import ThreadPoolExecutor

    config = pg_config(model_home, tmp_path, postgres_url)
    config.pool_size = 3
    with Memory(config=config) as mem:
        assert mem.store.pool.get_stats()["pool_size"] == 1  # opened on demand

        def work(i: int) -> list[str]:
            mem.add(f"user {i} keeps a {['kite', 'cello', 'ferret'][i % 3]}", user_id=f"u{i}")
            return [h.memory.text for _ in range(15) for h in mem.search("what does the user keep",
                                                                         user_id=f"u{i}")]

        with ThreadPoolExecutor(8) as threads:
            seen = list(threads.map(work, range(8)))
        stats = mem.store.pool.get_stats()
        assert 1 < stats["pool_size"] <= 3
        for i, texts in enumerate(seen):
            own = f"user {i} keeps a {['kite', 'cello', 'ferret'][i % 3]}"
            assert len(texts) == 15 and set(texts) == {own}


def test_unreachable_database_fails_at_once_with_a_clear_error(model_home: Path, tmp_path: Path) -> None:
    """PostgreSQL's own reason, from a direct first connection (a pool would retry until timeout)."""
    with pytest.raises(StorageError, match=r"cannot use 127.0.0.1:9/memgrid as a memgrid database: .*"
                                           r"refused"):
        Memory(config=pg_config(model_home, tmp_path, "postgresql://memgrid@127.0.0.1:9/memgrid"))


def test_recall_counts_flushed_by_two_processes_at_once_do_not_deadlock(
        postgres_url: str, model_home: Path, tmp_path: Path) -> None:
    """Two stores on one database (as two server processes are) flush overlapping recall
    counts at the same moment, in opposite orders; rows are locked in seq order, so neither
    waits on the other in a cycle and every count lands."""
    import random
    import threading

    config = pg_config(model_home, tmp_path, postgres_url)
    with Memory(config=config) as one, Memory(config=config) as two:
        seqs = [one.store.get("default", r.id).seq for r in  # type: ignore[union-attr]
                one.add([f"note {i}" for i in range(300)], user_id="u")]
        for store in (one.store, two.store):
            store._recalls.flush_at = 1  # type: ignore[attr-defined]  # flush on every touch
        rounds = 15
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def flush(mem: Memory, order: list[int]) -> None:
            try:
                for r in range(rounds):
                    start.wait()
                    mem.store.touch(order if r % 2 else order[::-1], 1.0 + r)
            except BaseException as exc:  # reported below
                failures.append(exc)
                start.abort()

        shuffled = random.Random(3).sample(seqs, len(seqs))
        threads = [threading.Thread(target=flush, args=(one, shuffled)),
                   threading.Thread(target=flush, args=(two, shuffled[::-1]))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert not failures, failures
        stored = [one.store.get("default", r.id) for r in one.list(user_id="u", limit=300).items]
        assert {m.access_count for m in stored if m is not None} == {2 * rounds}


def test_reads_survive_a_server_dropping_every_connection(postgres_url: str, model_home: Path,
                                                          tmp_path: Path) -> None:
    """A restart or failover kills pooled connections: a read retries once on a fresh one (an
    add reads first, so it heals the pool too); a write transaction that meets a dead connection
    fails with a StorageError that says to retry, and the next one works."""
    config = pg_config(model_home, tmp_path, postgres_url)
    config.pool_size = 3

    def drop_all() -> None:
        with psycopg.connect(postgres_url, autocommit=True) as admin:
            admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                          "WHERE datname = current_database() AND pid <> pg_backend_pid()")

    with Memory(config=config) as mem:
        [kept] = mem.add("I keep bees", user_id="u")
        drop_all()
        assert mem.search("bees", user_id="u")[0].memory.id == kept.id
        drop_all()
        mem.add("I also keep goats", user_id="u")
        assert {h.memory.text for h in mem.search("keep", user_id="u")} == {"I keep bees",
                                                                            "I also keep goats"}
        drop_all()
        store = mem.store
        with pytest.raises(StorageError, match=r"lost during a write.*retry"), \
                store._tx() as conn:  # type: ignore[attr-defined]
            conn.execute("UPDATE memories SET importance = 0.9")
        with store._tx() as conn:  # type: ignore[attr-defined]
            conn.execute("UPDATE memories SET importance = 0.9")
        assert {m.importance for m in mem.list(user_id="u").items} == {0.9}


def test_v4_database_gets_its_name_words_backfilled(postgres_url: str, model_home: Path,
                                                    tmp_path: Path) -> None:
    config = pg_config(model_home, tmp_path, postgres_url)
    with Memory(config=config) as mem:
        mem.add(["saw Sam Ortiz in Lisbon", "Sam's dog Biscuit", "no names here"], user_id="u")
        mem.add("Lisbon again", agent_id="bot", user_id="u")
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        rows = sorted(conn.execute("SELECT * FROM name_terms").fetchall())
        conn.execute("DROP TABLE name_terms")
        conn.execute("UPDATE memgrid_meta SET value = '4' WHERE key = 'schema_version'")
    # each name's words under the user, and under the agent for the agent's memory
    assert {r[1:3] for r in rows} == {("u:u", w) for w in ("sam", "ortiz", "lisbon", "biscuit")} | {
        ("a:bot", "lisbon")}
    with Memory(config=config):
        pass
    with psycopg.connect(postgres_url) as conn:
        assert sorted(conn.execute("SELECT * FROM name_terms").fetchall()) == rows
        assert conn.execute("SELECT value FROM memgrid_meta WHERE key = 'schema_version'").fetchone() == (
            str(SCHEMA_VERSION),)


def test_name_rows_go_with_their_memory_and_the_lookup_reads_one_range(
        postgres_url: str, model_home: Path, tmp_path: Path) -> None:
    with Memory(config=pg_config(model_home, tmp_path, postgres_url)) as mem:
        kept = mem.add("Lunch with Priya in Denver", user_id="a")[0]
        gone = mem.add("Priya again in Denver", user_id="a")[0]
        mem.add([f"Bob met Priya in Denver {i}" for i in range(5)], user_id="b")
        mem.delete(gone.id)
        assert mem.erase(user_id="b") == 5
        with psycopg.connect(postgres_url) as conn:
            # only the kept memory's rows are left
            left = conn.execute("SELECT DISTINCT m.id, n.owner FROM name_terms n "
                                "LEFT JOIN memories m ON m.seq = n.seq").fetchall()
            assert left == [(kept.id, "u:a")]
            # the order comes from the primary key (no sort), one range per name
            where, params = scope_sql(Scope("default", "a"), Filters(), dialect=POSTGRES)
            conn.execute("SET enable_seqscan = off")
            plan = "\n".join(r[0] for r in conn.execute(
                f"EXPLAIN {NAME_LOOKUP_SQL.format(where=where)}",
                [["priya", "denver"], "default", "u:a", *params, 5]))
            assert "name_terms_pkey" in plan and "Sort" not in plan, plan


def test_a_batch_over_a_large_scope_goes_to_the_index_and_agrees(
        postgres_url: str, model_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Memory(config=pg_config(model_home, tmp_path, postgres_url)) as mem:
        mem.add([f"note {i} about {w}" for i, w in enumerate(["tea", "rain", "coffee"] * 12)], user_id="u")
        mem.add("someone else's tea note", user_id="other")
        scope, filters = Scope("default", "u"), Filters()
        vectors = mem.embedder.embed(["tea", "rain today", "coffee beans"])
        exact = mem.store.dense_search_many(scope, filters, vectors, 4)  # 36 rows: read and scored here
        monkeypatch.setattr(postgres, "EXACT_ROWS_PER_QUERY", 2)  # 36 > 3 x 2: one HNSW query each
        indexed = mem.store.dense_search_many(scope, filters, vectors, 4)
        assert [[round(v, 4) for _, v in row] for row in exact] == [
            [round(v, 4) for _, v in row] for row in indexed]
        texts = {m.seq: m.text for m in mem.store.list_memories(Scope("default"), Filters(), None, 100)}
        assert all("else" not in texts[s] for row in exact + indexed for s, _ in row)
        assert all("tea" in texts[s] for s, _ in exact[0])


def test_a_young_store_refreshes_its_planner_statistics(postgres_url: str, model_home: Path,
                                                        tmp_path: Path) -> None:
    assert [postgres.next_analyze(n) for n in (0, 499, 600, 150_000, 200_000)] == [
        500, 998, 1200, 300_000, None]

    def analysed() -> dict[str, Any]:
        with psycopg.connect(postgres_url) as conn:
            return dict(conn.execute("SELECT relname, last_analyze FROM pg_stat_user_tables "
                                     "WHERE relname IN ('memories', 'name_terms')").fetchall())

    with Memory(config=pg_config(model_home, tmp_path, postgres_url)) as mem:
        mem.add([f"Lunch {i} with Priya in Denver" for i in range(400)], user_id="u")
        before = analysed()  # name_terms: analysed empty by its migration
        assert before["memories"] is None
        mem.add([f"Dinner {i} with Priya in Boulder" for i in range(200)], user_id="u")
        after = analysed()
        assert after["memories"] is not None and after["name_terms"] > before["name_terms"]


def test_vectors_are_kept_in_the_row(postgres_url: str, model_home: Path, tmp_path: Path) -> None:
    def storage() -> str:
        with psycopg.connect(postgres_url) as conn:
            return str(conn.execute("SELECT attstorage FROM pg_attribute WHERE attrelid = "
                                    "'memories'::regclass AND attname = 'embedding'").fetchone()[0])

    config = pg_config(model_home, tmp_path, postgres_url)
    with Memory(config=config) as mem:
        kept = mem.add("a note to keep", user_id="u")[0]
    assert storage() == "m"  # MAIN: inline unless the row cannot fit otherwise
    with psycopg.connect(postgres_url, autocommit=True) as conn:  # as a v5 database left it
        conn.execute("ALTER TABLE memories ALTER COLUMN embedding SET STORAGE EXTERNAL")
        conn.execute("UPDATE memgrid_meta SET value = '5' WHERE key = 'schema_version'")
    assert storage() == "e"
    with Memory(config=config) as mem:
        assert mem.get(kept.id).text == "a note to keep"
        assert [h.memory.id for h in mem.search("note to keep", user_id="u")] == [kept.id]
    assert storage() == "m"


def test_wide_vectors_and_long_text_still_fit(postgres_url: str, model_home: Path, tmp_path: Path) -> None:
    config = pg_config(model_home, tmp_path, postgres_url)
    config.embedder.dims = 1536  # an OpenAI-sized vector: 6 KB, most of a page
    long = " ".join(f"word{i}" for i in range(1500))  # ~12 KB of text beside it
    with Memory(config=config) as mem:
        stored = mem.add([long, "short note"], user_id="u")
        assert mem.get(stored[0].id).text == long
        assert mem.search("word42 word43", user_id="u")[0].memory.id == stored[0].id


def test_two_workers_share_the_extraction_queue_and_run_each_job_once(postgres_url: str, model_home: Path,
                                                                      tmp_path: Path) -> None:
    import threading

    from memgrid.config import LLMConfig
    from memgrid.llm.extract import EXTRACT_SYSTEM
    from tests.scripted_llm import scripted_llm
    from tests.test_llm_extraction import judge, model

    with scripted_llm(model(judge)) as llm:
        configs = []
        for _ in range(2):
            config = pg_config(model_home, tmp_path, postgres_url)
            config.llm = LLMConfig(base_url=llm.url, model="scripted")
            config.extraction_worker = False
            configs.append(config)
        first, second = Memory(config=configs[0]), Memory(config=configs[1])
        turns = {f"u{i}": first.add(f"I live in Lyon ({i})", user_id=f"u{i}", infer=True, background=True)[0]
                 for i in range(12)}
        assert first.extraction_status().pending == 12
        workers = [threading.Thread(target=m.drain_extractions) for m in (first, second)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        assert first.extraction_status().done == 12
        assert sum(r["messages"][0]["content"] == EXTRACT_SYSTEM for r in llm.requests) == 12  # once each
        for user, turn in turns.items():
            [fact] = second.list(user_id=user, filters={"kind": "fact"}).items
            assert list(fact.provenance.source_ids) == [turn.id]
        first.erase(user_id="u0")
        assert first.extraction_status(user_id="u0").done == 0 and first.extraction_status().done == 11
        first.close()
        second.close()
