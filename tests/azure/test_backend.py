"""Key Vault reads through SecretClient and directly, against the fake HTTPS vault."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import (
    BackendError,
    InvalidReference,
    NotSupported,
    SecretNotFound,
)
from secretkit.core.secret import SecretRef

from ._direct import opened, run
from .fake_keyvault import TENANT, Reply


async def test_read_field_and_metadata(kv, options) -> None:
    """A secret reads as text with its JSON field, version and metadata."""
    version = kv.seed(
        "mlflow-auth",
        json.dumps({"token": "t0k"}),
        content_type="application/json",
        tags={"team": "ml"},
    )
    async with SecretClient(default="azure", backends={"azure": options}) as client:
        secret = await client.get("mlflow-auth")
        assert await client.get_value("azure://mlflow-auth#token") == "t0k"
    assert secret.version == version
    assert secret.created is not None
    assert secret.metadata["content_type"] == "application/json"
    assert secret.metadata["tags"] == {"team": "ml"}
    assert secret.metadata["enabled"] is True
    assert secret.metadata["vault_url"] == kv.url


async def test_read_decodes_as_the_sdk_does(kv, options) -> None:
    """A read's version, creation time and metadata equal the SDK's own decoding."""
    from secretkit.azure._convert import metadata

    now = int(datetime.now(UTC).timestamp())
    version = kv.seed(
        "decoded",
        "v",
        content_type="text/plain",
        tags={"team": "ml", "tier": "1"},
        nbf=now - 60,
        exp=now + 3600,
    )
    async with opened(options) as backend:
        ours = await run(backend.fetch, SecretRef.parse("decoded"))
        sdk = await run(backend.vault.get().get_secret, "decoded")
    assert ours.version == sdk.properties.version == version
    assert ours.created == sdk.properties.created_on
    assert ours.created is not None
    assert dict(ours.metadata) == metadata(sdk.properties)
    assert ours.metadata["not_before"] == datetime.fromtimestamp(now - 60, UTC)
    assert ours.metadata["expires_on"] == datetime.fromtimestamp(now + 3600, UTC)


async def test_answer_not_a_secret_bundle(kv, options) -> None:
    """A 200 whose JSON is not an object is BackendError, without the body."""
    canary = "bundle-CANARY-41d7"
    kv.rules.append(
        lambda r: None if "/oauth2/" in r.path else Reply(200, [canary, canary])
    )
    async with opened(options) as backend:
        with pytest.raises(BackendError, match="DecodeError") as caught:
            await run(backend.fetch, SecretRef.parse("a"))
    assert canary not in str(caught.value)
    assert not isinstance(caught.value, SecretNotFound)


async def test_version_and_api_version_in_the_request(kv, options) -> None:
    """A ?version= read asks for that version, with the configured api-version."""
    first = kv.seed("db", "one")
    kv.seed("db", "two")
    async with opened(options, api_version="7.5") as backend:
        value = await run(backend.fetch, SecretRef.parse(f"db?version={first}"))
    assert value.value == "one"
    assert value.version == first
    reads = [r for r in kv.requests if r.path.startswith("/secrets/")]
    assert reads[-1].path == f"/secrets/db/{first}"
    assert reads[-1].query["api-version"] == "7.5"
    assert reads[-1].headers["accept"] == "application/json"


async def test_challenge_then_client_secret_token(kv, options) -> None:
    """The first call meets the bearer challenge; the token endpoint's token is used."""
    from azure.keyvault.secrets._shared import http_challenge_cache

    http_challenge_cache.clear()  # the SDK remembers a vault's challenge per process
    kv.seed("a", "x")
    async with SecretClient(backends={"azure": options}) as client:
        await client.get("azure://a")
    paths = [(r.method, r.path, "authorization" in r.headers) for r in kv.requests]
    assert paths[0] == ("GET", "/secrets/a/", False)
    assert paths[1] == ("POST", f"/{TENANT}/oauth2/v2.0/token", False)
    assert paths[2] == ("GET", "/secrets/a/", True)


async def test_version(kv, options) -> None:
    """?version= reads that version; the bare name reads the newest."""
    first = kv.seed("db", "one")
    kv.seed("db", "two")
    async with SecretClient(backends={"azure": options}) as client:
        assert await client.get_value("azure://db") == "two"
        assert await client.get_value(f"azure://db?version={first}") == "one"
        with pytest.raises(SecretNotFound):
            await client.get("azure://db?version=0123456789abcdef0123456789abcdef")


async def test_name_mapping(kv, options) -> None:
    """mlflow/auth reads mlflow-auth; a names entry wins; strict refuses."""
    kv.seed("mlflow-auth", "dashed")
    kv.seed("other", "table")
    async with SecretClient(backends={"azure": options}) as client:
        assert await client.get_value("azure://mlflow/auth") == "dashed"
    table = {**options, "names": {"mlflow/auth": "other"}}
    async with SecretClient(backends={"azure": table}) as client:
        assert await client.get_value("azure://mlflow/auth") == "table"
    strict = {**options, "name_map": "strict"}
    async with SecretClient(backends={"azure": strict}) as client:
        with pytest.raises(InvalidReference, match="mlflow/auth"):
            await client.get("azure://mlflow/auth")


async def test_several_vault_instances(kv, options) -> None:
    """A second instance of type azure reads through its own name."""
    kv.seed("mlflow-auth", "v")
    backends = {"kv-prod": {**options, "type": "azure"}}
    async with SecretClient(backends=backends) as client:
        assert await client.get_value("kv-prod://mlflow-auth") == "v"


async def test_missing(options) -> None:
    """A name the vault does not know raises SecretNotFound naming it."""
    async with SecretClient(backends={"azure": options}) as client:
        with pytest.raises(SecretNotFound, match="nope"):
            await client.get("azure://nope")


@pytest.mark.parametrize(
    ("attributes", "said"),
    [
        ({"enabled": False}, "disabled"),
        ({"exp": int((datetime.now(UTC) - timedelta(days=1)).timestamp())}, "expired"),
        ({"nbf": int((datetime.now(UTC) + timedelta(days=1)).timestamp())}, "before"),
    ],
)
async def test_unusable_versions(kv, options, attributes, said) -> None:
    """A disabled, expired or not yet valid secret raises SecretNotFound saying so."""
    kv.seed("old", "value", **attributes)
    async with opened(options) as backend:
        with pytest.raises(SecretNotFound, match=said):
            await run(backend.fetch, SecretRef.parse("old"))


async def test_stage_not_supported(options) -> None:
    """Key Vault has no stages: ?stage= raises NotSupported."""
    async with opened(options) as backend:
        with pytest.raises(NotSupported, match="stage"):
            await run(backend.fetch, SecretRef.parse("a?stage=AWSCURRENT"))


async def test_check_reports_vault_and_identity(kv, options) -> None:
    """check() names the vault and the credential, and reads check_secret."""
    kv.seed("probe", "x")
    async with opened(options, check_secret="probe") as backend:
        line = await run(backend.check)
    assert kv.url in line
    assert "client_secret (client_secret answered" in line
    assert "'probe' is readable" in line
    async with opened(options) as backend:
        assert (await run(backend.check)).startswith(kv.url)
