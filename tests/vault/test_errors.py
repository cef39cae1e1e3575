"""Error mapping against the real server, and the canary: no value or token leaks."""

from __future__ import annotations

import logging

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import (
    AccessDenied,
    BackendUnavailable,
    CredentialError,
)

from .bao_process import ROOT_TOKEN, two_free_ports

_POLICY = """
path "secret/data/{unique}/open" {{ capabilities = ["read"] }}
"""


@pytest.fixture
def limited(root, unique) -> str:
    """A token whose policy reads only secret/<unique>/open."""
    root.sys.create_or_update_policy(unique, _POLICY.format(unique=unique))
    return root.auth.token.create(policies=[unique], ttl="1h")["auth"]["client_token"]


async def test_policy_denial_is_access_denied(root, vault_url, limited, unique) -> None:
    """A 403 for a valid token whose policy denies is AccessDenied."""
    root.secrets.kv.v2.create_or_update_secret(f"{unique}/open", secret={"a": "1"})
    root.secrets.kv.v2.create_or_update_secret(f"{unique}/shut", secret={"a": "2"})
    backends = {"vault": {"url": vault_url, "token": limited}}
    async with SecretClient(backends=backends) as client:
        assert await client.get_value(f"vault://secret/{unique}/open#a") == "1"
        with pytest.raises(AccessDenied, match="permission denied") as caught:
            await client.get(f"vault://secret/{unique}/shut")
    assert caught.value.__cause__ is not None
    assert limited not in str(caught.value)


async def test_bad_token_is_credential_error(vault_url, unique) -> None:
    """A token the server does not know raises CredentialError, not AccessDenied."""
    backends = {"vault": {"url": vault_url, "token": "s.not-a-real-token"}}
    async with SecretClient(backends=backends) as client:
        with pytest.raises(CredentialError, match="invalid or expired") as caught:
            await client.get(f"vault://secret/{unique}")
    assert "not-a-real-token" not in str(caught.value)


async def test_no_token_is_credential_error(vault_url) -> None:
    """No option, no VAULT_TOKEN and no ~/.vault-token: CredentialError."""
    async with SecretClient(backends={"vault": {"url": vault_url}}) as client:
        with pytest.raises(CredentialError, match="no vault credentials"):
            await client.get("vault://secret/x")


async def test_token_from_env_and_file(root, vault_url, unique, monkeypatch, tmp_path):
    """VAULT_TOKEN is used, else ~/.vault-token (HOME is a temp dir here)."""
    root.secrets.kv.v2.create_or_update_secret(unique, secret={"a": "1"})
    (tmp_path / ".vault-token").write_text(ROOT_TOKEN + "\n")
    async with SecretClient(backends={"vault": {"url": vault_url}}) as client:
        assert await client.get_value(f"vault://secret/{unique}#a") == "1"
    monkeypatch.setenv("VAULT_TOKEN", "s.wrong")
    monkeypatch.setenv("VAULT_ADDR", vault_url)
    async with SecretClient(backends={"vault": {}}) as client:
        with pytest.raises(CredentialError, match="from env"):
            await client.get(f"vault://secret/{unique}")


async def test_server_down_is_unavailable() -> None:
    """Nothing listening: BackendUnavailable after the retries."""
    url = f"http://127.0.0.1:{two_free_ports()}"
    backends = {"vault": {"url": url, "token": "t", "retries": 1, "timeout": 2}}
    async with SecretClient(backends=backends) as client:
        with pytest.raises(BackendUnavailable, match="could not reach"):
            await client.get("vault://secret/x")


async def test_canary_never_leaks(root, options, unique, caplog) -> None:
    """A value and the token appear in no repr, message or DEBUG log record."""
    canary = f"canary-{unique}"
    root.secrets.kv.v2.create_or_update_secret(unique, secret={"pw": canary})
    caplog.set_level(logging.DEBUG)
    seen: list[str] = []
    async with SecretClient(backends={"vault": options}) as client:
        secret = await client.get(f"vault://secret/{unique}")
        seen += [repr(secret), str(secret), repr(client)]
        batch = await client.get_many(
            [f"vault://secret/{unique}?version=1", f"vault://secret/{unique}/no"]
        )
        seen += [repr(batch), *map(str, batch.errors.values())]
        seen += [repr(found) for found in batch.values()]
        for ref in (f"vault://secret/{unique}?version=7", "vault://nomount/x"):
            with pytest.raises(Exception) as caught:
                await client.get(ref)
            seen += [str(caught.value), repr(caught.value)]
    from secretkit.core.secret import SecretRef
    from secretkit.vault.backend import VaultBackend
    from secretkit.vault.config import VaultSettings

    backend = VaultBackend(VaultSettings(url=options["url"], token=ROOT_TOKEN))
    value = await backend.fetch(SecretRef(name=f"secret/{unique}"))
    seen += [repr(backend), repr(value), repr(backend.settings), await backend.check()]
    await backend.aclose()
    seen += [record.getMessage() for record in caplog.records]
    assert any("GET /v1/secret/data" in text for text in seen)  # urllib3 logged
    for text in seen:
        assert canary not in text
        assert ROOT_TOKEN not in text
