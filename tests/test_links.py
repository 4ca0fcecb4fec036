"""Links made on write (A-MEM style) and spreading activation over them, on both backends."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from memgrid import Memory
from memgrid.config import LinkConfig
from memgrid.errors import InvalidInputError, NotFoundError
from memgrid.models import Scope
from memgrid.validation import Filters
from tests.conftest import hashing_config


def _link_rows(mem: Memory) -> int:
    store: Any = mem.store
    if hasattr(store, "_q"):
        return int(store._q("SELECT count(*) FROM links")[0][0])
    return int(store.conn.execute("SELECT count(*) FROM links").fetchone()[0])


def test_new_memories_link_to_related_ones_within_the_user(mem: Memory) -> None:
    rex = mem.add("We adopted a beagle called Rexford from the Lakeside shelter", user_id="ana")[0]
    mem.add("Completely unrelated: quarterly tax forms are due", user_id="ana")
    park = mem.add("Rexford loved the Lakeside dog park this morning", user_id="ana")[0]
    other = mem.add("Rexford is also the name of my boss at Lakeside", user_id="ben")[0]
    found = mem.related(park.id)
    by_id = {r.memory.id: r for r in found}
    assert rex.id in by_id and "entity" in by_id[rex.id].kinds
    assert 0 < by_id[rex.id].weight <= 1
    assert other.id not in by_id  # another user's memory is never linked
    assert park.id in {r.memory.id for r in mem.related(rex.id)}  # links read both ways
    assert [r.weight for r in found] == sorted((r.weight for r in found), reverse=True)


def test_links_within_one_batch_and_kinds(mem: Memory) -> None:
    a, b = mem.add(["Mira Okafor starts at Globex on Monday",
                    "Mira Okafor will commute to Globex by train"], user_id="u", session_id="s")
    kinds = {k for r in mem.related(b.id) if r.memory.id == a.id for k in r.kinds}
    assert "entity" in kinds and "similar" in kinds


def test_delete_and_erase_take_links_along(mem: Memory) -> None:
    a = mem.add("Juniper the cat sleeps on the Zanzibar rug", user_id="u")[0]
    b = mem.add("Juniper knocked the Zanzibar vase over", user_id="u")[0]
    assert b.id in {r.memory.id for r in mem.related(a.id)}
    mem.delete(b.id)
    assert mem.related(a.id) == []
    mem.add("Juniper likes the Zanzibar window", user_id="u")
    assert _link_rows(mem) > 0
    mem.erase(user_id="u")
    assert _link_rows(mem) == 0
    with pytest.raises(NotFoundError):
        mem.related(a.id)


def test_spreading_activation_reaches_linked_memories(tmp_path: Path, model_home: Path) -> None:
    config = hashing_config(model_home, tmp_path / "spread.db")
    config.retrieval.link_weight = 1.0
    with Memory(config=config) as mem:
        mem.add("Ravensworth Farm hosts the harvest fair", user_id="u")
        mem.add("We brought pumpkins home from Ravensworth Farm", user_id="u")
        hits = mem.search("harvest fair", user_id="u", limit=5)
        linked = [h for h in hits if "link" in h.explain]
        assert any("pumpkins" in h.memory.text for h in linked)


def test_links_can_be_turned_off_and_limits_are_checked(tmp_path: Path, model_home: Path) -> None:
    config = hashing_config(model_home, tmp_path / "off.db", links=LinkConfig(neighbors=0))
    with Memory(config=config) as mem:
        a = mem.add("Quillon bakes sourdough", user_id="u")[0]
        mem.add("Quillon bakes rye", user_id="u")
        assert mem.related(a.id) == []
        assert _link_rows(mem) == 0
        with pytest.raises(InvalidInputError, match="limit"):
            mem.related(a.id, limit=0)


def test_batched_nearest_matches_single_queries(mem: Memory) -> None:
    mem.add([f"note {i} about {w}" for i, w in enumerate(["tea", "coffee", "rain", "tea time"] * 10)],
            user_id="u")
    mem.add("someone else's tea note", user_id="other")
    scope, filters = Scope("default", "u"), Filters(exclude_kinds=("session",))
    vectors = mem.embedder.embed(["tea", "weather and rain", "coffee beans"])
    batched = mem.store.dense_search_many(scope, filters, vectors, 5)
    single = [mem.store.dense_search(scope, filters, v, 5) for v in vectors]
    # the same top k: equal scores row by row (memories tied on score may swap places)
    assert [[round(v, 4) for _, v in row] for row in batched] == [
        [round(v, 4) for _, v in row] for row in single]
    assert all(len({s for s, _ in row}) == 5 for row in batched)
    owners = {m.seq: m.scope.user_id for m in mem.store.list_memories(Scope("default"), Filters(), None, 100)}
    assert all(owners[s] == "u" for row in batched for s, _ in row)


def test_consolidate_backfills_links_of_memories_stored_without_them(mem: Memory) -> None:
    mem.writer.links = LinkConfig(neighbors=0)  # as written by a memgrid before links existed
    a = mem.add("Ottoline adopted a greyhound named Biscuit", user_id="u", session_id="s1")[0]
    b = mem.add("Biscuit the greyhound sleeps all day, says Ottoline", user_id="u", session_id="s2")[0]
    assert _link_rows(mem) == 0 and mem.related(a.id) == []
    seqs = [stored.seq for stored in (mem.store.get(mem.tenant_id, m.id) for m in (a, b)) if stored]
    assert mem.store.linked(seqs) == set()
    mem.writer.links = LinkConfig()
    report = mem.consolidate(user_id="u")
    assert report.backfilled == 2 and report.counts()["backfilled"] == 2
    assert mem.store.linked(seqs) == set(seqs)  # each one linked, as source or as target
    assert b.id in {r.memory.id for r in mem.related(a.id)}
    assert mem.consolidate(user_id="u").backfilled == 0  # linked memories are left alone
    assert mem.get(a.id).version == 1  # the memories themselves are untouched
