"""What a new user's trial broke (issue #22): erase scopes, concurrent writes, two processes on a
new file, the cross-process lock, add events and idempotent retries."""

from __future__ import annotations

import subprocess
import sys
import threading
import zlib
from pathlib import Path

import pytest

from memgrid import InvalidInputError, Memory, NotFoundError
from memgrid.models import Scope
from memgrid.storage.sql import state_key
from tests.conftest import hashing_config


@pytest.mark.parametrize("scope", ["user", "agent", "session"])
def test_erase_of_any_scope_leaves_no_byte_of_it(tmp_path: Path, model_home: Path, scope: str) -> None:
    """Memories deleted before the erase, their history, FTS5, usearch and tantivy files included."""
    db = tmp_path / "erase.db"
    config = hashing_config(model_home, db, text_index_from=0)  # tantivy from the first memory
    with Memory(config=config) as mem:
        kept = mem.add("alice keeps zanzibarish notes", user_id="alice", session_id="s1")
        owner = {"user": {"user_id": "bob"}, "agent": {"agent_id": "helper"},
                 "session": {"user_id": "alice", "session_id": "s2"}}[scope]
        gone = mem.add([f"quixotrope secret {i}" for i in range(12)], **owner)  # type: ignore[arg-type]
        mem.update(gone[0].id, text="quixotrope secret edited")
        mem.delete(gone[1].id)  # deleted before the erase: its history held the text
        assert mem.erase(**owner) == 11  # type: ignore[arg-type]
        for m in gone[:2]:
            with pytest.raises(NotFoundError):
                mem.history(m.id)
        assert all("quixotrope" not in h.memory.text for h in mem.search("quixotrope", user_id="alice"))
        assert mem.get(kept[0].id).text == "alice keeps zanzibarish notes"
    raw = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    assert b"quixotrope" not in raw and b"zanzibarish" in raw


def test_erase_by_session_alone_needs_every_owner_named(mem: Memory) -> None:
    for user in ("ann", "bo", "cy"):
        mem.add(f"{user} said hello in session one", user_id=user, session_id="session_1")
    with pytest.raises(InvalidInputError, match="all_owners"):
        mem.erase(session_id="session_1")
    assert sum(o.memories for o in mem.erase_preview(session_id="session_1", all_owners=True)) == 3
    assert mem.erase(user_id="ann", session_id="session_1") == 1
    assert mem.erase(session_id="session_1", all_owners=True) == 2


def test_interleaved_changes_of_one_fact_leave_one_current(mem: Memory) -> None:
    """Which fact is current is read inside the insert's transaction: writers racing to replace
    "Denver" chain one after another instead of each closing Denver."""
    mem.add("I live in Denver", user_id="u", timestamp="2023-01-01")
    cities = ["Austin", "Boston", "Chicago", "Dallas", "El Paso", "Fresno"]
    barrier = threading.Barrier(len(cities))

    def move(city: str) -> None:
        barrier.wait()
        mem.add(f"I moved to {city}", user_id="u", timestamp="2023-06-01")

    threads = [threading.Thread(target=move, args=(c,)) for c in cities]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    facts = [m for m in mem.list(user_id="u").items if m.fact_key == "self|residence"]
    assert len(facts) == 7
    assert len([m for m in facts if m.superseded_by is None]) == 1
    for m in facts:  # each superseded memory was closed once: one supersession entry each
        closes = [h for h in mem.history(m.id) if "superseded_by" in h.metadata]
        assert len(closes) == (0 if m.superseded_by is None else 1)


def test_racing_repeats_store_one_memory(mem: Memory) -> None:
    barrier = threading.Barrier(6)
    results: list[list[str]] = []

    def add() -> None:
        barrier.wait()
        added = mem.add({"content": "same words", "timestamp": "2023-01-01"}, user_id="u", session_id="s")
        results.append([e.event for e in added.events])

    threads = [threading.Thread(target=add) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(mem.list(user_id="u").items) == 1
    assert sorted(r[0] for r in results) == ["ADD"] + ["NONE"] * 5


def test_add_reports_an_event_per_message(mem: Memory) -> None:
    first = mem.add("I live in Denver", user_id="u", timestamp="2023-01-01")
    assert [e.event for e in first.events] == ["ADD"] and first.events[0].id == first[0].id
    again = mem.add([{"content": "I live in Denver", "timestamp": "2023-01-01"},
                     {"content": "I moved to Austin", "timestamp": "2023-06-01"}], user_id="u")
    assert [e.event for e in again.events] == ["NONE", "UPDATE"]
    assert again.events[0].id == first[0].id and again.events[1].supersedes == first[0].id
    assert [r.id for r in again] == [again.events[1].id]  # still the list of new records


def test_a_retry_with_the_same_idempotency_key_stores_nothing_twice(mem: Memory) -> None:
    first = mem.add(["one", "two"], user_id="u", idempotency_key="req-1")  # no timestamp: 'now'
    retry = mem.add(["one", "two"], user_id="u", idempotency_key="req-1")
    assert list(retry) == [] and [e.id for e in retry.events] == [r.id for r in first]
    assert len(mem.add(["one", "two"], user_id="u", idempotency_key="req-2")) == 2


def test_stats_count_each_owners_sessions(mem: Memory) -> None:
    for user in ("ann", "bo"):
        mem.add([f"{user} a", f"{user} b"], user_id=user, session_id="session_1")
    assert mem.stats().sessions == 2 and mem.stats(user_id="ann").sessions == 1
    assert mem.stats().by_tenant == {"default": 4}


PROBE = """
import sys
from pathlib import Path
from memgrid import EmbedderConfig, MemgridConfig, Memory
config = MemgridConfig(home=Path(sys.argv[2]), path=Path(sys.argv[1]),
                       embedder=EmbedderConfig(provider="hashing"))
with Memory(config=config) as mem:
    mem.add("note from " + sys.argv[3], user_id="u" + sys.argv[3])
"""


def test_processes_opening_a_new_file_at_once_all_succeed(tmp_path: Path, model_home: Path) -> None:
    for attempt in range(3):
        db = tmp_path / f"fresh{attempt}.db"
        procs = [subprocess.Popen([sys.executable, "-c", PROBE, str(db), str(model_home), str(i)],
                                  stderr=subprocess.PIPE) for i in range(5)]
        errors = [p.communicate()[1].decode() for p in procs]
        assert all(p.returncode == 0 for p in procs), errors
        with Memory(config=hashing_config(model_home, db)) as mem:
            assert mem.stats().memories == 5


TRY_LOCK = """
import fcntl, sys
with open(sys.argv[1], "a") as f:
    try:
        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, int(sys.argv[2]))
        print("free")
    except OSError:
        print("busy")
"""


def test_the_cross_process_lock_survives_another_handle_closing(tmp_path: Path, model_home: Path) -> None:
    """POSIX drops all of a process's locks on a file when any handle to it closes; a store keeps
    one handle per process, so another store's pass ending and that store closing do not release
    a lock a pass still holds."""
    db = tmp_path / "lock.db"
    lock_file = db.with_name(db.name + ".lock")
    first = Memory(config=hashing_config(model_home, db))
    second = Memory(config=hashing_config(model_home, db))
    scope = Scope("default", "u")
    key = zlib.crc32(f"consolidate\x1f{scope.tenant_id}\x1f{state_key(scope)}".encode())

    def probe() -> str:
        return subprocess.run([sys.executable, "-c", TRY_LOCK, str(lock_file), str(key)],
                              capture_output=True, text=True, timeout=30).stdout.strip()

    with first.store.exclusive(scope, "consolidate"):
        with second.store.exclusive(Scope("default", "other"), "consolidate"):
            pass
        second.close()
        assert probe() == "busy"
    assert probe() == "free"
    first.close()


class Died(BaseException):
    """The process dying between the write and its audit result line."""


def test_a_write_whose_result_line_never_came_is_audited_as_started(tmp_path: Path, model_home: Path) -> None:
    from memgrid.server.service import open_service

    service = open_service(hashing_config(model_home, tmp_path / "audit.db"))
    tenant_id, _, _ = service.access.create_tenant("acme")
    alice = service.access.create_principal(tenant_id, "user", "alice")
    write_audit = service.access.audit

    def dies_after_the_write(*args: object, **kw: object) -> None:
        if args[4] != "started":
            raise Died
        write_audit(*args, **kw)  # type: ignore[arg-type]

    service.access.audit = dies_after_the_write  # type: ignore[method-assign]
    with pytest.raises(Died):
        service.add(alice, "written, then the process died")
    service.access.audit = write_audit  # type: ignore[method-assign]
    stored = service.list_memories(alice).items
    assert [r.text for r in stored] == ["written, then the process died"]  # the write landed
    lines = [(e.action, e.result) for e in service.access.audit_log(tenant_id, limit=1000)]
    assert lines[-2:] == [("memory.add", "started"), ("memory.list", "ok")]  # its line says it was tried
    # a normal write: started, then its result
    service.delete(alice, stored[0].id)
    lines = [(e.action, e.result) for e in service.access.audit_log(tenant_id, limit=1000)]
    assert lines[-2:] == [("memory.delete", "started"), ("memory.delete", "ok")]
    service.close()
