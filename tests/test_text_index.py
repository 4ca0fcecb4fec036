"""The tantivy full-text index of a large SQLite store: a cache that the text log keeps exact."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import tantivy
from hypothesis import given, settings
from hypothesis import strategies as st

from memgrid import Memory
from memgrid.access.rules import AccessRule, GrantRule
from memgrid.models import Scope
from memgrid.storage.sqlite import SQLiteStore
from memgrid.storage.sqlite_fts import FTS5
from memgrid.storage.text_index import TextIndex
from memgrid.validation import Filters
from tests.conftest import hashing_config

TEXTS = ["I adopted a zebra named Stripes", "We went camping in the mountains",
         "My sister plays the violin", "The violin recital is on Friday"]


def _open(model_home: Path, path: Path, text_index_from: int | None = 0) -> Memory:
    return Memory(config=hashing_config(model_home, path, text_index_from=text_index_from))


def _bm25(mem: Memory, *terms: str, user: str = "u") -> list[str]:
    store = mem.store
    assert isinstance(store, SQLiteStore)
    hits = store.text_search(Scope(tenant_id="default", user_id=user), Filters(), terms, 10, "index_text")
    return [m.text for m in store.get_by_seq([s for s, _ in hits]).values()]


def _spy_applies(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    rebuilds: list[bool] = []
    original = TextIndex.apply

    def apply(self: TextIndex, *args: Any, rebuild: bool = False, **kw: Any) -> None:
        rebuilds.append(rebuild)
        original(self, *args, rebuild=rebuild, **kw)

    monkeypatch.setattr(TextIndex, "apply", apply)
    return rebuilds


def test_tantivy_ranks_like_fts5(tmp_path: Path, model_home: Path) -> None:
    with _open(model_home, tmp_path / "t.db") as big, _open(model_home, tmp_path / "f.db", None) as small:
        for mem in (big, small):
            mem.add(TEXTS, user_id="u")
        for query in (["violin", "recital"], ["zebra"], ["camping", "mountains", "sister"]):
            assert _bm25(big, *query)[0] == _bm25(small, *query)[0]
        assert big.store.text is not None and small.store.text is None  # type: ignore[attr-defined]
        assert set(_bm25(big, "violin")) == set(_bm25(small, "violin")) == set(TEXTS[2:])
        assert _bm25(big, "nothing", "matches") == []


def test_edits_and_deletes_reach_the_index(tmp_path: Path, model_home: Path) -> None:
    with _open(model_home, tmp_path / "m.db") as mem:
        added = mem.add(TEXTS, user_id="u")
        assert _bm25(mem, "zebra") == [TEXTS[0]]
        mem.update(added[0].id, text="I adopted a giraffe named Spots")
        assert _bm25(mem, "zebra") == []
        assert _bm25(mem, "giraffe") == ["I adopted a giraffe named Spots"]
        mem.delete(added[1].id)
        assert _bm25(mem, "camping") == []


def test_index_catches_up_with_writes_it_never_saw(tmp_path: Path, model_home: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes made while no index was open (another process, or a small store) are applied
    from the log: first by a build from the rows, then entry by entry."""
    path = tmp_path / "m.db"
    rebuilds = _spy_applies(monkeypatch)
    with _open(model_home, path, None) as mem:
        first = mem.add(TEXTS, user_id="u")
    with _open(model_home, path) as mem:
        assert _bm25(mem, "zebra") == [TEXTS[0]]
    assert rebuilds == [True]  # never built: from the rows
    with _open(model_home, path, None) as mem:
        mem.add("a brand new kayak", user_id="u")
        mem.update(first[0].id, text="I adopted a giraffe")
        mem.delete(first[2].id)
    with _open(model_home, path) as mem:
        assert _bm25(mem, "kayak") == ["a brand new kayak"]
        assert _bm25(mem, "zebra") == []
        assert _bm25(mem, "violin") == [TEXTS[3]]
    assert rebuilds == [True, False]  # behind the log: caught up entry by entry


def test_lost_or_foreign_index_folder_is_rebuilt(tmp_path: Path, model_home: Path) -> None:
    with _open(model_home, tmp_path / "m.db") as mem:
        mem.add(TEXTS, user_id="u")
        assert _bm25(mem, "zebra") == [TEXTS[0]]
    shutil.rmtree(tmp_path / "m.db.text")
    with _open(model_home, tmp_path / "m.db") as mem:
        assert _bm25(mem, "zebra") == [TEXTS[0]]
    # another database's index under this name: its stamp names the other file
    with _open(model_home, tmp_path / "other.db") as other:
        other.add("only in the other file: walrus", user_id="u")
        _bm25(other, "walrus")
    shutil.rmtree(tmp_path / "m.db.text")
    shutil.copytree(tmp_path / "other.db.text", tmp_path / "m.db.text")
    with _open(model_home, tmp_path / "m.db") as mem:
        assert _bm25(mem, "walrus") == []
        assert _bm25(mem, "zebra") == [TEXTS[0]]
    # an index folder of an older memgrid (another tantivy schema, e.g. before scope fields)
    shutil.rmtree(tmp_path / "m.db.text")
    builder = tantivy.SchemaBuilder()
    builder.add_unsigned_field("seq", stored=True, fast=True, indexed=True)
    (tmp_path / "m.db.text").mkdir()
    old = tantivy.Index(builder.build(), path=str(tmp_path / "m.db.text"))
    writer = old.writer()
    writer.commit()
    del writer, old
    with _open(model_home, tmp_path / "m.db") as mem:
        assert _bm25(mem, "zebra") == [TEXTS[0]]


def test_a_second_store_on_the_file_stays_exact_with_fts5(tmp_path: Path, model_home: Path) -> None:
    path = tmp_path / "m.db"
    with _open(model_home, path) as first, _open(model_home, path) as second:
        first.add("written by the first: zebra", user_id="u")
        assert _bm25(first, "zebra") == ["written by the first: zebra"]
        second.add("written by the second: walrus", user_id="u")
        assert _bm25(second, "zebra") == ["written by the first: zebra"]
        assert second.store.text is None and second.store._text_busy  # type: ignore[attr-defined]
        assert _bm25(first, "walrus") == ["written by the second: walrus"]  # caught up from the log


def test_erase_leaves_no_erased_term_in_the_index(tmp_path: Path, model_home: Path) -> None:
    with _open(model_home, tmp_path / "m.db") as mem:
        mem.add("my secret word is xylophonist", user_id="gone")
        mem.add(TEXTS, user_id="u")
        assert _bm25(mem, "xylophonist", user="gone") == ["my secret word is xylophonist"]
        mem.erase(user_id="gone")
        text = mem.store.text  # type: ignore[attr-defined]
        assert text is not None
        searcher = text.index.searcher()
        token = text.analyzer.analyze("xylophonist")[0]
        assert searcher.doc_freq("index_text", token) == 0  # gone, not just marked deleted
        assert _bm25(mem, "zebra") == [TEXTS[0]]


def test_scope_is_checked_after_ranking(tmp_path: Path, model_home: Path) -> None:
    """Another user's better matches never come back; a sparse scope falls back to the join."""
    with _open(model_home, tmp_path / "m.db") as mem:
        mem.add([f"crowd talks about the zebra zebra {i}" for i in range(300)], user_id="crowd")
        mem.add("a lonely zebra", user_id="lonely")
        assert _bm25(mem, "zebra", "talks", user="lonely") == ["a lonely zebra"]
        hits = mem.search("zebra", user_id="lonely")
        assert [h.memory.user_id for h in hits] == ["lonely"] and "bm25" in hits[0].explain


def test_index_ahead_of_a_restored_file_is_rebuilt(tmp_path: Path, model_home: Path) -> None:
    """A database restored from a backup has the same identity but an older log than the index
    built on the newer file: searched before anything is written, it gets a rebuilt index, not
    one that answers with text the restored file no longer holds."""
    path = tmp_path / "m.db"
    with _open(model_home, path) as mem:
        first = mem.add(TEXTS, user_id="u")
        _bm25(mem, "zebra")
    shutil.copy(path, tmp_path / "backup.db")  # closed: the WAL is checkpointed into the file
    with _open(model_home, path) as mem:
        mem.update(first[0].id, text="I adopted a walrus")
        assert _bm25(mem, "walrus") == ["I adopted a walrus"]
    shutil.copy(tmp_path / "backup.db", path)
    with _open(model_home, path) as mem:
        assert _bm25(mem, "walrus") == []
        assert _bm25(mem, "zebra") == [TEXTS[0]]


def _forbid_fts5(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*_: object) -> str:
        raise AssertionError("FTS5 answered: the text index should have")

    monkeypatch.setattr(FTS5, "match", fail)


def test_a_small_user_of_a_crowded_store_is_ranked_in_the_index(
        tmp_path: Path, model_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Users of a shared store each get their own top k from tantivy, not from the slow join."""
    with _open(model_home, tmp_path / "m.db") as mem:
        mem.add([f"crowd talks about the zebra zebra {i}" for i in range(300)], user_id="crowd")
        mem.add(["a lonely zebra", "another zebra talks"], user_id="lonely")
        _forbid_fts5(monkeypatch)
        assert set(_bm25(mem, "zebra", "talks", user="lonely")) == {"a lonely zebra", "another zebra talks"}
        assert len(_bm25(mem, "zebra", user="crowd")) == 10


def test_archived_memories_leave_the_index_ranking(
        tmp_path: Path, model_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Archiving is logged like a text edit: the index stops ranking archived memories (else
    100 archived matches would fill its head and send every search to FTS5)."""
    with _open(model_home, tmp_path / "m.db") as mem:
        old = mem.add([f"zebra zebra note {i}" for i in range(100)], user_id="u")
        mem.add("one zebra", user_id="u")
        assert len(_bm25(mem, "zebra")) == 10
        store = mem.store
        for record in old:
            stored = store.get("default", record.id)
            assert stored is not None
            store.update(stored, {"archived": True}, "test")
        _forbid_fts5(monkeypatch)
        assert _bm25(mem, "zebra") == ["one zebra"]


_USERS, _SESSIONS, _TAGS = ("ann", "bob", "cy"), ("s1", "s2"), ("red", "blue")


@pytest.fixture(scope="module")
def twin_stores(tmp_path_factory: pytest.TempPathFactory,
                model_home: Path) -> Iterator[tuple[Memory, Memory]]:
    """The same memories under tantivy and under FTS5: every user x session x visibility x tag."""
    folder = tmp_path_factory.mktemp("twins")
    with _open(model_home, folder / "t.db") as tv, _open(model_home, folder / "f.db", None) as fts:
        for mem in (tv, fts):
            for user in _USERS:
                for session in _SESSIONS:
                    for visibility in ("private", "shared"):
                        for tag in _TAGS:
                            mem.add([f"{user} saw a zebra in {session} {tag}", f"zebra {tag} notes"],
                                    user_id=user, session_id=session, visibility=visibility,
                                    metadata={"tags": [tag], "namespace": tag})
        yield tv, fts


grants = st.builds(
    GrantRule, owner=st.sampled_from((None, *_USERS)),
    resource=st.sampled_from(("all", "session", "tag", "namespace")),
    value=st.sampled_from((None, *_SESSIONS, *_TAGS)))
rules = st.builds(AccessRule, admin=st.booleans(),
                  own_users=st.frozensets(st.sampled_from(_USERS), max_size=2),
                  grants=st.lists(grants, max_size=3).map(tuple))


@settings(max_examples=120, deadline=None)
@given(user=st.sampled_from((None, *_USERS)), session=st.sampled_from((None, *_SESSIONS)),
       visibility=st.sampled_from((None, "private", "shared")), rule=st.none() | rules)
def test_index_restriction_admits_what_sql_admits(
        twin_stores: tuple[Memory, Memory], user: str | None, session: str | None,
        visibility: str | None, rule: AccessRule | None) -> None:
    """Tantivy restricts by scope and the sharing rule (wider where it lacks a column, tags and
    namespaces, which SQL narrows): the same memories come back as from FTS5 joined with SQL."""
    scope = Scope(tenant_id="default", user_id=user, session_id=session)
    filters = Filters(visibility=visibility, access=rule)
    found = []
    for mem in twin_stores:
        store = mem.store
        assert isinstance(store, SQLiteStore)
        hits = store.text_search(scope, filters, ["zebra", "notes"], 1000, "index_text")
        found.append(sorted((m.scope.user_id, m.scope.session_id, m.visibility, m.text)
                            for m in store.get_by_seq([s for s, _ in hits]).values()))
    assert twin_stores[0].store.text is not None  # type: ignore[attr-defined]
    assert found[0] == found[1]
