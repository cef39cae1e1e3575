"""The whole error mapping: botocore's errors onto ours, chained, never leaking.

moto produces what it can (a missing secret, one scheduled for deletion, an
invalid access key when its authentication is on); a loopback server answers as
AWS does where moto cannot (KMS and IAM refusals, throttling, 5xx, expired
tokens, a server too slow to answer); the rest are botocore exceptions built as
botocore builds them.
"""

from __future__ import annotations

import socket

import pytest
from botocore import exceptions as boto_errors

from secretkit.aws.errors import batch_error, map_errors, mapped
from secretkit.core import SecretClient
from secretkit.core.errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    ConfigurationError,
    CredentialError,
    SecretkitError,
    SecretNotFound,
)

from ._direct import opened, run
from ._loopback import Loopback, Reply, aws_error
from .moto_process import moto_server

CANARY = "CANARY-e1b5-aws-said-this"


def _client_error(code: str, message: str = CANARY, status: int = 400):
    return boto_errors.ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "HTTPStatusCode": status,
                "RequestId": "r",
                "HostId": "",
                "HTTPHeaders": {},
                "RetryAttempts": 0,
            },
        },
        "GetSecretValue",
    )


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ResourceNotFoundException", 400, SecretNotFound),
        ("AccessDeniedException", 400, AccessDenied),
        ("DecryptionFailure", 400, AccessDenied),
        ("KMSAccessDeniedException", 400, AccessDenied),
        ("ExpiredTokenException", 400, CredentialError),
        ("UnrecognizedClientException", 400, CredentialError),
        ("InvalidSignatureException", 400, CredentialError),
        ("InvalidClientTokenId", 403, CredentialError),
        ("ThrottlingException", 400, BackendUnavailable),
        ("TooManyRequestsException", 429, BackendUnavailable),
        ("InternalServiceError", 500, BackendUnavailable),
        ("503", 503, BackendUnavailable),  # an answer botocore could not parse
        ("403", 403, AccessDenied),
        ("InvalidParameterException", 400, BackendError),
        ("InvalidRequestException", 400, BackendError),
    ],
)
def test_client_errors(code: str, status: int, expected: type) -> None:
    """Each AWS error code maps to its class; AWS's own text stays in the cause."""
    cause = _client_error(code, status=status)
    error = mapped(cause, "GetSecretValue", ref="db/main", backend="aws")
    assert type(error) is expected
    assert error.__cause__ is cause
    assert (error.ref, error.backend) == ("db/main", "aws")
    assert str(error).startswith("AWS GetSecretValue for 'db/main' failed: ")
    assert CANARY not in str(error)
    assert "\n" not in str(error)


@pytest.mark.parametrize(
    "message",
    [
        "You can't perform this operation on the secret because it was marked for "
        "deletion.",
        "You can't create this secret because a secret with this name is already "
        "scheduled for deletion.",
        "You tried to perform the operation on a secret that's currently marked "
        "deleted.",  # moto's wording
    ],
)
def test_scheduled_for_deletion(message: str) -> None:
    """InvalidRequestException for a deleted secret is SecretNotFound saying so."""
    error = mapped(_client_error("InvalidRequestException", message), "X", ref="old")
    assert isinstance(error, SecretNotFound)
    assert "scheduled for deletion" in str(error)
    assert "RestoreSecret" in str(error)


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (
            boto_errors.EndpointConnectionError(endpoint_url="http://x"),
            BackendUnavailable,
        ),
        (boto_errors.ConnectTimeoutError(endpoint_url="http://x"), BackendUnavailable),
        (boto_errors.ReadTimeoutError(endpoint_url="http://x"), BackendUnavailable),
        (
            boto_errors.ConnectionClosedError(endpoint_url="http://x"),
            BackendUnavailable,
        ),
        (boto_errors.NoCredentialsError(), CredentialError),
        (
            boto_errors.PartialCredentialsError(provider="env", cred_var="key"),
            CredentialError,
        ),
        (
            boto_errors.TokenRetrievalError(provider="sso", error_msg=CANARY),
            CredentialError,
        ),
        (
            boto_errors.CredentialRetrievalError(provider="sts", error_msg=CANARY),
            CredentialError,
        ),
        (boto_errors.NoRegionError(), ConfigurationError),
        (boto_errors.ParamValidationError(report=CANARY), BackendError),
        (ConnectionResetError(CANARY), BackendUnavailable),
        (FileNotFoundError(2, CANARY), CredentialError),
    ],
    ids=lambda value: type(value).__name__ if isinstance(value, Exception) else None,
)
def test_botocore_errors(exc: Exception, expected: type) -> None:
    """botocore's own exceptions map by kind, with none of their text."""
    with pytest.raises(expected) as caught, map_errors("GetSecretValue", ref="db"):
        raise exc
    assert type(caught.value) is expected
    assert caught.value.__cause__ is exc
    assert CANARY not in str(caught.value)
    assert type(exc).__name__ in str(caught.value)


def test_our_errors_and_bugs_pass_through() -> None:
    """map_errors leaves our own errors and non-SDK exceptions alone."""
    ours = CredentialError("no credentials", backend="aws")
    with pytest.raises(CredentialError) as caught, map_errors("X"):
        raise ours
    assert caught.value is ours
    with pytest.raises(KeyError), map_errors("X"):
        raise KeyError("a bug, not an AWS error")


def test_batch_entry_error_reads_like_a_single_call() -> None:
    """A batch answer's per-secret error maps and chains like a raised one."""
    error = batch_error(
        "ResourceNotFoundException", CANARY, "BatchGetSecretValue", ref="gone"
    )
    assert isinstance(error, SecretNotFound)
    assert isinstance(error.__cause__, boto_errors.ClientError)
    assert CANARY in str(error.__cause__) and CANARY not in str(error)


class TestAgainstMoto:
    """Errors moto itself produces."""

    async def test_missing_secret(self) -> None:
        """ResourceNotFoundException is SecretNotFound, the ClientError chained."""
        async with SecretClient(backends={"aws": {}}) as client:
            with pytest.raises(SecretNotFound, match="'nope'") as caught:
                await client.get("aws://nope")
        assert isinstance(caught.value.__cause__, boto_errors.ClientError)

    async def test_scheduled_for_deletion(self, boto) -> None:
        """A secret scheduled for deletion reads as SecretNotFound saying so."""
        boto("secretsmanager").create_secret(Name="old", SecretString="v")
        boto("secretsmanager").delete_secret(SecretId="old")
        async with SecretClient(backends={"aws": {}}) as client:
            with pytest.raises(SecretNotFound, match="scheduled for deletion"):
                await client.get("aws://old")

    async def test_invalid_access_key(self, moto_with_auth: str) -> None:
        """An access key AWS does not know makes check() a CredentialError."""
        async with opened(
            endpoint_url=moto_with_auth, sts_endpoint_url=moto_with_auth
        ) as backend:
            with pytest.raises(CredentialError, match="InvalidClientTokenId"):
                await run(backend.check)


@pytest.fixture(scope="module")
def moto_with_auth(tmp_path_factory: pytest.TempPathFactory):
    """A second moto server that checks access keys (INITIAL_NO_AUTH_ACTION_COUNT=0)."""
    with moto_server(
        tmp_path_factory.mktemp("moto-auth"), {"INITIAL_NO_AUTH_ACTION_COUNT": "0"}
    ) as url:
        yield url


@pytest.fixture
def loopback(moto_url):
    """A loopback server in front of moto."""
    with Loopback(moto_url) as server:
        yield server


class TestAnsweredAsAwsDoes:
    """Errors moto cannot produce, answered by the loopback server as AWS would."""

    @pytest.mark.parametrize(
        ("code", "expected"),
        [
            ("AccessDeniedException", AccessDenied),
            ("DecryptionFailure", AccessDenied),
            ("UnrecognizedClientException", CredentialError),
            ("ExpiredTokenException", CredentialError),
        ],
    )
    async def test_refusals(
        self, loopback: Loopback, code: str, expected: type
    ) -> None:
        """IAM, KMS and token refusals map to their class, AWS's text left out."""
        loopback.rules.append(lambda seen: aws_error(code, f"{CANARY} arn:aws:kms"))
        options = {"endpoint_url": loopback.url, "max_attempts": 1}
        async with SecretClient(backends={"aws": options}) as client:
            with pytest.raises(expected, match=code) as caught:
                await client.get("aws://db/main")
        assert CANARY not in str(caught.value)
        assert CANARY in str(caught.value.__cause__)

    async def test_throttling_after_retries(self, loopback: Loopback) -> None:
        """Throttling on every attempt is BackendUnavailable after max_attempts."""
        loopback.rules.append(lambda seen: aws_error("ThrottlingException", "Rate"))
        options = {
            "endpoint_url": loopback.url,
            "max_attempts": 2,
            "retry_mode": "standard",
        }
        async with SecretClient(backends={"aws": options}) as client:
            with pytest.raises(BackendUnavailable, match="ThrottlingException"):
                await client.get("aws://db/main")
        assert len(loopback.calls("GetSecretValue")) == 2

    async def test_server_error(self, loopback: Loopback) -> None:
        """An HTTP 500 from the service is BackendUnavailable."""
        loopback.rules.append(
            lambda seen: aws_error("InternalServiceError", status=500)
        )
        options = {"endpoint_url": loopback.url, "max_attempts": 1}
        async with SecretClient(backends={"aws": options}) as client:
            with pytest.raises(BackendUnavailable, match="InternalServiceError"):
                await client.get("aws://db/main")

    async def test_read_timeout(self, loopback: Loopback) -> None:
        """A server that never answers is BackendUnavailable after read_timeout."""
        loopback.rules.append(lambda seen: Reply(hang=True))
        options = {"endpoint_url": loopback.url, "max_attempts": 1, "read_timeout": 0.2}
        async with SecretClient(backends={"aws": options}) as client:
            with pytest.raises(BackendUnavailable, match="ReadTimeoutError") as caught:
                await client.get("aws://db/main")
        assert isinstance(caught.value.__cause__, boto_errors.ReadTimeoutError)


async def test_connection_refused() -> None:
    """Nothing listening on the endpoint is BackendUnavailable."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    options = {"endpoint_url": closed, "max_attempts": 1}
    async with SecretClient(backends={"aws": options}) as client:
        with pytest.raises(BackendUnavailable, match="EndpointConnectionError"):
            await client.get("aws://db/main")


async def test_no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """No region anywhere is a ConfigurationError saying where to set one."""
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    async with opened(region=None) as backend:
        with pytest.raises(ConfigurationError, match="NoRegionError"):
            await run(backend.fetch, _ref("db/main"))


async def test_no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """No credentials anywhere is a CredentialError."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    async with SecretClient(backends={"aws": {"max_attempts": 1}}) as client:
        with pytest.raises(CredentialError) as caught:
            await client.get("aws://db/main")
    assert isinstance(caught.value, SecretkitError)


def _ref(text: str):
    from secretkit.core.secret import SecretRef

    return SecretRef.parse(text)
