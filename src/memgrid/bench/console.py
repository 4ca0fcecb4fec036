"""Console page loads on a large store, measured in a real headless Chromium.

`memgrid bench console --memories 100000`: builds a store of recombined LoCoMo turns (sessions
of 50 over many users, dated over two years), serves it, signs in as the tenant admin and opens
each page again and again. A page's time runs from the navigation to the end of its render (the
API calls and the DOM they fill), as the console marks it; a cold load is a fresh tab on /ui/
until the first page is drawn (every file fetched, cytoscape parsed).
"""

from __future__ import annotations

import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from memgrid.bench.metrics import percentile_ms
from memgrid.bench.report import write_json
from memgrid.bench.speed import BATCH, corpus, unique_texts
from memgrid.config import EmbedderConfig, MemgridConfig, default_home
from memgrid.memory import Memory

DAY = 86_400.0


def build_store(path: Path, memories: int, users: int, embedder: str, data: Path, log: Any) -> None:
    turns, _ = corpus(data)
    rng = random.Random(11)
    texts = unique_texts(turns, memories, 0, rng)
    start_at = time.time() - 730 * DAY
    config = MemgridConfig(home=default_home(), path=path,
                           embedder=EmbedderConfig(provider=embedder))  # type: ignore[arg-type]
    started = time.perf_counter()
    with Memory(config=config) as mem:
        for i in range(0, len(texts), BATCH):
            session = i // BATCH
            at = start_at + session * (730 * DAY / max(1, len(texts) // BATCH))
            messages = [{"role": "user" if j % 2 == 0 else "assistant", "content": text,
                         "timestamp": at + 60 * j} for j, text in enumerate(texts[i:i + BATCH])]
            mem.add(messages, user_id=f"user{session % users}", session_id=f"s{session}")
            if session % 200 == 0:
                log(f"  {i + len(messages):>7} memories stored ({time.perf_counter() - started:.0f} s)")
    log(f"stored {memories} memories for {users} users in {time.perf_counter() - started:.0f} s")


def _pages(memory_id: str, user: str, query: str) -> dict[str, str]:
    return {
        "memories": "memories",
        "memories, filtered": f"memories?user_id={user}&kind=message&order=newest",
        "memory + graph": f"memory/{memory_id}",
        "search + context": f"search?q={query.replace(' ', '+')}",
        "user timeline": f"user/{user}",
        "access": "access",
        "audit": "audit",
        "stats": "stats",
    }


def _start_console(path: Path) -> tuple[subprocess.Popen[str], str, str]:
    """The console as a user starts it (`memgrid ui`), in its own process: a server thread here
    would share a GIL with the browser driver. Returns the process, its address and its key."""
    import httpx

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    proc = subprocess.Popen([sys.executable, "-m", "memgrid", "ui", "--db", str(path), "--port", str(port)],
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    key = proc.stdout.readline().strip().split("#key=")[-1]
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            httpx.get(f"{url}/healthz")
            break
        except httpx.TransportError:
            time.sleep(0.1)
    return proc, url, key


def _load(tab: Any, address: str) -> None:
    tab.evaluate("document.body.dataset.ready = '0'")
    tab.goto(address)
    tab.locator("body[data-ready='1']").wait_for(state="attached")
    if tab.locator("#error").count():
        raise RuntimeError(f"{address}: {tab.locator('#error').inner_text()}")


def run_console_bench(memories: int = 100_000, users: int = 50, repeats: int = 15,
                      embedder: str = "static", data: Path = Path("../shared/data/locomo"),
                      json_out: Path | None = None, log: Any = print,
                      chromium: str = "/usr/bin/chromium") -> dict[str, Any]:
    import httpx
    from playwright.sync_api import sync_playwright

    workdir = Path(tempfile.mkdtemp(prefix="memgrid-console-"))
    path = workdir / "console.db"
    build_store(path, memories, users, embedder, data, log)
    proc, url, key = _start_console(path)
    result: dict[str, Any] = {"memories": memories, "users": users, "embedder": embedder,
                              "repeats": repeats, "pages": {}}
    try:
        newest = httpx.get(f"{url}/v1/memories", params={"user_id": "user3", "order": "newest", "limit": 1},
                           headers={"Authorization": f"Bearer {key}"}).json()
        pages = _pages(newest["items"][0]["id"], "user3", "what did she say about the museum trip")
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium)
            cold, documents = [], []
            for _ in range(5):
                tab = browser.new_page()
                tab.goto(f"{url}/ui/#key={key}")
                tab.locator("body[data-ready='1']").wait_for(state="attached")
                # the page's own clock: from the navigation's start to the first page drawn
                cold.append(float(tab.locator("body").get_attribute("data-ready-at") or 0) / 1000)
                documents.append(float(tab.evaluate(
                    "performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd")) / 1000)
                tab.close()
            result["cold_load_ms_p50"] = round(percentile_ms(cold, 50), 1)
            result["cold_document_ms_p50"] = round(percentile_ms(documents, 50), 1)
            log(f"cold load of /ui/ to the first page drawn: p50 {result['cold_load_ms_p50']} ms "
                f"(the document and its scripts: {result['cold_document_ms_p50']} ms)")
            tab = browser.new_page()
            _load(tab, f"{url}/ui/#key={key}")
            for name, fragment in pages.items():
                render, wall = [], []
                for n in range(repeats):
                    start = time.perf_counter()
                    # a distinct address each time, so each is a navigation (pages ignore `r`)
                    _load(tab, f"{url}/ui/#/{fragment}{'&' if '?' in fragment else '?'}r={n}")
                    wall.append(time.perf_counter() - start)
                    render.append(float(tab.locator("body").get_attribute("data-render-ms") or 0) / 1000)
                row = {"render_ms_p50": round(percentile_ms(render, 50), 1),
                       "render_ms_p95": round(percentile_ms(render, 95), 1),
                       "wall_ms_p50": round(percentile_ms(wall, 50), 1)}
                result["pages"][name] = row
                log(f"{name:<18} render p50 {row['render_ms_p50']:>6} ms, p95 {row['render_ms_p95']:>6} ms;"
                    f" wall {row['wall_ms_p50']} ms")
            browser.close()
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        shutil.rmtree(workdir, ignore_errors=True)
    write_json(json_out, result)
    return result
