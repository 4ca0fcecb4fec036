"""A real server process on loopback: concurrency without errors, and SIGKILL without loss."""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from memgrid.bench.load import ServerProcess, bootstrap, count_present, database, drive, make_users

pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgres"])
def server(request: pytest.FixtureRequest, tmp_path: Path,
           model_home: Path) -> Iterator[tuple[ServerProcess, str]]:
    env = {**os.environ, "MEMGRID_HOME": str(model_home)}
    with database(request.param, tmp_path) as db:
        admin_key = bootstrap(db, env)
        proc = ServerProcess(db, "hashing", env)
        proc.start()
        yield proc, admin_key
        proc.stop()


def test_32_concurrent_clients_no_errors_no_lost_adds(server: tuple[ServerProcess, str]) -> None:
    proc, admin_key = server
    keys = asyncio.run(make_users(proc.url, admin_key, 32))
    result = asyncio.run(drive(proc.url, keys, seconds=120, add_ratio=0.5, max_ops=8))
    assert result["errors"] == 0, result["error_samples"]
    acked = result["acknowledged"]
    assert len(acked) >= 32
    assert asyncio.run(count_present(proc.url, admin_key, acked)) == len(acked)


def test_postgres_server_in_two_processes_no_errors_no_lost_adds(tmp_path: Path, model_home: Path) -> None:
    """`serve --workers 2`: two processes, each with its own connection pools, on one database."""
    env = {**os.environ, "MEMGRID_HOME": str(model_home)}
    with database("postgres", tmp_path) as db:
        admin_key = bootstrap(db, env)
        proc = ServerProcess(db, "hashing", env, workers=2)
        proc.start()
        try:
            keys = asyncio.run(make_users(proc.url, admin_key, 16))
            result = asyncio.run(drive(proc.url, keys, seconds=120, add_ratio=0.5, max_ops=40))
            assert result["errors"] == 0, result["error_samples"]
            acked = result["acknowledged"]
            assert asyncio.run(count_present(proc.url, admin_key, acked)) == len(acked)
        finally:
            proc.stop()


def test_sigkill_during_writes_loses_no_acknowledged_write(server: tuple[ServerProcess, str]) -> None:
    proc, admin_key = server
    keys = asyncio.run(make_users(proc.url, admin_key, 8))
    rng = random.Random(7)
    for _round in range(3):
        outcome: dict[str, Any] = {}
        live: dict[str, str] = {}

        def writers(out: dict[str, Any] = outcome, seen: dict[str, str] = live) -> None:
            out.update(asyncio.run(drive(proc.url, keys, seconds=3.0, add_ratio=1.0, acknowledged=seen)))

        thread = threading.Thread(target=writers)
        thread.start()
        waited = time.monotonic() + 3.0
        while not live and time.monotonic() < waited:  # kill mid-stream, after writes are landing
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 0.6))
        proc.kill()
        thread.join()
        proc.start()
        acked = outcome["acknowledged"]
        assert acked, "no write was acknowledged within 3 s of starting the writers"
        assert asyncio.run(count_present(proc.url, admin_key, acked)) == len(acked)
