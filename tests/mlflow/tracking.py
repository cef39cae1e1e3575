"""A real ``mlflow server --app-name basic-auth``, and a bearer-token gate before it.

The server runs once per session on a free loopback port (about 15 s to start:
one worker, no job runner). Each test makes its own user, so tests that change a
password never disturb each other. The gate is a small WSGI app for bearer and
custom-header modes: it checks the header MLflow's client sent, records it, and
forwards the request to the server as the admin.
"""

from __future__ import annotations

__all__ = ("ADMIN_PASSWORD", "Gate", "Tracking", "gate_server", "tracking_server")

import base64
import http.client
import os
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import requests

from tests.servers import free_port, running

from .loopback import serve

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator
    from pathlib import Path

ADMIN_PASSWORD = "admin-password-for-tests-0a1b"


@dataclass(frozen=True)
class Tracking:
    """The running server: its URL and the admin's credentials."""

    url: str

    def admin(self) -> tuple[str, str]:
        """The admin's user name and password."""
        return ("admin", ADMIN_PASSWORD)

    def new_user(self) -> tuple[str, str]:
        """Create a user of this test's own; return its name and password."""
        name = f"u{uuid.uuid4().hex[:10]}"
        password = f"pw-{uuid.uuid4().hex}"
        answer = requests.post(
            f"{self.url}/api/2.0/mlflow/users/create",
            json={"username": name, "password": password},
            auth=self.admin(),
            timeout=30,
        )
        answer.raise_for_status()
        return name, password

    def set_password(self, name: str, password: str) -> None:
        """Change a user's password on the server (a rotation)."""
        answer = requests.patch(
            f"{self.url}/api/2.0/mlflow/users/update-password",
            json={"username": name, "password": password},
            auth=self.admin(),
            timeout=30,
        )
        answer.raise_for_status()


@contextmanager
def tracking_server(home: Path) -> Iterator[Tracking]:
    """Start the basic-auth tracking server with its databases in ``home``."""
    port = free_port()
    config = home / "basic_auth.ini"
    config.write_text(
        "[mlflow]\n"
        "default_permission = READ\n"
        f"database_uri = sqlite:///{home / 'auth.db'}\n"
        "admin_username = admin\n"
        "authorization_function = mlflow.server.auth:authenticate_request_basic_auth\n"
        # One PBKDF2 check per user and password, not one per request; one worker
        # sees every password change at once.
        "auth_cache_ttl_seconds = 600\n"
    )
    env = {
        **os.environ,
        "MLFLOW_AUTH_CONFIG_PATH": str(config),
        "MLFLOW_AUTH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        "MLFLOW_FLASK_SERVER_SECRET_KEY": uuid.uuid4().hex,
        "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false",
    }
    env.pop("MLFLOW_TRACKING_AUTH", None)
    argv = [
        sys.executable,
        "-m",
        "mlflow",
        "server",
        "--app-name",
        "basic-auth",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        "1",
        "--backend-store-uri",
        f"sqlite:///{home / 'tracking.db'}",
        "--artifacts-destination",
        str(home / "artifacts"),
    ]
    url = f"http://127.0.0.1:{port}"
    with running(
        argv, probe=f"{url}/health", log=home / "mlflow.log", env=env, timeout=120
    ):
        yield Tracking(url)


@dataclass
class Gate:
    """A WSGI layer before the tracking server that wants one header value.

    :ivar header: the header it checks
    :ivar expected: the value it accepts (``Bearer <token>`` or a raw token)
    :ivar seen: the value of ``header`` on each request, ``None`` when absent
    :ivar methods: the method of each request
    """

    upstream: str
    admin: tuple[str, str]
    header: str = "Authorization"
    expected: str = ""
    seen: list[str | None] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    url: str = ""

    def reset(self, *, header: str = "Authorization", expected: str = "") -> None:
        """Want ``expected`` in ``header`` from now on; forget what was seen."""
        self.header, self.expected = header, expected
        self.seen.clear()
        self.methods.clear()

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        got = environ.get("HTTP_" + self.header.upper().replace("-", "_"))
        self.seen.append(got)
        self.methods.append(environ["REQUEST_METHOD"])
        if got != self.expected or not self.expected:
            start_response("401 Unauthorized", [("Content-Type", "application/json")])
            return [b'{"error_code": "UNAUTHENTICATED"}']
        return self._forward(environ, start_response)

    def _forward(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else None
        path = environ.get("PATH_INFO", "/")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        pair = ":".join(self.admin).encode()
        headers = {"Authorization": "Basic " + base64.b64encode(pair).decode()}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        target = urlsplit(self.upstream)
        connection = http.client.HTTPConnection(target.netloc, timeout=30)
        try:
            connection.request(environ["REQUEST_METHOD"], path, body, headers)
            answer = connection.getresponse()
            data = answer.read()
        finally:
            connection.close()
        kept = [
            (k, v)
            for k, v in answer.getheaders()
            if k.lower() in ("content-type", "location")
        ]
        start_response(f"{answer.status} {answer.reason}", kept)
        return [data]


@contextmanager
def gate_server(tracking: Tracking) -> Iterator[Gate]:
    """Serve a :class:`Gate` before ``tracking`` on a free loopback port."""
    gate = Gate(upstream=tracking.url, admin=tracking.admin())
    with serve(gate) as gate.url:
        yield gate
