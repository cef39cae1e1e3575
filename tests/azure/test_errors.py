"""Key Vault and Entra ID failures map onto secretkit's errors, originals chained."""

from __future__ import annotations

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import (
    AccessDenied,
    BackendUnavailable,
    CredentialError,
    SecretNotFound,
)

from .conftest import CLIENT_SECRET
from .fake_keyvault import Reply, kv_error


def _vault_only(reply: Reply):
    return lambda request: None if "/oauth2/" in request.path else reply


async def test_not_found_is_chained(kv, options) -> None:
    """A 404 is SecretNotFound with the SDK's ResourceNotFoundError as cause."""
    from azure.core.exceptions import ResourceNotFoundError

    async with SecretClient(backends={"azure": options}) as client:
        with pytest.raises(SecretNotFound) as caught:
            await client.get("azure://nope")
    assert isinstance(caught.value.__cause__, ResourceNotFoundError)
    assert "SecretNotFound" in str(caught.value)


async def test_forbidden_names_the_vault(kv, options) -> None:
    """A 403 is AccessDenied naming the vault."""
    kv.rules.append(_vault_only(kv_error(403, "Forbidden", "Caller is not authorized")))
    async with SecretClient(backends={"azure": options}) as client:
        with pytest.raises(AccessDenied, match=kv.url):
            await client.get("azure://a")


async def test_throttled_after_retries(kv, options) -> None:
    """429s with Retry-After are retried (max_retries), then BackendUnavailable."""
    throttled = kv_error(429, "Throttled", "Too many requests")
    kv.rules.append(_vault_only(Reply(429, throttled.body, {"Retry-After": "0"})))
    async with SecretClient(backends={"azure": options}) as client:
        with pytest.raises(BackendUnavailable, match="Throttled"):
            await client.get("azure://a")
    assert len(kv.vault_requests()) >= 1 + options["max_retries"]


async def test_retry_then_success(kv, options) -> None:
    """One 503 is retried by the SDK's policy and the read succeeds."""
    kv.seed("a", "v")
    failures = [kv_error(503, "ServiceUnavailable", "busy")]
    kv.rules.append(
        lambda r: failures.pop() if failures and "/oauth2/" not in r.path else None
    )
    async with SecretClient(backends={"azure": options}) as client:
        assert await client.get_value("azure://a") == "v"


async def test_server_error(kv, options) -> None:
    """5xx after retries is BackendUnavailable."""
    kv.rules.append(_vault_only(kv_error(500, "InternalServerError", "boom")))
    async with SecretClient(backends={"azure": options}) as client:
        with pytest.raises(BackendUnavailable):
            await client.get("azure://a")


async def test_bad_client_secret(kv, options) -> None:
    """A refused client secret is CredentialError naming the method, not the secret."""
    options = {**options, "client_secret": "wrong-CANARY-secret"}
    async with SecretClient(backends={"azure": options}) as client:
        with pytest.raises(CredentialError, match="client_secret") as caught:
            await client.get("azure://a")
    assert "wrong-CANARY-secret" not in str(caught.value)
    assert CLIENT_SECRET not in str(caught.value)


async def test_unreachable(options) -> None:
    """Nothing listening is BackendUnavailable."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = {**options, "vault_url": f"https://127.0.0.1:{port}"}
    async with SecretClient(backends={"azure": options}) as client:
        with pytest.raises(BackendUnavailable):
            await client.get("azure://a")


def test_mapping_of_sdk_errors() -> None:
    """Each azure-core error class lands on its secretkit class."""
    from azure.core import exceptions as az

    from secretkit.azure.errors import mapped

    cases = {
        az.ServiceRequestError("x"): BackendUnavailable,
        az.ServiceResponseTimeoutError("x"): BackendUnavailable,
        az.ClientAuthenticationError("x"): CredentialError,
    }
    for exc, cls in cases.items():
        error = mapped(exc, "get_secret", vault="https://v", credential="default")
        assert type(error) is cls
        assert error.__cause__ is exc
    tried = az.ClientAuthenticationError(
        "DefaultAzureCredential failed.\nAttempted credentials:\n"
        "\tEnvironmentCredential: not configured\n\tManagedIdentityCredential: no\n"
    )
    error = mapped(tried, "get_secret", vault="https://v", credential="default")
    assert "tried EnvironmentCredential, ManagedIdentityCredential" in str(error)
