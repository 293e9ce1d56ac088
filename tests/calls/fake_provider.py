"""A fake provider API on 127.0.0.1 for the click-to-call and reconciliation clients: it
records every request and answers what the test queued (`fake.answer(...)`), so that a test
checks both what the client sent and how it read the answer. Use the `fake_provider`
fixture (tests/calls/conftest.py)."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        return dict(urllib.parse.parse_qsl(self.body.decode(), keep_blank_values=True))

    def header(self, name: str) -> str:
        return next((v for k, v in self.headers.items() if k.lower() == name.lower()), "")


Responder = Callable[[Request], tuple[int, Any]]


@dataclass
class FakeProvider:
    server: ThreadingHTTPServer
    requests: list[Request] = field(default_factory=list)
    answers: list[tuple[int, Any] | Responder] = field(default_factory=list)

    @property
    def base_url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def answer(self, status: int, payload: Any = None, *, raw: bytes | None = None) -> None:
        """Queue the next answer: JSON `payload` (or `raw` bytes) with `status`."""
        self.answers.append((status, raw if raw is not None else payload))

    def answer_with(self, responder: Responder) -> None:
        """Queue a function of the request that returns (status, payload)."""
        self.answers.append(responder)

    def _reply(self, request: Request) -> tuple[int, bytes]:
        self.requests.append(request)
        if not self.answers:
            return 500, b'{"error": "the test queued no answer"}'
        queued = self.answers.pop(0)
        status, payload = queued(request) if callable(queued) else queued
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        return status, body


def _handler(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            request = Request(
                method=self.command,
                path=parts.path,
                query=dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True)),
                headers=dict(self.headers.items()),
                body=self.rfile.read(length),
            )
            status, body = fake._reply(request)
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _handle

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def fake_provider() -> Iterator[FakeProvider]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    fake = FakeProvider(server)
    server.RequestHandlerClass = _handler(fake)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
