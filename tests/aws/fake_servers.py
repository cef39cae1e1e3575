"""Loopback stand-ins for the AWS credential endpoints moto does not serve.

The container credentials endpoint (ECS task roles, EKS Pod Identity), the EC2
instance metadata service (IMDSv2) and an STS that refuses every call, each a
threaded HTTP server on a free 127.0.0.1 port answering as AWS does, recording
every request it gets.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping


def closed_port() -> int:
    """A loopback port nothing listens on (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    path: str
    headers: dict[str, str]


class FakeServer:
    """A threaded loopback HTTP server answering from a table of routes.

    :param routes: ``(method, path)`` to a function of the request headers that
        returns ``(status, body)``; anything else is a 404
    """

    def __init__(
        self, routes: dict[tuple[str, str], Callable[[Mapping[str, str]], Any]]
    ) -> None:
        self.routes = routes
        self.requests: list[Request] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # FACTS.md: no 40 ms Nagle stalls

            def _answer(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                length = int(headers.get("content-length") or 0)
                if length:
                    self.rfile.read(length)
                server.requests.append(Request(self.command, self.path, headers))
                route = server.routes.get((self.command, self.path))
                status, body = route(headers) if route else (404, b"not found")
                self.send_response(status)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = _answer  # http.server's names

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._http.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(10)

    def paths(self, method: str | None = None) -> list[str]:
        """The paths requested so far (of one method, if given)."""
        return [r.path for r in self.requests if method in (None, r.method)]


def credentials_document(
    keys: Mapping[str, Any], expires_at: float, **extra: str
) -> bytes:
    """The JSON both endpoints answer with, for STS-style ``keys``."""
    expiration = datetime.fromtimestamp(expires_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    document = {
        "AccessKeyId": keys["AccessKeyId"],
        "SecretAccessKey": keys["SecretAccessKey"],
        "Token": keys["SessionToken"],
        "Expiration": expiration,
        **extra,
    }
    return json.dumps(document).encode()


def container_endpoint(
    keys: Mapping[str, Any], *, token: str, expires_at: Callable[[], float]
) -> FakeServer:
    """The container credentials endpoint at ``/creds``; it wants ``token``."""

    def creds(headers: Mapping[str, str]) -> tuple[int, bytes]:
        if headers.get("authorization") != token:
            return 401, b'{"message": "unauthorized"}'
        return 200, credentials_document(keys, expires_at())

    return FakeServer({("GET", "/creds"): creds})


IMDS_TOKEN = "imds-session-token"


def instance_metadata(
    keys: Mapping[str, Any], *, role: str, expires_at: Callable[[], float]
) -> FakeServer:
    """IMDSv2: a session token by PUT, then the role and its credentials."""
    base = "/latest/meta-data/iam/security-credentials/"

    def token(headers: Mapping[str, str]) -> tuple[int, bytes]:
        if "x-aws-ec2-metadata-token-ttl-seconds" not in headers:
            return 400, b""
        return 200, IMDS_TOKEN.encode()

    def signed(answer: Callable[[], bytes]) -> Callable[[Mapping[str, str]], Any]:
        def route(headers: Mapping[str, str]) -> tuple[int, bytes]:
            if headers.get("x-aws-ec2-metadata-token") != IMDS_TOKEN:
                return 401, b""
            return 200, answer()

        return route

    def creds() -> bytes:
        now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        return credentials_document(
            keys, expires_at(), Code="Success", LastUpdated=now, Type="AWS-HMAC"
        )

    return FakeServer(
        {
            ("PUT", "/latest/api/token"): token,
            ("GET", base): signed(role.encode),
            ("GET", base + role): signed(creds),
        }
    )


_STS_DENIED = (
    b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    b"<Error><Type>Sender</Type><Code>AccessDenied</Code>"
    b"<Message>not authorized to perform: sts:AssumeRole</Message></Error>"
    b"<RequestId>c0ffee</RequestId></ErrorResponse>"
)


def sts_denying() -> FakeServer:
    """An STS endpoint answering every call with AccessDenied, as AWS does."""
    return FakeServer({("POST", "/"): lambda headers: (403, _STS_DENIED)})


def serve(server: FakeServer) -> Iterator[FakeServer]:
    """Run ``server`` for a fixture's lifetime."""
    with server:
        yield server
