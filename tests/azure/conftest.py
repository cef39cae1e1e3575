"""The fake Key Vault over loopback HTTPS: one per session, reset per test."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import pytest

from ._tls import TestCertificates, make_certificates
from .fake_keyvault import TENANT, FakeKeyVault

if TYPE_CHECKING:
    from collections.abc import Iterator

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "client-secret-CANARY-7f3a"


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> TestCertificates:
    """A CA and server certificate made for this session."""
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def vault_server(certs: TestCertificates) -> Iterator[FakeKeyVault]:
    """The fake Key Vault and token endpoint, for the whole session."""
    with FakeKeyVault(certs) as server:
        yield server


@pytest.fixture(autouse=True)
def kv(vault_server: FakeKeyVault, monkeypatch: pytest.MonkeyPatch) -> FakeKeyVault:
    """The fake Key Vault, emptied, with one registered app; no AZURE_* leak in."""
    for name in list(os.environ):
        if name.startswith(("AZURE_", "SECRETKIT_", "IDENTITY_", "MSI_")):
            monkeypatch.delenv(name)
    vault_server.reset()
    vault_server.clients[CLIENT_ID] = CLIENT_SECRET
    return vault_server


@pytest.fixture(autouse=True)
def _fresh_challenges() -> Iterator[None]:
    """The SDK remembers each vault's challenge (its tenant) per process: not here."""
    from azure.keyvault.secrets._shared import http_challenge_cache

    http_challenge_cache.clear()
    yield
    http_challenge_cache.clear()


@pytest.fixture
def options(kv: FakeKeyVault, certs: TestCertificates) -> dict[str, Any]:
    """The ``azure`` backend's options for the fake vault, client-secret sign-in."""
    return {
        "vault_url": kv.url,
        "credential": "client_secret",
        "tenant_id": TENANT,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
        "authority": kv.url,
        "ca_bundle": str(certs.ca),
        "verify_challenge_resource": False,
        "max_retries": 2,
        "retry_backoff_factor": 0.0,
    }
