"""A loopback stand-in for RabbitMQ's management API, for the ``rabbitmq`` engine.

OpenBao's ``rabbitmq`` secrets engine is the one built-in engine whose dynamic
credentials are read with a GET (``rabbitmq/creds/<role>``, a lease) and whose
upstream is plain HTTP; the dev server has no ``database``/``aws`` upstreams here.
The engine creates users with PUT and revokes them with DELETE; this server
answers those and records the paths.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    calls: list[str]

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.calls.append(f"{self.command} {self.path}")
        self.send_response(200 if self.command == "GET" else 204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_DELETE = do_POST = _answer

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def rabbitmq_api() -> Iterator[tuple[str, list[str]]]:
    """Serve the fake management API; yield its URL and the calls it received."""
    calls: list[str] = []
    handler = type("Handler", (_Handler,), {"calls": calls})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", calls
    finally:
        server.shutdown()
        server.server_close()
