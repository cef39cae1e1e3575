"""A loopback Kubernetes TokenReview endpoint, over HTTPS, for the ``kubernetes`` login.

OpenBao's Kubernetes auth method asks the cluster whether a service-account token
is valid (``POST /apis/authentication.k8s.io/v1/tokenreviews``) and who it
belongs to. This server answers from ``accounts`` (token to namespace, name,
uid): a known token is ``authenticated`` as ``system:serviceaccount:<ns>:<sa>``,
any other is not. It records every token it was asked about.
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.azure._tls import TestCertificates

REVIEWER_JWT = "reviewer-jwt-for-tests"


@dataclass
class Cluster:
    """What the fake API server knows and saw."""

    url: str
    accounts: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    reviewed: list[str] = field(default_factory=list)
    reviewers: list[str] = field(default_factory=list)


def service_account_jwt(namespace: str, name: str, uid: str, nonce: str) -> str:
    """A JWT shaped like a service-account token (the server never checks its key)."""

    def part(data: dict[str, str]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    claims = {
        "iss": "kubernetes/serviceaccount",
        "sub": f"system:serviceaccount:{namespace}:{name}",
        "kubernetes.io/serviceaccount/namespace": namespace,
        "kubernetes.io/serviceaccount/service-account.name": name,
        "kubernetes.io/serviceaccount/service-account.uid": uid,
        "jti": nonce,
    }
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    cluster: Cluster

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        token = body["spec"]["token"]
        self.cluster.reviewed.append(token)
        self.cluster.reviewers.append(self.headers.get("Authorization", ""))
        status: dict[str, object] = {"authenticated": False}
        account = self.cluster.accounts.get(token)
        if self.path == "/apis/authentication.k8s.io/v1/tokenreviews" and account:
            namespace, name, uid = account
            status = {
                "authenticated": True,
                "user": {
                    "username": f"system:serviceaccount:{namespace}:{name}",
                    "uid": uid,
                    "groups": ["system:serviceaccounts"],
                },
            }
        else:
            status["error"] = "token is not valid"
        answer = json.dumps(
            {
                "apiVersion": "authentication.k8s.io/v1",
                "kind": "TokenReview",
                "status": status,
            }
        ).encode()
        head = (
            "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(answer)}\r\n\r\n"
        )
        self.wfile.write(head.encode() + answer)  # one write: no Nagle stall

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def token_review_server(certificates: TestCertificates) -> Iterator[Cluster]:
    """Serve TokenReview over HTTPS with the test server certificate."""
    cluster = Cluster(url="")
    handler = type("Handler", (_Handler,), {"cluster": cluster})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.cert, certificates.key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    cluster.url = f"https://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield cluster
    finally:
        server.shutdown()
        server.server_close()
