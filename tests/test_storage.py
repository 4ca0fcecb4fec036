"""Storage invariants: the ANN file is a cache SQLite repairs; other writers are seen."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from memgrid import Memory, StorageError
from memgrid.access.rules import AccessRule
from memgrid.models import Scope
from memgrid.storage.scoped_ann import ScopedANN
from memgrid.storage.sql import COLUMNS_M, scope_sql
from memgrid.storage.sqlite import SQLiteStore
from memgrid.storage.sqlite_schema import MIGRATIONS, NAME_LOOKUP_SQL, SCHEMA_VERSION
from memgrid.storage.sqlite_vectors import VECTOR_KEYS_SQL, SQLiteVectors
from memgrid.storage.vectors import VectorIndex
from memgrid.validation import Filters
from tests.conftest import hashing_config


def test_stale_vector_file_is_reconciled_on_open(tmp_path: Path, model_home: Path) -> None:
    db = tmp_path / "m.db"
    config = hashing_config(model_home, db)
    with Memory(config=config) as mem:
        first = mem.add([f"early note {i}" for i in range(10)], user_id="u")
    stale = tmp_path / "stale.usearch"
    shutil.copy(tmp_path / "m.db.usearch", stale)
    with Memory(config=config) as mem:
        later = mem.add([f"later note {i}" for i in range(10)], user_id="u")
        mem.delete(first[0].id)
    # simulate a crash that left the old index file behind
    shutil.copy(stale, tmp_path / "m.db.usearch")
    with Memory(config=config) as mem:
        assert mem.store.vectors is not None
        keys = set(int(k) for k in mem.store.vectors.index.keys)
        assert len(keys) == 19
        texts = {h.memory.text for h in mem.search("later note", user_id="u", limit=50)}
        assert {r.text for r in later} <= texts and first[0].text not in texts


def test_missing_or_corrupt_vector_file_is_rebuilt(tmp_path: Path, model_home: Path) -> None:
    config = hashing_config(model_home, tmp_path / "m.db")
    with Memory(config=config) as mem:
        mem.add([f"note {i}" for i in range(5)], user_id="u")
    (tmp_path / "m.db.usearch").write_bytes(b"garbage")
    with Memory(config=config) as mem:
        assert mem.store.vectors is not None and len(mem.store.vectors) == 5
    (tmp_path / "m.db.usearch").unlink()
    with Memory(config=config) as mem:
        assert mem.store.vectors is not None and len(mem.store.vectors) == 5


def test_second_process_writes_are_visible(tmp_path: Path, model_home: Path) -> None:
    config = hashing_config(model_home, tmp_path / "m.db")
    reader = Memory(config=config)
    with Memory(config=config) as writer:
        writer.add("written by another connection about zebras", user_id="u")
    hits = reader.search("zebras", user_id="u")
    assert hits and hits[0].memory.text.endswith("zebras")
    assert "dense" in hits[0].explain  # the ANN index caught up, not only full text
    reader.close()


def _stored_vector(mem: Memory, memory_id: str) -> np.ndarray:
    """The vector the ANN index holds for a memory, and the one its current text embeds to."""
    stored = mem.store.get(mem.config.tenant_id, memory_id)
    assert stored is not None and stored.seq is not None and mem.store.vectors is not None
    held = mem.store.vectors.rows(np.array([stored.seq], np.uint64))[0].astype(np.float32)
    return np.asarray([held, mem.embedder.embed([stored.index_text])[0]])


def test_an_edit_in_another_process_replaces_its_vector(tmp_path: Path, model_home: Path) -> None:
    """Keys alone matched before: the reader kept ranking the edited memory by its old text."""
    config = hashing_config(model_home, tmp_path / "m.db")
    with Memory(config=config) as writer, Memory(config=config) as reader:
        writer.add([f"note {i} about gardening and tomatoes" for i in range(50)], user_id="u")
        target = writer.add("adopted a golden retriever puppy", user_id="u")[0]
        assert reader.search("puppy", user_id="u")[0].memory.id == target.id
        writer.update(target.id, text="quarterly tax filing deadline in april")
        hits = reader.search("quarterly tax filing deadline", user_id="u", limit=3)
        assert hits[0].memory.id == target.id and "dense" in hits[0].explain
        held, current = _stored_vector(reader, target.id)
        np.testing.assert_allclose(held, current, atol=2e-3)


def test_an_index_file_saved_before_an_edit_takes_it_on_open(tmp_path: Path, model_home: Path) -> None:
    config = hashing_config(model_home, tmp_path / "m.db")
    with Memory(config=config) as mem:
        target = mem.add("adopted a golden retriever puppy", user_id="u")[0]
    for name in ("m.db.usearch", "m.db.usearch.json"):
        shutil.copy(tmp_path / name, tmp_path / f"stale-{name}")
    with Memory(config=config) as mem:
        mem.update(target.id, text="quarterly tax filing deadline in april")
    for name in ("m.db.usearch", "m.db.usearch.json"):  # a crash before the index was saved
        shutil.copy(tmp_path / f"stale-{name}", tmp_path / name)
    with Memory(config=config) as mem:
        held, current = _stored_vector(mem, target.id)
        np.testing.assert_allclose(held, current, atol=2e-3)


def test_a_restored_database_rebuilds_an_index_stamped_after_it(tmp_path: Path, model_home: Path) -> None:
    """An index that applied edits the (restored) database has never seen is rebuilt from the
    rows: replaying the log cannot undo them."""
    config = hashing_config(model_home, tmp_path / "m.db")
    with Memory(config=config) as mem:
        target = mem.add("adopted a golden retriever puppy", user_id="u")[0]
    shutil.copy(tmp_path / "m.db", tmp_path / "backup.db")
    with Memory(config=config) as writer, Memory(config=config) as reader:
        writer.update(target.id, text="quarterly tax filing deadline in april")
        reader.search("tax", user_id="u")  # applies the edit and stamps its index
        assert reader.store.vectors is not None and reader.store.vectors.applied == 1
        writer.close()  # the reader saves last: the file holds the edit, stamped 1
    shutil.copy(tmp_path / "backup.db", tmp_path / "m.db")
    with Memory(config=config) as mem:
        assert mem.get(target.id).text == "adopted a golden retriever puppy"
        held, current = _stored_vector(mem, target.id)
        np.testing.assert_allclose(held, current, atol=2e-3)
        assert mem.search("puppy", user_id="u")[0].memory.id == target.id


def test_ann_falls_back_to_exact_for_sparse_scopes(tmp_path: Path, model_home: Path) -> None:
    with Memory(config=hashing_config(model_home, tmp_path / "m.db")) as mem:
        mem.add([f"crowd filler {i}" for i in range(500)], user_id="crowd")
        mem.add("needle for the lonely user", user_id="lonely")
        hits = mem.search("something unrelated entirely", user_id="lonely")
        assert [h.memory.user_id for h in hits] == ["lonely"]
        assert "dense" in hits[0].explain



def test_a_sparse_scope_batch_is_answered_exactly_from_one_read(
        tmp_path: Path, model_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Linking a batch for a small user of a crowded store: one exact pass over that user's
    vectors answers every row (not one widened ANN probe and one scope read per row), and no
    ANN probe is made to find out that the user is small."""
    with Memory(config=hashing_config(model_home, tmp_path / "m.db")) as mem:
        mem.add([f"crowd filler {i} about tea and rain" for i in range(800)], user_id="crowd")
        mem.add([f"lonely note {w}" for w in ("tea", "rain", "coffee", "snow", "wind", "sun")],
                user_id="lonely")
        store = mem.store
        assert isinstance(store, SQLiteStore)
        scope, filters = Scope("default", "lonely"), Filters()
        vectors = mem.embedder.embed(["tea", "rain", "sun"])
        reads: list[int] = []
        probes: list[int] = []
        exact, probe, single_probe = VectorIndex.exact, VectorIndex.search_many, VectorIndex.search

        def spy(self: VectorIndex, keys: Any, queries: Any, k: int) -> Any:
            reads.append(len(queries))
            return exact(self, keys, queries, k)

        def probe_spy(self: VectorIndex, queries: Any, k: int) -> Any:
            probes.append(len(queries))
            return probe(self, queries, k)

        def single_probe_spy(self: VectorIndex, query: Any, k: int) -> Any:
            probes.append(1)
            return single_probe(self, query, k)

        monkeypatch.setattr(VectorIndex, "exact", spy)
        monkeypatch.setattr(VectorIndex, "search_many", probe_spy)
        monkeypatch.setattr(VectorIndex, "search", single_probe_spy)
        batched = store.dense_search_many(scope, filters, vectors, 4)
        assert reads == [3] and probes == []
        lonely = store.list_memories(scope, filters, None, 100)
        stored = mem.embedder.embed([m.index_text for m in lonely])
        brute = [sorted((float(x) for x in stored @ vector), reverse=True)[:4] for vector in vectors]
        def scores(rows: Any) -> np.ndarray:  # ties may swap equally scored memories
            return np.array([[x if isinstance(x, float) else x[1] for x in row] for row in rows])

        # both paths score the ANN index's f16 copies of the vectors
        np.testing.assert_allclose(scores(batched), scores(brute), atol=2e-3)
        single = [store.dense_search(scope, filters, v, 4) for v in vectors]
        np.testing.assert_allclose(scores(single), scores(brute), atol=2e-3)
        assert reads == [3, 1, 1, 1] and probes == []  # a single search is exact at once too
        # the crowd fills the index: its batch is one ANN probe, no exact pass
        reads.clear()
        probes.clear()
        capped: list[int | None] = []
        keys_of = SQLiteVectors.scope_keys

        def keys_spy(self: SQLiteVectors, where: str, params: Any, most: int | None = None) -> Any:
            capped.append(most)
            return keys_of(self, where, params, most)

        monkeypatch.setattr(SQLiteVectors, "scope_keys", keys_spy)
        store.dense_search_many(Scope("default", "crowd"), filters, vectors, 4)
        assert probes == [3] and reads == [] and len(capped) == 1
        # ...and known to be large, it is not read again until the index has doubled
        store.dense_search_many(Scope("default", "crowd"), filters, vectors, 4)
        assert probes == [3, 3] and len(capped) == 1


def test_schema_version_and_wal(tmp_path: Path, model_home: Path) -> None:
    mem = Memory(config=hashing_config(model_home, tmp_path / "m.db"))
    conn = mem.store.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 14
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA mmap_size").fetchone()[0] == 256 * 2**20  # reads skip a syscall a page
    # the keys read on every open come from the partial index, not a scan of the rows
    plan = " ".join(r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN {VECTOR_KEYS_SQL}"))
    assert "USING COVERING INDEX ix_memories_vectors" in plan or "USING INDEX ix_memories_vectors" in plan
    # a user's keys for the exact dense pass come from an index alone (the vectors from usearch)
    where, params = scope_sql(Scope("default", "u"), Filters(exclude_kinds=("session", "topic")))
    plan = " ".join(r[3] for r in conn.execute(
        f"EXPLAIN QUERY PLAN SELECT m.seq FROM memories m WHERE {where}", params))
    assert "USING COVERING INDEX ix_memories_owner" in plan
    # ...and a time range's from the time indexes, not by walking the user's rows
    where, params = scope_sql(Scope("default", "u"), Filters(time_range=(1.0, 2.0)))
    plan = " ".join(r[3] for r in conn.execute(
        f"EXPLAIN QUERY PLAN SELECT m.seq FROM memories m WHERE {where}", params))
    assert "ix_memories_owner" not in plan and "ix_memories_event" in plan
    # a page of a user's (or an agent's) memories in seq order is one index range, not a sort
    # of all the rest
    for scope, index in ((Scope("default", "u"), "ix_memories_user_seq"),
                         (Scope("default", None, "a"), "ix_memories_agent_seq")):
        where, params = scope_sql(scope, Filters.everything())
        plan = " ".join(r[3] for r in conn.execute(
            f"EXPLAIN QUERY PLAN SELECT {COLUMNS_M} FROM memories m WHERE {where} AND m.seq > 5 "
            "ORDER BY m.seq LIMIT 1000", params))
        assert index in plan and "TEMP B-TREE" not in plan, plan
    mem.close()


def test_memory_map_size_comes_from_the_config(tmp_path: Path, model_home: Path) -> None:
    config = hashing_config(model_home, tmp_path / "m.db").model_copy(update={"sqlite_mmap_mb": 0})
    with Memory(config=config) as mem:
        assert mem.store.conn.execute("PRAGMA mmap_size").fetchone()[0] == 0
        mem.add("mapped or not, the same rows", user_id="u")
        assert [h.memory.text for h in mem.search("rows", user_id="u")] == ["mapped or not, the same rows"]


def test_v1_database_is_migrated_in_place(tmp_path: Path, model_home: Path) -> None:
    db = tmp_path / "old.db"
    conn = sqlite3.connect(db, isolation_level=None)
    conn.executescript("BEGIN;" + MIGRATIONS[0] + ";INSERT INTO meta VALUES ('app', 'memgrid');"
                       "INSERT INTO meta VALUES ('db_uuid', 'x');PRAGMA user_version = 1;COMMIT;")
    conn.close()
    with Memory(config=hashing_config(model_home, db)) as mem:
        assert mem.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        [record] = mem.add("after the upgrade", user_id="u")
        assert mem.store.conn.execute("SELECT n FROM vector_changes").fetchone()[0] == 1
        assert mem.search("upgrade", user_id="u")[0].memory.id == record.id


def test_newer_schema_is_refused(tmp_path: Path, model_home: Path) -> None:
    db = tmp_path / "new.db"
    with Memory(config=hashing_config(model_home, db)):
        pass
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(StorageError, match="newer"):
        Memory(config=hashing_config(model_home, db))


def test_bm25_skips_terms_in_most_rows_without_changing_the_ranking(tmp_path: Path, model_home: Path) -> None:
    with Memory(config=hashing_config(model_home, tmp_path / "idf.db")) as mem:
        mem.add([f"alpha note number {i}" for i in range(10)], user_id="u")
        wanted = mem.add(["alpha and beta together", "beta alone here"], user_id="u")
        store = mem.store
        assert store.fts.informative(["alpha", "beta"], "index_text") == ["beta"]  # alpha: 11 of 12 rows
        assert store.fts.informative(["alpha"], "index_text") == ["alpha"]  # a lone term always stays
        assert store.fts.informative(["alpha", "note"], "index_text") == ["alpha", "note"]  # all common
        hits = mem.search("alpha beta", user_id="u", limit=2, filters={"kind": "message"})
        assert {h.memory.id for h in hits} == {m.id for m in wanted}


def test_cached_term_counts_follow_writes_edits_and_deletes(tmp_path: Path, model_home: Path) -> None:
    with Memory(config=hashing_config(model_home, tmp_path / "counts.db")) as mem:
        alphas = mem.add([f"alpha note {i}" for i in range(3)], user_id="u")
        mem.add(["beta one"], user_id="u")
        store = mem.store
        assert store.fts.informative(["alpha", "beta"], "index_text") == ["beta"]  # 3 of 4 rows
        mem.add([f"gamma filler {i}" for i in range(4)], user_id="u")  # now 3 of 8: not common
        assert store.fts.informative(["alpha", "beta"], "index_text") == ["alpha", "beta"]
        for m in mem.add([f"beta again {i}" for i in range(4)], user_id="u"):
            mem.update(m.id, text=f"alpha again {m.id}")  # edits move the counts too
        assert store.fts.informative(["alpha", "beta"], "index_text") == ["beta"]  # alpha 7 of 12
        for m in alphas:
            mem.delete(m.id)
        assert store.fts.informative(["alpha", "beta"], "index_text") == ["alpha", "beta"]


def test_same_inserts_build_the_same_ann_graph() -> None:
    """Search results are reproducible: the HNSW graph does not depend on thread timing."""
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3000, 32)).astype(np.float32)
    queries = rng.normal(size=(20, 32)).astype(np.float32)
    found = []
    for _ in range(2):
        index = VectorIndex(None, 32, "test")
        for start in range(0, 3000, 1000):
            index.add(np.arange(start, start + 1000), vectors[start : start + 1000])
        found.append([index.search(q, 100) for q in queries])
    assert found[0] == found[1]


def test_reconcile_reads_the_index_keys_in_one_call(monkeypatch: pytest.MonkeyPatch) -> None:
    """Walking usearch's key view one offset at a time cost ~1.3 ms a key at 200k memories, so
    opening such a store took minutes; reconcile must take the keys in one slice."""
    from usearch.index import IndexedKeys

    def one_by_one(self: Any, offset: Any) -> Any:
        raise AssertionError("keys read one offset at a time")

    rng = np.random.default_rng(3)
    index = VectorIndex(None, 8, "test")
    index.add(np.arange(10), rng.normal(size=(10, 8)).astype(np.float32))
    index.remove([2, 7])
    monkeypatch.setattr(IndexedKeys, "__getitem__", one_by_one)
    fetched: list[int] = []

    def fetch(keys: np.ndarray) -> np.ndarray:
        fetched.extend(int(k) for k in keys)
        return rng.normal(size=(len(keys), 8)).astype(np.float32)

    assert index.reconcile(np.array([0, 1, 2, 3, 11], dtype=np.uint64), fetch) == (2, 5)
    assert sorted(fetched) == [2, 11]
    assert sorted(int(k) for k in np.asarray(index.index.keys)) == [0, 1, 2, 3, 11]


def test_consolidate_merges_full_text_segments(tmp_path: Path, model_home: Path) -> None:
    with Memory(config=hashing_config(model_home, tmp_path / "t.db")) as mem:
        words = [f"topic{chr(97 + i % 26)}{chr(97 + i // 26)}" for i in range(30)]
        for i, word in enumerate(words):  # one transaction each: one FTS5 segment each, until automerge
            mem.add([f"a turn about {word}", f"reply {i}"], user_id="u", session_id=f"s{i}")

        def segments() -> int:
            return int(mem.store.conn.execute(  # type: ignore[attr-defined]
                "SELECT count(DISTINCT segid) FROM memories_fts_idx").fetchone()[0])

        before = segments()
        mem.consolidate(user_id="u")
        assert segments() < before and segments() <= 2
        assert mem.search(words[7], user_id="u", limit=1)[0].memory.text == f"a turn about {words[7]}"


def test_neighbour_lookup_finds_turns_by_key_not_by_the_users_index(tmp_path: Path, model_home: Path) -> None:
    """With the scope check on the neighbours, SQLite carried the user over to the turns looked
    up and walked that user's whole index (17 ms a search at 100k memories): the plan must find
    them by primary key and their neighbours through the position index."""
    with Memory(config=hashing_config(model_home, tmp_path / "plan.db")) as mem:
        turns = mem.add([f"turn {i}" for i in range(40)], user_id="u", session_id="s")
        store = mem.store
        seqs = [store.get("default", t.id).seq for t in turns]
        executed: list[tuple[str, list[object]]] = []

        class Recording:
            def __init__(self, conn: sqlite3.Connection) -> None:
                self.conn = conn

            def execute(self, sql: str, params: list[object]) -> sqlite3.Cursor:
                executed.append((sql, list(params)))
                return self.conn.execute(sql, params)

        real = store.conn
        store.conn = Recording(real)  # type: ignore[assignment]
        try:
            near = store.neighbors(seqs[2:22], 1, Scope(tenant_id="default", user_id="u"), Filters())
        finally:
            store.conn = real
        assert [n.offset for n in near[seqs[2]]] == [-1, 1]
        (sql, params), = executed
        plan = " | ".join(row[3] for row in real.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SEARCH a USING INTEGER PRIMARY KEY" in plan, plan
        assert "SEARCH b USING INDEX ix_memories_position" in plan, plan


def test_erase_overwrites_the_erased_vectors_without_rebuilding_the_index(
        tmp_path: Path, model_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """usearch keeps a removed vector's bytes until its slot is reused, and reuses older free
    slots first: an erase must overwrite every free slot, and a rebuild (69 s at 200k memories)
    is not how it may get there."""
    db = tmp_path / "m.db"
    with Memory(config=hashing_config(model_home, db)) as mem:
        alice = mem.add([f"alice note about topic {i}" for i in range(40)], user_id="alice")
        bob = mem.add([f"bob's private matter {i}" for i in range(12)], user_id="bob")
        conn = mem.store.conn  # type: ignore[attr-defined]
        blobs = [r[0] for r in conn.execute("SELECT embedding FROM memories WHERE user_id = 'bob'")]
        for record in alice[:6]:
            mem.delete(record.id)  # older free slots, ahead of bob's in usearch's queue
        mem.add([f"alice again {i}" for i in range(3)], user_id="alice")  # reuses three of them
        mem.delete(bob[0].id)  # deleted before the erase: its vector must go too

        def no_rebuild(self: Any, keys: Any) -> Any:
            raise AssertionError("the index was rebuilt from SQLite's vectors")

        monkeypatch.setattr(SQLiteVectors, "fetch", no_rebuild)
        assert mem.erase(user_id="bob") == 11
        assert mem.store.vectors is not None and len(mem.store.vectors) == 37
        top = mem.search("alice note about topic 20", user_id="alice", limit=1)
        assert top[0].memory.text == "alice note about topic 20"
    raw = (tmp_path / "m.db.usearch").read_bytes()
    assert len(blobs) == 12
    assert not [b for b in blobs if np.frombuffer(b, np.float32).astype(np.float16).tobytes() in raw]
    with Memory(config=hashing_config(model_home, db)) as mem:  # reopens without repair work
        assert mem.store.vectors is not None and len(mem.store.vectors) == 37


def test_erasing_most_of_a_store_compacts_the_vector_index(tmp_path: Path, model_home: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """When more slots would be dead than live, the index is rebuilt from SQLite instead."""
    db = tmp_path / "m.db"
    with Memory(config=hashing_config(model_home, db)) as mem:
        mem.add([f"alice keeps note {i}" for i in range(3)], user_id="alice")
        mem.add([f"bob's private matter {i}" for i in range(30)], user_id="bob")
        conn = mem.store.conn  # type: ignore[attr-defined]
        blobs = [r[0] for r in conn.execute("SELECT embedding FROM memories WHERE user_id = 'bob'")]
        fetched: list[int] = []
        fetch = SQLiteVectors.fetch

        def spy(self: SQLiteVectors, keys: np.ndarray) -> np.ndarray:
            fetched.extend(int(k) for k in keys)
            return fetch(self, keys)

        monkeypatch.setattr(SQLiteVectors, "fetch", spy)
        assert mem.erase(user_id="bob") == 30
        assert len(fetched) == 3
        assert mem.store.vectors is not None and mem.store.vectors.free_slots() == 0
        [top] = mem.search("alice keeps note 1", user_id="alice", limit=1)
        assert top.memory.text == "alice keeps note 1"
    raw = (tmp_path / "m.db.usearch").read_bytes()
    assert not [b for b in blobs if np.frombuffer(b, np.float32).astype(np.float16).tobytes() in raw]


def test_scoped_ann_answers_a_thin_scope_exactly_and_a_wide_one_from_the_index() -> None:
    """ScopedANN alone: a 1% scope goes to one exact pass for the whole batch; a scope that
    owns most of the index never leaves the ANN path."""
    rng = np.random.default_rng(5)
    vectors = rng.normal(size=(5000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = VectorIndex(None, 16, "test")
    index.add(np.arange(5000), vectors)
    queries = vectors[rng.choice(5000, 8)] + 0.1 * rng.normal(size=(8, 16)).astype(np.float32)

    def run(owned: np.ndarray) -> tuple[list[list[tuple[int, float]]], list[int]]:
        exact_rows: list[int] = []

        def exact(rows: np.ndarray, k: int) -> list[list[tuple[int, float]]]:
            exact_rows.append(len(rows))
            scores = rows @ vectors[owned].T
            return [[(int(owned[i]), float(r[i])) for i in np.argsort(-r)[:k]] for r in scores]

        keys = set(owned.tolist())
        ann = ScopedANN(index, lambda seqs: {s for s in seqs if s in keys}, exact)
        return ann.search_many(queries, 10), exact_rows

    thin, calls = run(np.arange(0, 5000, 100))
    assert calls == [8]  # every row short, one pass for all of them
    assert all(len(hits) == 10 for hits in thin)
    wide, calls = run(np.arange(0, 5000)[np.arange(5000) % 10 != 0])
    assert calls == [] and all(len(hits) == 10 for hits in wide)


def test_exact_pass_scores_the_index_rows_of_the_given_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    index = VectorIndex(None, 8, "test")
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(60, 8)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    keys = np.arange(100, 160, dtype=np.uint64)
    index.add(keys, vectors)
    scope = np.concatenate([keys[::3], np.array([999], np.uint64)])  # 999: a key without a vector
    queries = rng.normal(size=(3, 8)).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    found = index.exact(scope, queries, 5)
    rows = vectors[::3].astype(np.float16).astype(np.float32)
    for query, hits in zip(queries, found, strict=True):
        cosine = rows @ query / np.linalg.norm(rows, axis=1)
        best = np.argsort(-cosine)[:5]
        assert [key for key, _ in hits] == [int(keys[::3][i]) for i in best]
        np.testing.assert_allclose([score for _, score in hits], cosine[best], atol=2e-3)
    # the same rows from usearch's public call, for a usearch without the compiled one
    fast = index.rows(keys[::3])

    class PublicOnly:
        def __init__(self, wrapped: Any) -> None:
            self.get = wrapped.get

    monkeypatch.setattr(index, "index", PublicOnly(index.index))
    assert np.array_equal(index.rows(keys[::3]), fast)
    assert np.array_equal(fast.astype(np.float32), rows)


def test_filtered_dense_search_uses_the_index_unless_the_filter_admits_few(
        tmp_path: Path, model_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every server search carries an access rule, and filters once sent every dense search to
    an exact pass over the whole scope (a user with 200k memories: 227 ms a search)."""
    with Memory(config=hashing_config(model_home, tmp_path / "m.db")) as mem:
        mem.add([f"note {i} about tea and rain" for i in range(400)], user_id="u")
        mem.add([f"other note {i} about tea" for i in range(8)], user_id="other")
        store = mem.store
        assert isinstance(store, SQLiteStore)
        passes: list[int] = []
        exact = VectorIndex.exact

        def spy(self: VectorIndex, *args: Any) -> Any:
            passes.append(1)
            return exact(self, *args)

        monkeypatch.setattr(VectorIndex, "exact", spy)
        vector = mem.embedder.embed(["tea"])[0]

        def owners(filters: Filters, k: int) -> list[str | None]:
            hits = store.dense_search(Scope("default"), filters, vector, k)
            found = store.get_by_seq([seq for seq, _ in hits])
            return [found[seq].scope.user_id for seq, _ in hits]

        assert owners(Filters(access=AccessRule(own_users=frozenset({"u"}))), 10) == ["u"] * 10
        assert passes == []
        # a rule that admits few of the candidates is answered exactly, and finds them all
        assert owners(Filters(access=AccessRule(own_users=frozenset({"other"}))), 20) == ["other"] * 8
        assert passes == [1]


def _named(mem: Memory, name: str, k: int = 5, user: str | None = "a", agent: str | None = None) -> list[str]:
    """What a name's lookup finds in one owner's memories, newest first, as texts."""
    found = mem.store.mentions(Scope("default", user, agent), Filters(), [name], k)
    stored = mem.store.get_by_seq(list(found))
    return [stored[s].text for s in sorted(found, reverse=True)]


def test_name_lookups_stay_in_the_owner_and_follow_edits(mem: Memory) -> None:
    mine = [mem.add(f"Lunch with Priya Raman in Denver, day {i}", user_id="a")[0] for i in range(8)]
    mem.add("Priya called about Denver", user_id="b")
    mem.add("Denver for the team", agent_id="bot")
    newest = [m.text for m in reversed(mine)]
    # the newest k of this user's mentions, words of multi-word names, nobody else's
    assert _named(mem, "priya") == newest[:5]
    assert _named(mem, "raman", 3) == newest[:3]
    assert _named(mem, "denver", 20) == newest
    assert _named(mem, "called", 20) == []
    # an agent's own memories are found under the agent
    assert _named(mem, "denver", user=None, agent="bot") == ["Denver for the team"]
    # an edit that drops the name drops the words; a new name is found; a delete drops the rows
    mem.update(mine[-1].id, text="lunch alone today")
    assert _named(mem, "priya", 20) == newest[1:]
    mem.update(mine[-2].id, text="Dinner with Priya in Boulder")
    assert _named(mem, "boulder") == ["Dinner with Priya in Boulder"]
    mem.delete(mine[-3].id)
    assert newest[2] not in _named(mem, "priya", 20)
    # several names in one call: the union of each name's newest
    both = mem.store.mentions(Scope("default", "a"), Filters(), ["boulder", "raman"], 1)
    assert sorted(m.text for m in mem.store.get_by_seq(list(both)).values()) == [
        "Dinner with Priya in Boulder", newest[3]]


def test_sqlite_name_lookup_is_one_index_range(tmp_path: Path, model_home: Path) -> None:
    with Memory(config=hashing_config(model_home, tmp_path / "n.db")) as mem:
        store = mem.store
        assert isinstance(store, SQLiteStore)
        for i in range(8):
            mem.add(f"Lunch with Priya Raman in Denver, day {i}", user_id="a")
        mem.add("Priya called about Denver", user_id="b")
        gone = mem.add("Priya again", user_id="a")[0]
        where, params = scope_sql(Scope("default", "a"), Filters())
        # the same rows FTS5 finds by walking the name's postings with the scope clause
        found = store.mentions(Scope("default", "a"), Filters(), ["denver"], 20)
        assert [s for s, _ in store.fts.newest_naming("denver", where, params, 20)] == sorted(
            found, reverse=True)
        # a delete drops the memory's rows
        seq = store.conn.execute("SELECT seq FROM memories WHERE id = ?", (gone.id,)).fetchone()[0]
        mem.delete(gone.id)
        assert store.conn.execute("SELECT count(*) FROM name_terms WHERE seq = ?", (seq,)).fetchone() == (0,)
        # one index range per name, not a walk of every user's mentions
        plan = " ".join(r[3] for r in store.conn.execute(
            f"EXPLAIN QUERY PLAN {NAME_LOOKUP_SQL.format(where=where)}",
            ["default", "u:a", "priya", *params, 5]))
        assert "SEARCH n USING PRIMARY KEY" in plan and "TEMP B-TREE" not in plan


def test_v9_database_gets_its_name_words_backfilled(tmp_path: Path, model_home: Path) -> None:
    db = tmp_path / "v9.db"
    with Memory(config=hashing_config(model_home, db)) as mem:
        mem.add(["saw Sam Ortiz in Lisbon", "Sam's dog Biscuit", "no names here"], user_id="u")
        mem.add("Lisbon again", agent_id="bot", user_id="u")
        rows = sorted(mem.store.conn.execute("SELECT * FROM name_terms").fetchall())
    # each name's words under the user, and under the agent for the agent's memory
    assert {r[1:3] for r in rows} == {("u:u", w) for w in ("sam", "ortiz", "lisbon", "biscuit")} | {
        ("a:bot", "lisbon")}
    conn = sqlite3.connect(db, isolation_level=None)
    # back to v9 as far as later steps are concerned: v13's history columns go too
    conn.executescript("DROP TRIGGER name_terms_ad; DROP TRIGGER name_terms_au; DROP TABLE name_terms;"
                       "DROP INDEX ix_history_agent; DROP INDEX ix_history_session;"
                       "ALTER TABLE history DROP COLUMN agent_id; ALTER TABLE history DROP COLUMN session_id;"
                       "PRAGMA user_version = 9;")
    conn.close()
    with Memory(config=hashing_config(model_home, db)) as mem:
        assert mem.store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert sorted(mem.store.conn.execute("SELECT * FROM name_terms").fetchall()) == rows
        # v13 filled the history's agent from the memories
        agents = {r[0] for r in mem.store.conn.execute("SELECT agent_id FROM history")}
        assert agents == {None, "bot"}
