"""A loopback stand-in for Vault's ``aws`` auth method (IAM type), replaying to moto.

OpenBao 2.7 ships no ``aws`` auth plugin (``bao auth enable aws``: "plugin not
found in the catalog"), so the IAM login cannot be verified by the dev server.
This server does what Vault's method does with a login, against moto instead of
AWS: it decodes ``iam_http_request_method``/``_url``/``_body``/``_headers``,
checks the SigV4 signature with the secret key of the access key that signed it
and the ``X-Vault-AWS-IAM-Server-ID`` header (signed), sends the request to
moto's STS, and binds the caller ARN STS answers to the role. It answers a
Vault-shaped token, or a 400 with Vault's error shape; it records every login.
"""

from __future__ import annotations

import base64
import json
import re
import socket
import threading
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterator

HEADER = "X-Vault-AWS-IAM-Server-ID"


@dataclass
class AwsAuth:
    """The method's configuration, and what it saw."""

    url: str
    sts: str
    roles: dict[str, str] = field(default_factory=dict)  # role: bound ARN
    secrets: dict[str, str] = field(default_factory=dict)  # access key: secret
    header_value: str | None = None
    logins: list[dict[str, Any]] = field(default_factory=list)


def signature_ok(
    method: str, url: str, body: str, headers: dict[str, str], secret: str
):
    """Whether the SigV4 ``Authorization`` header signs exactly this request."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    scope = headers["Authorization"].split("Credential=")[1].split(",")[0].split("/")
    unsigned = {k: v for k, v in headers.items() if k.lower() != "authorization"}
    request = AWSRequest(method=method, url=url, data=body, headers=unsigned)
    request.context["timestamp"] = headers["X-Amz-Date"]
    signer = SigV4Auth(Credentials(scope[0], secret), scope[3], scope[2])
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    return headers["Authorization"].endswith(f"Signature={expected}")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    auth: AwsAuth

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def do_POST(self) -> None:
        data = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        login = {
            "path": self.path,
            "role": data.get("role"),
            "method": data["iam_http_request_method"],
            "url": base64.b64decode(data["iam_request_url"]).decode(),
            "body": base64.b64decode(data["iam_request_body"]).decode(),
            "headers": json.loads(base64.b64decode(data["iam_request_headers"])),
        }
        self.auth.logins.append(login)
        answer: tuple[int, dict[str, object]]
        try:
            answer = 200, {"auth": self._login(login)}
        except PermissionError as exc:
            answer = 400, {"errors": [str(exc)]}
        body = json.dumps(answer[1]).encode()
        head = (
            f"HTTP/1.1 {answer[0]} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        self.wfile.write(head.encode() + body)

    def _login(self, login: dict[str, Any]) -> dict[str, Any]:
        headers: dict[str, str] = login["headers"]
        signed = headers["Authorization"].split("SignedHeaders=")[1].split(",")[0]
        if self.auth.header_value is not None and (
            headers.get(HEADER) != self.auth.header_value
            or HEADER.lower() not in signed.split(";")
        ):
            raise PermissionError("missing or unsigned server ID header")
        key = headers["Authorization"].split("Credential=")[1].split("/")[0]
        secret = self.auth.secrets.get(key, "")
        method, url, body = login["method"], login["url"], login["body"]
        if not signature_ok(method, url, body, headers, secret):
            raise PermissionError("the signature does not match")
        request = urllib.request.Request(
            self.auth.sts, data=body.encode(), headers=headers, method=method
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            text = answer.read().decode()
        arn = re.search(r"<Arn>(.*?)</Arn>", text)
        login["arn"] = arn and arn.group(1)
        if login["arn"] is None or self.auth.roles.get(login["role"]) != login["arn"]:
            raise PermissionError("IAM principal is not bound to the role")
        return {
            "client_token": f"aws-token-{uuid.uuid4().hex}",
            "lease_duration": 3600,
            "renewable": True,
            "token_policies": ["default"],
        }

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""


@contextmanager
def aws_auth_server(sts: str) -> Iterator[AwsAuth]:
    """Serve ``auth/<mount>/login``; replay the signed requests to ``sts`` (moto)."""
    auth = AwsAuth(url="", sts=sts)
    handler = type("Handler", (_Handler,), {"auth": auth})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    auth.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield auth
    finally:
        server.shutdown()
        server.server_close()
