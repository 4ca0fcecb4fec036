"""The web console: static files from the wheel, served at /ui by the REST server.

It is a small front end (plain JavaScript, no build step, no CDN) that reads and acts through
the REST API with the key the person signs in with, so every action passes the same access
checks and audit log as any other client, and the key lives only in the tab's sessionStorage.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

STATIC = Path(__file__).parent / "static"

# the page runs only its own scripts, talks only to its own origin, and is never framed
HEADERS = [
    (b"content-security-policy",
     b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
     b"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-cache"),
]


class ConsoleHeaders:
    """Adds the console's security headers to what the static files answer."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: AsgiMessage) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def console_routes(app: FastAPI) -> None:
    app.mount("/ui/static", ConsoleHeaders(StaticFiles(directory=str(STATIC))), name="console-static")

    @app.get("/ui", include_in_schema=False)
    def ui_root() -> RedirectResponse:
        return RedirectResponse("/ui/")

    @app.get("/ui/", include_in_schema=False)
    def ui_index() -> FileResponse:
        return FileResponse(STATIC / "index.html",
                            headers={k.decode(): v.decode() for k, v in HEADERS})
