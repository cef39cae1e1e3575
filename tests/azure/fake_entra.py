"""The Entra ID side of the fake Key Vault: token endpoints over the same server.

``POST /{tenant}/oauth2/v2.0/token`` (client credentials grant) issues tokens for
the client secrets registered in ``clients``, and for a client assertion that is a
``federated`` token (workload identity) or a well-formed JWT of a registered client
(a certificate's; the signature is not checked), in any tenant of ``tenants``;
each request's tenant, scope and ``claims`` are kept in ``asked``, and each token
remembers its tenant (``token_tenants``). ``GET /msi/token`` is App
Service's managed identity endpoint (``IDENTITY_ENDPOINT``), which wants
``X-IDENTITY-HEADER: IDENTITY_HEADER``; ``GET /metadata/identity/oauth2/token`` is
IMDS on a VM with no identity assigned (400, for
``AZURE_POD_IDENTITY_AUTHORITY_HOST``). Tokens last ``token_ttl`` seconds.
Written from the Microsoft identity platform and App Service references.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

TENANT = "00000000-0000-0000-0000-00000000000a"
IDENTITY_HEADER = "identity-header-CANARY-31d0"
_JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass(frozen=True)
class Request:
    """One request as the server received it (headers lower-cased)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class TokenAsk:
    """What one client-credentials request asked for (``claims`` parsed)."""

    tenant: str
    scope: str
    claims: Any


@dataclass(frozen=True)
class Reply:
    """An answer: status, JSON body, extra headers."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


class FakeEntra:
    """Token endpoints; the fake Key Vault serves them and accepts their tokens."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.clients: dict[str, str] = {}
        self.federated: dict[str, str] = {}
        self.tokens: set[str] = set()
        self.token_tenants: dict[str, str] = {}
        self.tenants = {TENANT}
        self.asked: list[TokenAsk] = []
        self.token_ttl = 3600

    def _issue(self, tenant: str | None = None) -> tuple[str, int]:
        token = secrets.token_urlsafe(24)
        with self._lock:
            self.tokens.add(token)
            if tenant is not None:
                self.token_tenants[token] = tenant
        return token, self.token_ttl

    def _identity(self, request: Request) -> Reply:
        # https://learn.microsoft.com/azure/app-service/overview-managed-identity
        if request.headers.get("x-identity-header") != IDENTITY_HEADER:
            return Reply(401, {"error": "unauthorized"})
        if not request.query.get("resource") or not request.query.get("api-version"):
            return Reply(400, {"error": "resource and api-version are required"})
        token, ttl = self._issue()
        return Reply(
            200,
            {
                "access_token": token,
                "expires_on": str(int(time.time()) + ttl),
                "resource": request.query["resource"],
                "token_type": "Bearer",
                "client_id": request.query.get("client_id", "system-assigned"),
            },
        )

    def _imds(self, request: Request) -> Reply:
        # A VM without a managed identity, as IMDS answers it:
        # https://learn.microsoft.com/entra/identity/managed-identities-azure-resources/how-to-use-vm-token#error-handling
        if request.headers.get("metadata") != "true":
            return Reply(400, {"error": "invalid_request", "error_description": ""})
        return Reply(
            400,
            {"error": "invalid_request", "error_description": "Identity not found"},
        )

    def _assertion_ok(self, client: str, assertion: str) -> bool:
        if self.federated.get(client) == assertion:
            return True
        if client not in self.clients:
            return False
        parts = assertion.split(".")
        if len(parts) != 3 or not parts[2]:
            return False
        try:
            header, claims = (
                json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
                for part in parts[:2]
            )
        except ValueError:
            return False
        return (
            header.get("alg") in ("RS256", "PS256")
            and ("x5t" in header or "x5t#S256" in header)
            and claims.get("iss") == claims.get("sub") == client
        )

    def _token(self, tenant: str, request: Request) -> Reply:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        client = form.get("client_id", "")
        claims = json.loads(form["claims"]) if form.get("claims") else None
        with self._lock:
            self.asked.append(TokenAsk(tenant, form.get("scope", ""), claims))
        if tenant not in self.tenants or form.get("grant_type") != "client_credentials":
            return Reply(400, {"error": "invalid_request"})
        if form.get("client_assertion_type") == _JWT_BEARER:
            accepted = self._assertion_ok(client, form.get("client_assertion", ""))
        else:
            accepted = bool(client) and self.clients.get(client) == form.get(
                "client_secret"
            )
        if not accepted:
            return Reply(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "AADSTS7000215: Invalid client secret.",
                    "error_codes": [7000215],
                },
            )
        token, ttl = self._issue(tenant)
        return Reply(
            200,
            {
                "token_type": "Bearer",
                "expires_in": ttl,
                "ext_expires_in": ttl,
                "access_token": token,
            },
        )


def is_token_path(path: str) -> bool:
    """Whether a request went to a token endpoint."""
    return "/oauth2/" in path or path == "/msi/token"
