"""get_many through the vault backend's batch path, against the real dev server.

KV v2 secrets are read by a few workers, many per thread hop, on the session's
connection pool; everything else, and every answer but a 200, takes the
one-secret path. Each test checks that per-secret outcomes stay per secret.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import (
    BackendUnavailable,
    InvalidReference,
    NotSupported,
    SecretNotFound,
)
from secretkit.core.secret import SecretRef
from secretkit.vault._connect import open_client, read_pool
from secretkit.vault.backend import VaultBackend
from secretkit.vault.config import VaultSettings

from .bao_process import ROOT_TOKEN, two_free_ports

if TYPE_CHECKING:
    from collections.abc import Callable


def count_hops(backend: VaultBackend, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the name of every function the backend runs in a worker thread."""
    hops: list[str] = []
    hop = backend.run_blocking

    async def counted(func: Callable[..., Any], *args: object) -> Any:
        hops.append(getattr(func, "__name__", repr(func)))
        return await hop(func, *args)

    monkeypatch.setattr(backend, "run_blocking", counted)
    return hops


async def test_many_reads_few_hops(root, vault_url, unique, monkeypatch) -> None:
    """Fifty KV v2 secrets cost one hop per worker, not one per secret."""
    for n in range(50):
        root.secrets.kv.v2.create_or_update_secret(f"{unique}/s{n}", secret={"n": n})
    backend = VaultBackend(
        VaultSettings(url=vault_url, token=ROOT_TOKEN, mount="secret")
    )
    hops = count_hops(backend, monkeypatch)
    refs = [SecretRef(name=f"{unique}/s{n}") for n in range(50)]
    try:
        found = await backend.fetch_many(refs)
    finally:
        await backend.aclose()
    values = {ref.name: value for ref, value in found.items()}
    assert values[f"{unique}/s7"].value == '{"n":7}'  # type: ignore[union-attr]
    assert all(value.version == "1" for value in values.values())  # type: ignore[union-attr]
    assert hops.count("work") <= 8
    assert len(hops) <= 8 + 2  # the client, the mount lookup


async def test_mixed_outcomes(root, options, unique, caplog) -> None:
    """Values, versions, KV v1 and every error come back each for its own ref."""
    canary = f"canary-{unique}"
    kv = root.secrets.kv.v2
    kv.create_or_update_secret(f"{unique}/a", secret={"pw": canary})
    kv.create_or_update_secret(f"{unique}/a", secret={"pw": "second"})
    kv.create_or_update_secret(f"{unique}/gone", secret={"x": 1})
    kv.delete_latest_version_of_secret(f"{unique}/gone")
    root.secrets.kv.v1.create_or_update_secret(
        f"{unique}/old", secret={"v": 1}, mount_point="kv1"
    )
    caplog.set_level(logging.DEBUG)
    refs = {
        "new": f"vault://secret/{unique}/a",
        "v1": f"vault://secret/{unique}/a?version=1",
        "kv1": f"vault://kv1/{unique}/old#v",
        "missing": f"vault://secret/{unique}/nope",
        "deleted": f"vault://secret/{unique}/gone",
        "bad": f"vault://secret/{unique}/a?version=abc",
        "stage": f"vault://secret/{unique}/a?stage=current",
    }
    async with SecretClient(backends={"vault": options}) as client:
        batch = await client.get_many(refs.values())
    assert batch[refs["new"]].json() == {"pw": "second"}
    assert batch[refs["v1"]].json() == {"pw": canary}
    assert batch[refs["kv1"]].reveal() == "1"  # its #field
    errors = batch.errors
    assert isinstance(errors[refs["missing"]], SecretNotFound)
    assert "soft-deleted" in str(errors[refs["deleted"]])
    assert isinstance(errors[refs["bad"]], InvalidReference)
    assert isinstance(errors[refs["stage"]], NotSupported)
    texts = [caplog.text, repr(batch), *map(str, errors.values())]
    assert not any(canary in text for text in texts)


async def test_revoked_token_logs_in_once(root, vault_url, logins, unique) -> None:
    """A refused token in a batch: the one-secret path logs in again, once."""
    for n in range(5):
        root.secrets.kv.v2.create_or_update_secret(f"{unique}/s{n}", secret={"n": n})
    settings = VaultSettings(
        url=vault_url, role_id=logins.role_id, secret_id=logins.secret_id
    )
    backend = VaultBackend(settings)
    refs = [SecretRef(name=f"secret/{unique}/s{n}") for n in range(5)]
    try:
        await backend.fetch(refs[0])
        first = await backend._chain.get()
        root.auth.token.revoke(first.value)
        found = await backend.fetch_many(refs)
        second = await backend._chain.get()
    finally:
        await backend.aclose()
    assert [found[ref].version for ref in refs] == ["1"] * 5  # type: ignore[union-attr]
    assert second.value != first.value


async def test_unreachable_server_per_secret() -> None:
    """Nothing listening: every KV v2 read of the batch is BackendUnavailable."""
    url = f"http://127.0.0.1:{two_free_ports()}"
    settings = VaultSettings(url=url, token="t", mount="secret", kv_version="2")
    backend = VaultBackend(settings)
    refs = [SecretRef(name=f"s{n}") for n in range(3)]
    try:
        found = await backend.fetch_many(refs)
    finally:
        await backend.aclose()
    for ref in refs:
        assert isinstance(found[ref], BackendUnavailable)
        assert "could not reach" in str(found[ref])


def test_no_pool_through_a_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a proxy for the server, the batch leaves every read to requests."""
    settings = VaultSettings(url="http://vault.example:8200")
    client = open_client(settings)
    try:
        assert read_pool(client, settings) is not None
        monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:3128")
        assert read_pool(client, settings) is None
    finally:
        client.adapter.close()
