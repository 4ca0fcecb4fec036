"""The web console driven in a real headless Chromium (Debian's `chromium`, through Playwright):
sign in, search, a memory and its chain, a grant that changes another user's view, erase, and
a key without rights that sees nothing it should not. Screenshots land in
$MEMGRID_CONSOLE_SHOTS when set (the docs' images come from here)."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from memgrid.server.app import create_app
from memgrid.server.service import MemoryService, open_service
from tests.conftest import hashing_config

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if CHROMIUM is None and not os.environ.get("CI"):
    pytest.skip("the console tests need Debian's chromium (apt-get install chromium); CI installs it",
                allow_module_level=True)

from playwright.sync_api import Browser, Dialog, Locator, Page, expect, sync_playwright  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Site:
    """A live server over a fresh SQLite store with a tenant: admin, alice, bob, and eve, a
    user with nothing of her own and no grants."""

    def __init__(self, service: MemoryService, url: str) -> None:
        self.service, self.url = service, url
        access = service.access
        self.tenant_id, _, self.admin_key = access.create_tenant("acme")
        self.alice = access.create_principal(self.tenant_id, "user", "alice")
        self.bob = access.create_principal(self.tenant_id, "user", "bob")
        self.eve = access.create_principal(self.tenant_id, "user", "eve")
        self.keys = {name: access.create_key(p.id).secret or "" for name, p in
                     (("alice", self.alice), ("bob", self.bob), ("eve", self.eve))}
        self.keys["admin"] = self.admin_key

    def texts(self, user_id: str) -> dict[str, str]:
        """id -> text of a user's memories, as the admin reads them."""
        r = httpx.get(f"{self.url}/v1/memories", params={"user_id": user_id},
                      headers={"Authorization": f"Bearer {self.admin_key}"})
        return {m["id"]: m["text"] for m in r.json()["items"]}

    def add(self, who: str, messages: list[dict[str, Any]], **kw: Any) -> list[dict[str, Any]]:
        r = httpx.post(f"{self.url}/v1/memories", json={"messages": messages, **kw},
                       headers={"Authorization": f"Bearer {self.keys[who]}"})
        assert r.status_code == 201, r.text
        return list(r.json())


def said(text: str, at: str) -> dict[str, Any]:
    return {"content": text, "timestamp": at}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, model_home: Path) -> Iterator[Site]:
    service = open_service(hashing_config(model_home, tmp_path_factory.mktemp("console") / "c.db"))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(service), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    s = Site(service, f"http://127.0.0.1:{port}")
    s.add("alice", [said("I live in Lyon and I work at Acme.", "2023-05-08T10:00:00Z"),
                    said("My dog Rex loves the Parc de la Tete d'Or.", "2023-05-08T10:02:00Z")],
          session_id="may")
    s.add("alice", [said("Actually I moved to Berlin last month.", "2023-07-01T09:00:00Z"),
                    said("Rex and I walk in the Tiergarten in Berlin now.", "2023-07-01T09:03:00Z")],
          session_id="july")
    s.add("alice", [said("Team offsite plan: Lisbon in June, with Rex.", "2023-07-02T08:00:00Z")],
          session_id="july", visibility="shared")
    typed = "<img src=x onerror=\"document.title='pwned'\"> is what I typed"
    s.add("alice", [said(typed, "2023-07-03T08:00:00Z")], session_id="july")
    s.add("bob", [said("Bob keeps bees on his roof.", "2023-06-01T09:00:00Z")], session_id="b1")
    yield s
    server.should_exit = True
    thread.join(timeout=10)
    service.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None, "CI must install Debian's chromium (see .ci/run)"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM)
        yield b
        b.close()


class Shots:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def take(self, page: Page, name: str) -> None:
        page.screenshot(path=str(self.folder / f"{name}.png"), full_page=True)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Shots:
    folder = os.environ.get("MEMGRID_CONSOLE_SHOTS")
    return Shots(Path(folder) if folder else tmp_path_factory.mktemp("shots"))


def _ready(page: Page) -> None:
    """The page marks the end of each render (no wait_for_function: the CSP forbids eval)."""
    expect(page.locator("body")).to_have_attribute("data-ready", "1")


def open_as(browser: Browser, site: Site, who: str, errors: list[str] | None = None) -> Page:
    """A fresh browser context (its own sessionStorage) signed in through the form."""
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    if errors is not None:
        page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{site.url}/ui/")
    page.fill("#key", site.keys[who])
    page.click("button[type=submit]")
    expect(page.locator("#who")).to_contain_text(who if who != "admin" else "admin")
    _ready(page)
    return page


def go(page: Page, site: Site, fragment: str) -> None:
    target = f"{site.url}/ui/#/{fragment}"
    page.evaluate("document.body.dataset.ready = '0'")  # a hash change keeps the document
    if page.url == target:
        page.reload()  # the same address again: no hash change, so load it anew
    else:
        page.goto(target)
    _ready(page)


def click(page: Page, target: str | Locator) -> None:
    """Click something that navigates, and wait for the new page's render."""
    page.evaluate("document.body.dataset.ready = '0'")
    (page.locator(target) if isinstance(target, str) else target).click()
    _ready(page)


def test_sign_in_refuses_a_bad_key_and_keeps_the_key_in_the_tab(browser: Browser, site: Site) -> None:
    page = browser.new_page()
    page.goto(f"{site.url}/ui")
    page.fill("#key", "mg_nope_nope")
    page.click("button[type=submit]")
    expect(page.locator("#flash")).to_contain_text("unknown, revoked or expired")
    page.fill("#key", site.admin_key)
    page.click("button[type=submit]")
    expect(page.locator("#who")).to_contain_text("admin · admin")
    assert page.evaluate("sessionStorage.getItem('memgrid.key')") == site.admin_key
    assert page.evaluate("localStorage.length") == 0 and page.context.cookies() == []
    page.click("#signout")
    expect(page.locator("#key")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('memgrid.key')") is None
    page.context.close()


def test_memories_search_memory_chain_and_graph(browser: Browser, site: Site, shots: Shots) -> None:
    errors: list[str] = []
    page = open_as(browser, site, "admin", errors)
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(7)
    expect(rows.filter(has_text="<img src=x")).to_have_count(1)  # shown as text, never run
    assert page.title() == "memgrid console" and page.locator("main img").count() == 0
    expect(page.locator("tr.replaced")).to_contain_text("I live in Lyon")
    shots.take(page, "memories")
    page.select_option("select[name=kind]", "message")
    page.fill("input[name=user_id]", site.bob.id)
    click(page, "form.filters button")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Bob keeps bees")

    go(page, site, "search?q=where+does+alice+live+now")
    hits = page.locator("table tbody tr")
    expect(hits.first).to_contain_text("moved to Berlin")
    expect(page.locator("table thead")).to_contain_text("dense")
    expect(page.locator("h2", has_text="Context block")).to_contain_text("tokens")
    expect(page.locator("#context")).to_contain_text("[was true until 2023-07-01]")
    shots.take(page, "search")

    click(page, "table tbody tr >> nth=0 >> a")
    expect(page.locator("#memtext")).to_have_text("Actually I moved to Berlin last month.")
    expect(page.locator("#validity")).to_contain_text("it replaced")
    chain = page.locator("h2:has-text('Supersession chain') + table tbody tr")
    expect(chain).to_have_count(2)
    expect(chain.first).to_contain_text("2023-07-01")
    page.locator("#graph canvas").first.wait_for(state="attached")
    assert int(page.locator("#graph").get_attribute("data-nodes") or 0) >= 2
    shots.take(page, "memory")
    click(page, chain.first.locator("a"))
    expect(page.locator("#validity")).to_contain_text("until 2023-07-01 09:00 UTC, replaced by")
    expect(page.locator("#memtext")).to_have_text("I live in Lyon and I work at Acme.")

    go(page, site, f"user/{site.alice.id}")
    expect(page.locator("h2", has_text="Timeline")).to_contain_text("2 sessions")
    expect(page.locator("body")).to_contain_text("berlin")
    shots.take(page, "user")
    go(page, site, "stats")
    expect(page.locator("#counts")).to_contain_text("Memories")
    expect(page.locator("#extraction")).to_contain_text("Pending")  # the background extraction queue
    expect(page.locator("a[href='/metrics']")).to_be_visible()
    expect(page.locator("h2", has_text="Recent activity")).to_be_visible()
    expect(page.locator("main")).not_to_contain_text("[object")
    shots.take(page, "stats")
    go(page, site, "audit?action=memory.search")
    expect(page.locator("table tbody tr").first).to_contain_text("memory.search")
    shots.take(page, "audit")
    assert errors == []
    page.context.close()


def _accept(value: str | None = None) -> Any:
    def handle(dialog: Dialog) -> None:
        dialog.accept(value) if value is not None else dialog.accept()
    return handle


def test_a_grant_changes_what_another_user_sees(browser: Browser, site: Site, shots: Shots) -> None:
    bob = open_as(browser, site, "bob")
    go(bob, site, "search?q=offsite+plan+Lisbon")
    expect(bob.locator("body")).not_to_contain_text("Team offsite plan")

    alice = open_as(browser, site, "alice")
    go(alice, site, "access")
    alice.fill("#new-grant input[name=grantee]", site.bob.id)
    alice.fill("#new-grant input[name=valid_to]", "2099-01-01")
    alice.click("#new-grant button")
    expect(alice.locator("#flash")).to_contain_text("Granted")
    grant_row = alice.locator("tr", has_text=site.bob.id).filter(has_text="active")
    expect(grant_row).to_have_count(1)
    shots.take(alice, "access")

    go(bob, site, "search?q=offsite+plan+Lisbon")
    expect(bob.locator("table tbody tr").first).to_contain_text("Team offsite plan")
    expect(bob.locator("body")).not_to_contain_text("Lyon and I work")  # private stays private

    alice.once("dialog", _accept())
    grant_row.locator("button").click()
    expect(alice.locator("#flash")).to_contain_text("Revoked grant")
    go(bob, site, "search?q=offsite+plan+Lisbon")
    expect(bob.locator("body")).not_to_contain_text("Team offsite plan")
    bob.context.close()
    alice.context.close()


def test_a_key_without_rights_sees_nothing_it_should_not(browser: Browser, site: Site) -> None:
    secret_id = next(i for i, text in site.texts(site.alice.id).items() if "Lyon" in text)
    eve = open_as(browser, site, "eve")
    expect(eve.locator("table tbody tr")).to_have_count(1)  # "Nothing here."
    expect(eve.locator("table tbody")).to_contain_text("Nothing here.")
    expect(eve.locator("nav a[data-page=audit]")).to_be_hidden()
    for fragment, message in ((f"memory/{secret_id}", "no memory with id"),
                              ("audit", "needs a tenant admin key")):
        go(eve, site, fragment)
        expect(eve.locator("#error")).to_contain_text(message)
    go(eve, site, f"user/{site.alice.id}")
    expect(eve.locator("h2", has_text="Timeline")).to_contain_text("0 sessions")
    expect(eve.locator("body")).not_to_contain_text("berlin")
    go(eve, site, "search?q=Lyon+Berlin+Rex+bees")
    expect(eve.locator("h2", has_text="Hits")).to_contain_text("(0)")
    go(eve, site, "access")
    expect(eve.locator("h1")).to_have_text("Your access")
    expect(eve.locator("body")).not_to_contain_text(site.alice.id)  # no one else's keys or grants
    eve.once("dialog", _accept(site.alice.id))
    eve.fill("#erase input[name=user_id]", site.alice.id)
    eve.click("#erase button")
    expect(eve.locator("#flash")).to_contain_text("only the user or a tenant admin")
    eve.context.close()


def test_erase_says_what_goes_and_needs_the_id_typed(browser: Browser, site: Site, shots: Shots) -> None:
    page = open_as(browser, site, "admin")
    go(page, site, "access")
    expect(page.locator("h1")).to_have_text("Access")
    expect(page.locator("#settings")).to_be_visible()
    shots.take(page, "access-admin")
    prompts: list[str] = []

    def answer(value: str) -> Any:
        def handle(dialog: Dialog) -> None:
            prompts.append(dialog.message)
            dialog.accept(value)
        return handle

    page.once("dialog", answer("someone else"))
    page.fill("#erase input[name=user_id]", site.bob.id)
    page.click("#erase button")
    expect(page.locator("#flash")).to_contain_text("Not erased")
    assert re.search(r"removes 1 memories \(1 message\), 1 sessions and \d+ history entries", prompts[0])
    assert site.texts(site.bob.id)

    page.once("dialog", answer(site.bob.id))
    page.click("#erase button")
    expect(page.locator("#flash")).to_contain_text(f"Erased {site.bob.id}: 1 memories removed")
    assert site.texts(site.bob.id) == {}
    page.context.close()


def test_revoking_a_key_in_the_console_locks_its_holder_out(browser: Browser, site: Site) -> None:
    holder_key = site.service.access.create_key(site.eve.id).secret or ""
    site.keys["eve2"] = holder_key
    holder = browser.new_context().new_page()
    holder.goto(f"{site.url}/ui/")
    holder.fill("#key", holder_key)
    holder.click("button[type=submit]")
    _ready(holder)
    admin = open_as(browser, site, "admin")
    go(admin, site, "access")
    key_id = holder_key.split("_")[1]
    admin.once("dialog", _accept())
    admin.click(f"button[data-key='{key_id}']")
    expect(admin.locator("#flash")).to_contain_text(f"Revoked key {key_id}")
    go(holder, site, "memories")
    expect(holder.locator("#key")).to_be_visible()
    expect(holder.locator("#flash")).to_contain_text("sign in again")
    holder.context.close()
    admin.context.close()


def test_memgrid_ui_opens_an_embedded_store_and_revokes_its_key(browser: Browser, tmp_path: Path,
                                                                model_home: Path) -> None:
    from memgrid import Memory

    db = tmp_path / "embedded.db"
    with Memory(config=hashing_config(model_home, db)) as mem:
        mem.add("I grow tomatoes on the balcony.", user_id="dana", session_id="s1")
    port = _free_port()
    env = {**os.environ, "MEMGRID_HOME": str(model_home)}
    proc = subprocess.Popen([sys.executable, "-m", "memgrid", "ui", "--db", str(db), "--port", str(port)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = re.search(r"(http://127\.0\.0\.1:\d+/ui/#key=\S+)", line)
        assert url, line
        for _ in range(100):
            try:
                httpx.get(f"http://127.0.0.1:{port}/healthz")
                break
            except httpx.TransportError:
                time.sleep(0.1)
        page = browser.new_page()
        page.goto(url.group(1))
        _ready(page)
        expect(page.locator("table tbody")).to_contain_text("I grow tomatoes on the balcony.")
        assert "key=" not in page.url  # the key left the address bar for sessionStorage
        page.close()
        key = url.group(1).split("#key=")[1]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    from memgrid.access.store import AccessStore

    access = AccessStore(sqlite_path=db)
    try:
        assert access.authenticate(key) is None  # revoked when the console stopped
    finally:
        access.close()


def test_console_files_carry_their_security_headers(site: Site) -> None:
    for path in ("/ui/", "/ui/static/console.js", "/ui/static/vendor/cytoscape.min.js"):
        r = httpx.get(site.url + path)
        assert r.status_code == 200, path
        assert "script-src 'self'" in r.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert httpx.get(site.url + "/ui").status_code == 307
    assert "/ui/static/console.js" in httpx.get(site.url + "/ui/").text
    # nothing is fetched from another site: the console works offline
    from memgrid.server.console import STATIC

    for own in ("index.html", "console.js", "console.css"):
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", (STATIC / own).read_text()), own


def test_admin_creates_a_principal_and_saves_settings(browser: Browser, site: Site) -> None:
    page = open_as(browser, site, "admin")
    go(page, site, "access")
    page.fill("#new-principal input[name=name]", "carol")
    page.click("#new-principal button")
    expect(page.locator("#flash")).to_contain_text("Created user carol")
    expect(page.locator("table").first).to_contain_text("carol")
    page.fill("#settings input[name=retention_weight]", "5")  # out of range: refused, nothing saved
    page.click("#settings button")
    expect(page.locator("#flash")).to_contain_text("retention_weight")
    page.fill("#settings input[name=archive_threshold]", "0.2")
    page.fill("#settings input[name=retention_weight]", "")
    page.click("#settings button")
    expect(page.locator("#flash")).to_contain_text("Tenant settings saved")
    go(page, site, "access")
    expect(page.locator("#settings input[name=archive_threshold]")).to_have_value("0.2")
    page.context.close()
