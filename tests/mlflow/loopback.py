"""A loopback HTTP server that records every request and answers by a rule.

For what the tracking server cannot stage: redirects to a second server, refusals
on demand. Each :class:`Loopback` keeps what it was sent (method, path, headers,
body), so a test can show that a server never saw a secret.
"""

from __future__ import annotations

__all__ = ("Answer", "Loopback", "Seen", "loopback", "serve")

import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from socketserver import ThreadingMixIn
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator

# (status line, extra headers); the body is always a small JSON object.
Answer = tuple[str, list[tuple[str, str]]]


@dataclass(frozen=True)
class Seen:
    """One request as the server received it; header names in lower case."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def text(self) -> str:
        """Everything sent, as one string to search for a value."""
        lines = [f"{self.method} {self.path}"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        return "\n".join(lines) + "\n" + self.body.decode(errors="replace")


@dataclass
class Loopback:
    """The WSGI app: records each request, then answers as ``rule`` says.

    :ivar rule: gets the request, returns the status line and headers
    :ivar seen: every request, in order
    :ivar url: ``http://127.0.0.1:<port>``
    """

    rule: Callable[[Seen], Answer] = lambda seen: ("200 OK", [])
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    @property
    def port(self) -> int:
        """The port the server listens on."""
        return int(self.url.rsplit(":", 1)[1])

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        headers = {
            key[5:].replace("_", "-").lower(): value
            for key, value in environ.items()
            if key.startswith("HTTP_")
        }
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        path = environ.get("PATH_INFO", "/")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        seen = Seen(environ["REQUEST_METHOD"], path, headers, body)
        self.seen.append(seen)
        status, extra = self.rule(seen)
        start_response(status, [("Content-Type", "application/json"), *extra])
        return [b'{"experiments": []}']


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _Quiet(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@contextmanager
def serve(app: Callable[..., Iterable[bytes]]) -> Iterator[str]:
    """Serve a WSGI app on a free port of 127.0.0.1, one thread per request.

    :return: the server's URL, ``http://127.0.0.1:<port>``
    """
    server = make_server(
        "127.0.0.1", 0, app, server_class=_Server, handler_class=_Quiet
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
    )
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def loopback() -> Iterator[Loopback]:
    """Serve a :class:`Loopback` on a free port of 127.0.0.1."""
    app = Loopback()
    with serve(app) as url:
        app.url = url
        yield app
