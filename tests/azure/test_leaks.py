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
