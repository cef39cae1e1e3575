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


@pytest.mark.parametrize("method", ["cli", "developer_cli", "powershell"])
async def test_tool_tokens_not_in_logs(
    kv, certs, monkeypatch, tmp_path, caplog, method
):
    """A developer tool's token, and a claims challenge's, leave no trace in logs."""
    import os

    from secretkit.core.secret import SecretRef

    from ._direct import opened, run
    from .fake_keyvault import TENANT
    from .fake_tools import calls, install

    caplog.set_level(logging.DEBUG)
    token = f"tool-token-CANARY-{method}"
    kv.tokens.add(token)
    install(tmp_path, method, token=token, tenant=TENANT)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    kv.seed("a", CANARY)
    options = {
        "vault_url": kv.url,
        "credential": method,
        "ca_bundle": str(certs.ca),
        "verify_challenge_resource": False,
        "max_retries": 0,
    }
    async with opened(options) as backend:
        secret = await run(backend.fetch, SecretRef.parse("a"))
        shown = [repr(secret), repr(backend.vault.credential)]
        shown.append(await run(backend.check))
        kv.claims = {"access_token": {"nbf": {"essential": True, "value": "1"}}}
        kv.revoked.add(token)  # the tools cannot answer claims: an error follows
        with pytest.raises(SecretkitError) as caught:
            await run(backend.fetch, SecretRef.parse("a"))
        shown.append(str(caught.value))
    text = "\n".join([caplog.text, *shown])
    for needle in (CANARY, token):
        assert needle not in text
    if method == "developer_cli":  # azd takes claims, but the fake's token is the old
        assert "--claims" in calls(tmp_path, method)[-1]
    else:  # az and pwsh do not take claims: azure-identity says so
        assert "claims challenge" in str(caught.value)
