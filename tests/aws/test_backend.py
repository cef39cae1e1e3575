"""Secrets Manager through SecretClient, against a real moto server."""

from __future__ import annotations

import json

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import SecretNotFound


async def test_string_secret_and_field(boto) -> None:
    """A SecretString comes back as text; #field selects a JSON field."""
    boto("secretsmanager").create_secret(
        Name="mlflow/auth", SecretString=json.dumps({"token": "t0k"})
    )
    async with SecretClient(default="aws", backends={"aws": {}}) as client:
        secret = await client.get("mlflow/auth")
        assert await client.get_value("mlflow/auth#token") == "t0k"
    assert secret.stages == ("AWSCURRENT",)
    assert secret.metadata["region"] is None or secret.metadata["region"] == "us-east-1"


async def test_binary_secret_stays_bytes(boto) -> None:
    """A SecretBinary comes back as the same bytes."""
    blob = bytes(range(256))
    boto("secretsmanager").create_secret(Name="blob", SecretBinary=blob)
    async with SecretClient(backends={"aws": {}}) as client:
        assert await client.get_value("aws://blob") == blob


async def test_missing_secret(boto) -> None:
    """A name AWS does not know raises SecretNotFound naming it."""
    async with SecretClient(backends={"aws": {}}) as client:
        with pytest.raises(SecretNotFound, match="nope"):
            await client.get("aws://nope")
