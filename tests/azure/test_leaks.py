"""Canary: a secret value, the client secret and the bearer token never leak."""

from __future__ import annotations

import logging

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import SecretkitError

from .conftest import CLIENT_SECRET
from .fake_keyvault import kv_error

CANARY = "value-CANARY-5b1e"


async def test_no_leak_in_logs_reprs_or_errors(kv, options, caplog) -> None:
    """DEBUG logs, reprs and error messages show no value, secret or token."""
    caplog.set_level(logging.DEBUG)
    kv.seed("canary", CANARY)
    async with SecretClient(backends={"azure": options}) as client:
        secret = await client.get("azure://canary")
        shown = [repr(secret), str(secret), repr(client), repr(client.backend("azure"))]
        await client.get_many(["azure://canary", "azure://missing"])
        kv.rules.append(
            lambda r: (
                None if "/oauth2/" in r.path else kv_error(403, "Forbidden", CANARY)
            )
        )
        with pytest.raises(SecretkitError) as caught:
            await client.get("azure://other")
        shown.append(str(caught.value))
    tokens = set(kv.tokens)
    assert tokens
    text = "\n".join([caplog.text, *shown])
    assert "azure.core" in caplog.text  # the SDK's HTTP logging did run
    for needle in (CANARY, CLIENT_SECRET, *tokens):
        assert needle not in text


async def test_refused_secret_not_in_logs(kv, options, caplog) -> None:
    """A refused client secret shows in no log record or message."""
    caplog.set_level(logging.DEBUG)
    wrong = "refused-CANARY-9c2d"
    async with SecretClient(
        backends={"azure": {**options, "client_secret": wrong}}
    ) as c:
        with pytest.raises(SecretkitError) as caught:
            await c.get("azure://a")
    assert wrong not in caplog.text
    assert wrong not in str(caught.value)


async def test_chain_tokens_not_in_logs_or_reprs(kv, certs, monkeypatch, caplog):
    """Managed identity and workload identity leave no token or header in logs."""
    from secretkit.core.secret import SecretRef

    from ._direct import opened, run
    from .fake_keyvault import IDENTITY_HEADER

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{kv.url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    kv.seed("a", CANARY)
    options = {
        "vault_url": kv.url,
        "ca_bundle": str(certs.ca),
        "verify_challenge_resource": False,
    }
    async with opened(options) as backend:
        await run(backend.fetch, SecretRef.parse("a"))
        bridge = backend.vault.credential
        assert bridge is not None
        chain = bridge.chain("https://vault.azure.net/.default")
        creds = await run(chain.get)
        shown = [repr(bridge), repr(chain), repr(creds), repr(creds.value)]
        shown.append(await run(backend.check))
    tokens = set(kv.tokens)
    assert tokens
    text = "\n".join([caplog.text, *shown])
    for needle in (CANARY, IDENTITY_HEADER, *tokens):
        assert needle not in text
