"""The tantivy full-text index of a large SQLite store: a cache that the text log keeps exact."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from memgrid import Memory
from memgrid.models import Scope
from memgrid.storage.sqlite import SQLiteStore
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
