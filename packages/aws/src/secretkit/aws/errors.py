"""botocore's errors, mapped onto ``secretkit.core.errors`` in exactly one place.

Messages name the operation, the secret and the AWS error code, never the text
AWS sent back: some of it (a signature mismatch's string-to-sign, say) carries key
material. The SDK's exception stays chained as ``__cause__`` for debugging.
"""

from __future__ import annotations

__all__ = ("error_code", "map_errors")

from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from secretkit.core.errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    ConfigurationError,
    CredentialError,
    SecretkitError,
    SecretNotFound,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

_NOT_FOUND: Final = frozenset(
    {"ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound"}
)
_DENIED: Final = frozenset(
    {
        "AccessDeniedException",
        "AccessDenied",
        "DecryptionFailure",
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSInvalidStateException",
        "KMSNotFoundException",
        "UnauthorizedOperation",
    }
)
_CREDENTIALS: Final = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
        "IncompleteSignature",
        "MissingAuthenticationToken",
    }
)
_UNAVAILABLE: Final = frozenset(
    {
        "InternalFailure",
        "InternalServerError",
        "InternalServiceError",
        "InternalServiceErrorException",
        "RequestLimitExceeded",
        "RequestTimeout",
        "ServiceUnavailable",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
    }
)
_HINTS: Final[dict[type[SecretkitError], str]] = {
    SecretNotFound: "check the name and the region",
    AccessDenied: "the identity's IAM or KMS policy does not allow it",
    CredentialError: "the AWS credentials are missing, expired or invalid",
    BackendUnavailable: "AWS could not be reached or kept throttling; retried",
}


def _classify(exc: BaseException) -> tuple[type[SecretkitError], str]:
    """The error class for an SDK exception, and the code to name in the message."""
    from botocore.exceptions import (
        BotoCoreError,
        ClientError,
        ConnectionError,
        CredentialRetrievalError,
        HTTPClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
        ProfileNotFound,
    )

    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        code = str(error.get("Code", "Unknown"))
        message = str(error.get("Message", ""))
        if code in _NOT_FOUND:
            return SecretNotFound, code
        if code == "InvalidRequestException" and "deletion" in message.lower():
            return SecretNotFound, f"{code}: scheduled for deletion"
        if code in _DENIED:
            return AccessDenied, code
        if code in _CREDENTIALS:
            return CredentialError, code
        if code in _UNAVAILABLE:
            return BackendUnavailable, code
        return BackendError, code
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return CredentialError, type(exc).__name__
    if isinstance(exc, (CredentialRetrievalError, ProfileNotFound)):
        return CredentialError, type(exc).__name__
    if isinstance(exc, NoRegionError):
        return ConfigurationError, "no region: set region= or AWS_REGION"
    if isinstance(exc, (ConnectionError, HTTPClientError)):
        return BackendUnavailable, type(exc).__name__
    if isinstance(exc, BotoCoreError):
        return BackendError, type(exc).__name__
    if isinstance(exc, (OSError, TimeoutError)):
        return BackendUnavailable, type(exc).__name__
    return BackendError, type(exc).__name__


@contextmanager
def map_errors(
    operation: str, *, ref: str | None = None, backend: str | None = None
) -> Iterator[None]:
    """Raise our error for any SDK error in the block; keep the SDK's as ``__cause__``.

    :param operation: what we were doing (``GetSecretValue``), for the message
    :param ref: the secret concerned
    :param backend: the backend instance name
    """
    try:
        yield
    except SecretkitError:
        raise
    except Exception as exc:
        cls, code = _classify(exc)
        where = f" for {ref!r}" if ref else ""
        hint = _HINTS.get(cls)
        message = f"AWS {operation}{where} failed: {code}" + (
            f" ({hint})" if hint else ""
        )
        if cls is ConfigurationError:
            raise ConfigurationError(message, ref=ref, backend=backend) from exc
        raise cls(message, ref=ref, backend=backend) from exc


def error_code(exc: BaseException) -> str | None:
    """The AWS error code of a botocore ``ClientError``, else ``None``."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None
