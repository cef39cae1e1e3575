"""Kubernetes login against the real dev server and a loopback TokenReview endpoint.

Each test mounts its own ``kubernetes`` auth method whose ``kubernetes_host`` is
the fake API server (HTTPS, trusted through ``kubernetes_ca_cert``), with a role
``web`` bound to service account ``web`` in namespace ``apps``.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import CredentialError
from secretkit.core.options import Options
from secretkit.core.secret import SecretRef
from secretkit.vault.backend import VaultBackend
from secretkit.vault.config import read_settings
from secretkit.vault.credentials import chain_for

from .login_setup import READER
from .token_review import REVIEWER_JWT, service_account_jwt, token_review_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from .tls_files import TlsFiles
    from .token_review import Cluster


@pytest.fixture(scope="module")
def cluster(tls_files: TlsFiles) -> Iterator[Cluster]:
    """The fake Kubernetes API server, for this module."""
    with token_review_server(tls_files.server) as found:
        yield found


@pytest.fixture
def k8s(root: Any, cluster: Cluster, tls_files: TlsFiles, unique: str) -> str:
    """A kubernetes auth mount at ``unique`` trusting the fake cluster; its path."""
    root.sys.create_or_update_policy("reader", READER)
    root.sys.enable_auth_method("kubernetes", path=unique)
    root.write(
        f"auth/{unique}/config",
        kubernetes_host=cluster.url,
        kubernetes_ca_cert=tls_files.server.ca.read_text(),
        token_reviewer_jwt=REVIEWER_JWT,
        disable_local_ca_jwt=True,
    )
    root.write(
        f"auth/{unique}/role/web",
        bound_service_account_names=["web"],
        bound_service_account_namespaces=["apps"],
        token_policies=["reader"],
        token_ttl=3600,
    )
    root.secrets.kv.v2.create_or_update_secret(f"{unique}/db", secret={"pw": "k8s"})
    return unique


def _account(cluster: Cluster, path: Path, *, valid: bool = True) -> str:
    """Write a new service-account token to ``path``; the cluster knows it if valid."""
    token = service_account_jwt("apps", "web", "uid-web", uuid.uuid4().hex)
    if valid:
        cluster.accounts[token] = ("apps", "web", "uid-web")
    path.write_text(token + "\n")
    return token


def _options(url: str, mount: str, token_file: Path) -> dict[str, object]:
    return {
        "url": url,
        "role": "web",
        "auth_mount": mount,
        "kubernetes_token_file": str(token_file),
    }


async def test_login_from_token_file(vault_url, cluster, k8s, tmp_path) -> None:
    """role + the service-account token file log in; the reviewer saw that token."""
    token = _account(cluster, tmp_path / "sa")
    backends = {"vault": _options(vault_url, k8s, tmp_path / "sa")}
    async with SecretClient(backends=backends) as client:
        assert await client.get_value(f"vault://secret/{k8s}/db#pw") == "k8s"
    assert cluster.reviewed[-1] == token
    assert cluster.reviewers[-1] == f"Bearer {REVIEWER_JWT}"


async def test_rejected_token(vault_url, cluster, k8s, tmp_path, caplog) -> None:
    """A token the review rejects: CredentialError naming method and role only."""
    caplog.set_level(logging.DEBUG)
    token = _account(cluster, tmp_path / "sa", valid=False)
    options = {**_options(vault_url, k8s, tmp_path / "sa"), "auth": "kubernetes"}
    async with SecretClient(backends={"vault": options}) as client:
        with pytest.raises(CredentialError) as caught:
            await client.get(f"vault://secret/{k8s}/db")
    message = str(caught.value)
    assert f"kubernetes login (mount {k8s!r}, role 'web')" in message
    assert cluster.reviewed[-1] == token
    seen = [message, repr(caught.value), caplog.text]
    cause: BaseException | None = caught.value
    while cause is not None:
        seen.append(str(cause))
        cause = cause.__cause__
    assert not any(token in text for text in seen)


async def test_rotated_token_file_read_on_relogin(
    root, vault_url, cluster, k8s, tmp_path
) -> None:
    """After the Vault token is revoked, the new login reads the rotated file."""
    first = _account(cluster, tmp_path / "sa")
    options = Options(
        _options(vault_url, k8s, tmp_path / "sa"), instance="v", source="t"
    )
    settings = read_settings(options, {})
    chain = chain_for(settings, name="v")
    backend = VaultBackend(settings, name="v", chain=chain)
    try:
        await backend.fetch(SecretRef(name=f"secret/{k8s}/db"))
        old = await chain.get()
        second = _account(cluster, tmp_path / "sa")  # the kubelet rotates it
        del cluster.accounts[first]
        root.auth.token.revoke(old.value)
        value = await backend.fetch(SecretRef(name=f"secret/{k8s}/db"))
        new = await chain.get()
    finally:
        await backend.aclose()
    assert value.value == '{"pw":"k8s"}'
    assert new.value != old.value
    assert new.metadata["auth"] == "kubernetes"
    assert cluster.reviewed[-1] == second
    assert cluster.reviewed.count(first) == 1
