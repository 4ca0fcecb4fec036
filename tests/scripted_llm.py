"""A scripted OpenAI-compatible endpoint on 127.0.0.1: each chat completion is answered by a
Python function of the request, so the decision logic around the model is tested exactly."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Reply = Callable[[dict[str, Any]], "str | tuple[int, str]"]


class ScriptedLLM:
    def __init__(self, reply: Reply) -> None:
        self.reply = reply
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.url = ""

    def last_prompt(self) -> str:
        return "\n".join(m["content"] for m in self.requests[-1]["messages"])


@contextmanager
def scripted_llm(reply: Reply) -> Iterator[ScriptedLLM]:
    script = ScriptedLLM(reply)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            script.requests.append(body)
            script.headers.append(dict(self.headers))
            out = script.reply(body)
            status, text = out if isinstance(out, tuple) else (200, out)
            payload = {"choices": [{"message": {"role": "assistant", "content": text}}],
                       "usage": {"prompt_tokens": 10 * len(body["messages"]), "completion_tokens": 5}}
            data = json.dumps(payload if status == 200 else {"error": text}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    script.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield script
    finally:
        server.shutdown()
        server.server_close()
