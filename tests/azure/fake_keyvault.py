"""A small Key Vault (secrets API 7.x) and Entra ID token endpoint over loopback HTTPS.

Written from the REST reference (https://learn.microsoft.com/rest/api/keyvault/secrets),
not from our client: get, set, update, list and list versions (``nextLink``
paging), delete (soft), get/purge deleted, recover; the bearer challenge (401 with
``WWW-Authenticate`` naming the vault's tenant, ``vault_tenant``) for requests
without a token this server issued or with one of another tenant's; the claims
challenge of Continuous Access Evaluation (401 with ``error="insufficient_claims"``
and base64 ``claims``) for a token in ``revoked``; errors as Key Vault sends
them. The token endpoints are ``fake_entra``'s, on the same server. A test's
``rules`` may answer any request first (403, 429 with ``Retry-After``, 5xx).
``delay`` holds every answer that many seconds, on the server's thread, to stand
for a network round trip (the benchmark's).
"""

from __future__ import annotations

__all__ = ("IDENTITY_HEADER", "TENANT", "FakeKeyVault", "Reply", "Request", "kv_error")

import base64
import json
import secrets
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from .fake_entra import (
    IDENTITY_HEADER,
    TENANT,
    FakeEntra,
    Reply,
    Request,
    is_token_path,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from ._tls import TestCertificates

RESOURCE = "https://vault.azure.net"


def kv_error(status: int, code: str, message: str, inner: str | None = None) -> Reply:
    """An error answer in Key Vault's shape."""
    error: dict[str, Any] = {"code": code, "message": message}
    if inner:
        error["innererror"] = {"code": inner}
    return Reply(status, {"error": error})


@dataclass
class Version:
    """One secret version, as stored."""

    id: str
    value: str
    content_type: str | None
    tags: dict[str, str]
    attributes: dict[str, Any]


class FakeKeyVault(FakeEntra):
    """The server; ``url`` is both the vault URL and the authority host.

    :param certs: the TLS certificate and key to serve with
    """

    page_size = 25

    def __init__(self, certs: TestCertificates) -> None:
        super().__init__()
        self.secrets: dict[str, list[Version]] = {}
        self.deleted: dict[str, tuple[list[Version], int]] = {}
        self.rules: list[Callable[[Request], Reply | None]] = []
        self.requests: list[Request] = []
        self.delay = 0.0
        self.vault_tenant = TENANT
        self.revoked: set[str] = set()
        self.claims: dict[str, Any] = {}
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certs.cert, certs.key)
        self._http = _Server(("127.0.0.1", 0), _handler(self))
        self._http.daemon_threads = True
        # The handshake happens on the handler's thread, not in accept().
        self._http.socket = context.wrap_socket(
            self._http.socket, server_side=True, do_handshake_on_connect=False
        )
        self.url = f"https://127.0.0.1:{self._http.server_address[1]}"
        self._thread = threading.Thread(
            target=self._http.serve_forever, args=(0.05,), daemon=True
        )

    def __enter__(self) -> FakeKeyVault:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(10)

    def reset(self) -> None:
        """Forget every secret, rule, token and request."""
        with self._lock:
            self.secrets.clear()
            self.deleted.clear()
            self.rules.clear()
            self.requests.clear()
            self.tokens.clear()
            self.token_tenants.clear()
            self.tenants = {TENANT}
            self.asked.clear()
            self.federated.clear()
            self.token_ttl = 3600
            self.delay = 0.0
            self.vault_tenant = TENANT
            self.revoked.clear()
            self.claims = {}

    def seed(self, name: str, value: str, **attributes: Any) -> str:
        """Store a version directly (as another writer would); return its id."""
        tags = attributes.pop("tags", {})
        content_type = attributes.pop("content_type", None)
        with self._lock:
            return self._store(name, value, content_type, tags, attributes).id

    def vault_requests(self) -> list[Request]:
        """The requests that reached the vault API (not a token endpoint)."""
        return [r for r in self.requests if not is_token_path(r.path)]

    def token_requests(self) -> list[Request]:
        """The requests that reached a token endpoint."""
        return [r for r in self.requests if is_token_path(r.path)]

    # -- the API ---------------------------------------------------------------

    def answer(self, request: Request) -> Reply:
        """Route one request."""
        with self._lock:
            self.requests.append(request)
        parts = [p for p in request.path.split("/") if p]
        is_token = len(parts) == 4 and parts[1:] == ["oauth2", "v2.0", "token"]
        is_msi = parts == ["msi", "token"]
        auth = request.headers.get("authorization", "")
        if is_msi:
            return self._identity(request)
        if parts == ["metadata", "identity", "oauth2", "token"]:
            return self._imds(request)
        token = auth.removeprefix("Bearer ")
        if not is_token:
            if token not in self.tokens:
                return self._challenge()
            if token in self.revoked:
                return self._challenge(self.claims)
            if self.token_tenants.get(token, self.vault_tenant) != self.vault_tenant:
                return self._challenge()  # AKV10032: the issuer is another tenant
        # Rules see token requests and authenticated vault requests.
        for rule in list(self.rules):
            reply = rule(request)
            if reply is not None:
                return reply
        if is_token:
            return self._token(parts[0], request)
        with self._lock:
            return self._vault(request.method, parts, request)

    def _challenge(self, claims: dict[str, Any] | None = None) -> Reply:
        challenge = (
            f'Bearer authorization="{self.url}/{self.vault_tenant}", '
            f'resource="{RESOURCE}"'
        )
        if claims is not None:
            encoded = base64.b64encode(json.dumps(claims).encode()).decode()
            challenge += f', error="insufficient_claims", claims="{encoded}"'
        reply = kv_error(401, "Unauthorized", "AKV10000: Request is missing a token.")
        return Reply(401, reply.body, {"WWW-Authenticate": challenge})

    def _vault(self, method: str, parts: list[str], request: Request) -> Reply:
        if not request.query.get("api-version"):
            return kv_error(400, "BadParameter", "api-version is required")
        body = json.loads(request.body) if request.body else {}
        match method, parts:
            case "GET", ["secrets"]:
                return self._page(request, sorted(self.secrets), versions=None)
            case "GET", ["secrets", name, "versions"]:
                if name not in self.secrets:
                    return _not_found(name)
                return self._page(request, self.secrets[name], versions=name)
            case "GET", ["secrets", name, *version] if len(version) <= 1:
                found = self._find(name, version[0] if version else "")
                if isinstance(found, Reply):
                    return found
                if not found.attributes["enabled"]:
                    return kv_error(
                        403,
                        "Forbidden",
                        "Operation get is not allowed on a disabled secret.",
                        "SecretDisabled",
                    )
                return Reply(200, self._bundle(name, found))
            case "PUT", ["secrets", name]:
                if name in self.deleted:
                    return kv_error(
                        409,
                        "Conflict",
                        f"Secret {name} is currently in a deleted but recoverable "
                        "state.",
                        "ObjectIsDeletedButRecoverable",
                    )
                attrs = dict(body.get("attributes") or {})
                stored = self._store(
                    name,
                    body["value"],
                    body.get("contentType"),
                    body.get("tags") or {},
                    attrs,
                )
                return Reply(200, self._bundle(name, stored))
            case "PATCH", ["secrets", name, version]:
                found = self._find(name, version)
                if isinstance(found, Reply):
                    return found
                found.attributes.update(body.get("attributes") or {})
                found.attributes["updated"] = int(time.time())
                if "tags" in body:
                    found.tags = dict(body["tags"] or {})
                if "contentType" in body:
                    found.content_type = body["contentType"]
                bundle = self._bundle(name, found)
                del bundle["value"]
                return Reply(200, bundle)
            case "DELETE", ["secrets", name]:
                if name not in self.secrets:
                    return _not_found(name)
                versions = self.secrets.pop(name)
                self.deleted[name] = (versions, int(time.time()))
                return Reply(200, self._deleted(name))
            case "GET", ["deletedsecrets", name]:
                if name not in self.deleted:
                    return _not_found(name, "DeletedSecret")
                return Reply(200, self._deleted(name))
            case "DELETE", ["deletedsecrets", name]:
                if self.deleted.pop(name, None) is None:
                    return _not_found(name, "DeletedSecret")
                return Reply(204)
            case "POST", ["deletedsecrets", name, "recover"]:
                if name not in self.deleted:
                    return _not_found(name, "DeletedSecret")
                self.secrets[name] = self.deleted.pop(name)[0]
                bundle = self._bundle(name, self.secrets[name][-1])
                del bundle["value"]
                return Reply(200, bundle)
        return kv_error(400, "BadParameter", f"no such operation: {method}")

    def _store(
        self,
        name: str,
        value: str,
        content_type: str | None,
        tags: dict[str, str],
        attributes: dict[str, Any],
    ) -> Version:
        now = int(time.time())
        attrs = {"enabled": True, **attributes, "created": now, "updated": now}
        version = Version(secrets.token_hex(16), value, content_type, tags, attrs)
        self.secrets.setdefault(name, []).append(version)
        return version

    def _find(self, name: str, version: str) -> Version | Reply:
        versions = self.secrets.get(name)
        if not versions:
            return _not_found(name)
        if not version:
            return versions[-1]
        for found in versions:
            if found.id == version:
                return found
        return _not_found(f"{name}/{version}")

    def _bundle(self, name: str, version: Version) -> dict[str, Any]:
        bundle: dict[str, Any] = {
            "value": version.value,
            "id": f"{self.url}/secrets/{name}/{version.id}",
            "attributes": {
                **version.attributes,
                "recoveryLevel": "Recoverable+Purgeable",
                "recoverableDays": 90,
            },
            "tags": version.tags,
        }
        if version.content_type is not None:
            bundle["contentType"] = version.content_type
        return bundle

    def _deleted(self, name: str) -> dict[str, Any]:
        versions, when = self.deleted[name]
        bundle = self._bundle(name, versions[-1])
        del bundle["value"]
        bundle.update(
            recoveryId=f"{self.url}/deletedsecrets/{name}",
            deletedDate=when,
            scheduledPurgeDate=when + 90 * 86400,
        )
        return bundle

    def _page(self, request: Request, items: list[Any], versions: str | None) -> Reply:
        size = int(request.query.get("maxresults") or self.page_size)
        start = int(request.query.get("$skiptoken") or 0)
        page: list[dict[str, Any]] = []
        for item in items[start : start + size]:
            if versions is None:
                entry = self._bundle(item, self.secrets[item][-1])
                entry["id"] = f"{self.url}/secrets/{item}"
            else:
                entry = self._bundle(versions, item)
            del entry["value"]
            page.append(entry)
        after = start + size
        path = urlsplit(request.path).path
        link = (
            f"{self.url}{path}?api-version={request.query['api-version']}"
            f"&$skiptoken={after}&maxresults={size}"
            if after < len(items)
            else None
        )
        return Reply(200, {"value": page, "nextLink": link})


class _Server(ThreadingHTTPServer):
    # socketserver's backlog of 5 drops the SYNs of many concurrent connects
    # (each then waits a 1 s retransmit); a client pool opens up to 100.
    request_queue_size = 128


def _not_found(name: str, kind: str = "Secret") -> Reply:
    return kv_error(
        404,
        f"{kind}NotFound",
        f"A secret with (name/id) {name} was not found in this key vault.",
    )


def _handler(server: FakeKeyVault) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # FACTS.md: no 40 ms Nagle stalls

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            split = urlsplit(self.path)
            query = {k: v[0] for k, v in parse_qs(split.query).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}
            request = Request(self.command, split.path, query, headers, body)
            reply = server.answer(request)
            if server.delay:
                time.sleep(server.delay)  # a round trip's worth, off the test's clock
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
            head = [f"HTTP/1.1 {reply.status} X", f"Content-Length: {len(payload)}"]
            if payload:
                head.append("Content-Type: application/json; charset=utf-8")
            head += [f"{k}: {v}" for k, v in reply.headers.items()]
            self.wfile.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)

        do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _serve

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
