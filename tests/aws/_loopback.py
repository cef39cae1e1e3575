"""A loopback HTTP server that stands in front of moto and answers as AWS would.

Each request is recorded (operation, region, JSON body). A test's rule may answer
a request itself (an AWS error document, a dropped connection, no answer at all)
or edit what moto answered; anything no rule answers goes to moto unchanged. That
covers what moto cannot do (throttling, KMS refusals, paging a batch) honestly,
for that call only, and lets tests count the requests a client makes.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import re
import socket
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

if TYPE_CHECKING:
    from collections.abc import Callable

_REGION = re.compile(r"Credential=[^/]+/\d+/([^/]+)/")
_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length"})


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    operation: str
    region: str
    body: dict[str, Any]
    headers: dict[str, str]
    raw: bytes


@dataclass(frozen=True)
class Reply:
    """How to answer a request instead of moto.

    :param status: the HTTP status
    :param body: the JSON document to send
    :param raw: else these bytes (what moto sent)
    :param content_type: the answer's content type
    :param drop: close the connection without an answer
    :param hang: answer nothing until the server stops (a read timeout)
    """

    status: int = 200
    body: dict[str, Any] | None = None
    raw: bytes = b""
    content_type: str = "application/x-amz-json-1.1"
    drop: bool = False
    hang: bool = False

    def json(self) -> dict[str, Any]:
        """The JSON document this reply carries."""
        if self.body is not None:
            return self.body
        return dict(json.loads(self.raw or b"{}"))


def aws_error(code: str, message: str = "", status: int = 400) -> Reply:
    """The error document a JSON-protocol AWS service sends."""
    return Reply(status=status, body={"__type": code, "message": message})


class Loopback:
    """The server: ``url`` for ``endpoint_url``, ``seen`` for what came in.

    :param upstream: moto's URL, where unanswered requests go
    """

    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream)
        self.rules: list[Callable[[Seen], Reply | None]] = []
        self.seen: list[Seen] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.gate: tuple[str, threading.Barrier] | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.02,), daemon=True
        )

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def calls(self, operation: str) -> list[Seen]:
        """The requests for one operation, in arrival order."""
        with self._lock:
            return [seen for seen in self.seen if seen.operation == operation]

    def forward(self, seen: Seen, body: dict[str, Any] | None = None) -> Reply:
        """Send a request (or an edited body) to moto; return its answer."""
        raw = seen.raw if body is None else json.dumps(body).encode()
        headers = {k: v for k, v in seen.headers.items() if k.lower() not in _HOP}
        connection = http.client.HTTPConnection(
            self.upstream.hostname or "127.0.0.1", self.upstream.port, timeout=30
        )
        try:
            connection.request("POST", "/", body=raw, headers=headers)
            response = connection.getresponse()
            text = response.read()
        finally:
            connection.close()
        kind = response.getheader("Content-Type") or "application/x-amz-json-1.1"
        return Reply(status=response.status, raw=text, content_type=kind)

    def __enter__(self) -> Loopback:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)

    def _answer(self, seen: Seen) -> Reply:
        with self._lock:
            self.seen.append(seen)
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            if self.gate is not None and seen.operation == self.gate[0]:
                # Hold each such call until the barrier's count are in flight: they
                # overlap, or the barrier breaks and the test sees fewer at once.
                with contextlib.suppress(threading.BrokenBarrierError):
                    self.gate[1].wait()
            for rule in self.rules:
                reply = rule(seen)
                if reply is not None:
                    return reply
            return self.forward(seen)
        finally:
            with self._lock:
                self.in_flight -= 1


def _handler(loopback: Loopback) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self) -> None:
            super().setup()
            # One write per answer is not enough against Nagle + delayed ACK.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = dict(self.headers.items())
            target = headers.get("X-Amz-Target", "")
            if target:
                operation = target.rpartition(".")[2]
                body = json.loads(raw or b"{}")
            else:  # query protocol (STS): Action=GetCallerIdentity&...
                form = parse_qs(raw.decode())
                operation = form.get("Action", [""])[0]
                body = {key: values[0] for key, values in form.items()}
            found = _REGION.search(headers.get("Authorization", ""))
            seen = Seen(operation, found.group(1) if found else "", body, headers, raw)
            reply = loopback._answer(seen)
            if reply.hang:
                loopback._stop.wait(30)
                self.close_connection = True
                return
            if reply.drop:
                self.close_connection = True
                return
            payload = reply.raw
            if reply.body is not None:
                payload = json.dumps(reply.body, default=str).encode()
            head = (
                f"HTTP/1.1 {reply.status} X\r\n"
                f"Content-Type: {reply.content_type}\r\n"
                f"Content-Length: {len(payload)}\r\n"
                f"x-amzn-RequestId: loopback\r\n\r\n"
            ).encode()
            self.wfile.write(head + payload)

    return Handler
