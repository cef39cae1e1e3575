"""Namespaces (OpenBao 2.x, Vault Enterprise): every request carries X-Vault-Namespace.

OpenBao's dev server has namespaces (``sys/namespaces``), so these tests run
for real: each makes its own namespace with a KV v2 mount and a userpass user,
and reads, writes, lists and logs in inside it.
"""

from __future__ import annotations

from typing import Any

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import SecretNotFound

from .bao_process import ROOT_TOKEN
from .login_setup import READER


@pytest.fixture
def namespace(root: Any, vault_url: str, unique: str) -> str:
    """A namespace with ``secret/`` (KV v2), a reader policy and user ``bob``."""
    import hvac

    root.write(f"sys/namespaces/{unique}")
    inside = hvac.Client(url=vault_url, token=ROOT_TOKEN, namespace=unique)
    inside.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    inside.sys.create_or_update_policy("reader", READER)
    inside.sys.enable_auth_method("userpass")
    inside.write("auth/userpass/users/bob", password="bob-pw", token_policies="reader")
    inside.secrets.kv.v2.create_or_update_secret("app/db", secret={"pw": unique})
    return unique


async def test_reads_inside_namespace(vault_url, namespace, monkeypatch) -> None:
    """VAULT_NAMESPACE sends reads (one by one and batched) into the namespace."""
    monkeypatch.setenv("VAULT_NAMESPACE", namespace)
    backends = {"vault": {"url": vault_url, "token": ROOT_TOKEN}}
    async with SecretClient(backends=backends) as client:
        assert await client.get_value("vault://secret/app/db#pw") == namespace
        batch = await client.get_many(["vault://secret/app/db?version=1"])
    assert batch.errors == {}
    assert batch["vault://secret/app/db?version=1"].json() == {"pw": namespace}


async def test_root_namespace_does_not_see_it(vault_url, namespace) -> None:
    """Without the namespace the same name is not found: the header is what counts."""
    backends = {"vault": {"url": vault_url, "token": ROOT_TOKEN}}
    async with SecretClient(backends=backends) as client:
        with pytest.raises(SecretNotFound):
            await client.get("vault://secret/app/db")
        batch = await client.get_many(["vault://secret/app/db"])
    assert isinstance(batch.errors["vault://secret/app/db"], SecretNotFound)


async def test_login_and_writes_inside_namespace(vault_url, namespace) -> None:
    """The namespace option: a userpass login, put and list inside the namespace."""
    from secretkit.core.secret import SecretRef
    from secretkit.vault.backend import VaultBackend
    from secretkit.vault.config import VaultSettings

    reader = VaultSettings(
        url=vault_url, namespace=namespace, username="bob", password="bob-pw"
    )
    writer = VaultSettings(url=vault_url, namespace=namespace, token=ROOT_TOKEN)
    backend, admin = VaultBackend(reader), VaultBackend(writer)
    try:
        found = await backend.fetch(SecretRef(name="secret/app/db"))
        await admin.put(SecretRef(name="secret/app/api"), '{"key":"k"}')
        names = [name async for name in admin.list("secret/app/")]
        check = await backend.check()
    finally:
        await backend.aclose()
        await admin.aclose()
    assert found.value == f'{{"pw":"{namespace}"}}'
    assert names == ["secret/app/api", "secret/app/db"]
    assert "policies default, reader" in check
