"""botocore's errors, mapped onto ``secretkit.core.errors`` in exactly one place.

- ``ResourceNotFoundException`` (and SSM's not-found codes): ``SecretNotFound``
- ``InvalidRequestException`` "marked for deletion": ``SecretNotFound``, saying the
  secret is scheduled for deletion
- ``AccessDeniedException``, ``DecryptionFailure``, the KMS refusals and a bare
  HTTP 403: ``AccessDenied``
- expired or invalid tokens and signatures, missing credentials, failing
  credential providers, unreadable token files: ``CredentialError``
- throttling (after botocore's retries), HTTP 5xx and 429, connection errors,
  connect and read timeouts: ``BackendUnavailable``
- no region, bad retry or endpoint settings: ``ConfigurationError``
- anything else AWS or botocore reports: ``BackendError``

Messages name the operation, the secret and the AWS error code, never the text AWS
sent back: some of it (a signature mismatch's string-to-sign, a parameter
validation report) carries key material or values. The SDK's exception stays
chained as ``__cause__`` for debugging.
"""

from __future__ import annotations

__all__ = ("batch_error", "error_code", "map_errors", "mapped")

import re
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
    from collections.abc import Iterator, Mapping

_NOT_FOUND: Final = frozenset(
    {"ResourceNotFoundException", "ParameterNotFound", "ParameterVersionNotFound"}
)
_DENIED: Final = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
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
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "IDPRejectedClaim",
        "IncompleteSignature",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidIdentityToken",
        "InvalidSignatureException",
        "MissingAuthenticationToken",
        "RequestExpired",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
_UNAVAILABLE: Final = frozenset(
    {
        "BandwidthLimitExceeded",
        "EC2ThrottledException",
        "IDPCommunicationError",
        "InternalFailure",
        "InternalServerError",
        "InternalServiceError",
        "InternalServiceErrorException",
        "PriorRequestNotComplete",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "RequestTimeout",
        "RequestTimeoutException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "SlowDown",
        "ThrottledException",
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "TooManyUpdates",
    }
)
# AWS: "... because it was marked for deletion." (reads, writes), "... already
# scheduled for deletion." (CreateSecret); moto: "... currently marked deleted."
_MARKED_DELETED: Final = re.compile(
    r"(?:marked|scheduled) (?:for )?delet", re.IGNORECASE
)
_HINTS: Final[Mapping[type[SecretkitError], str]] = {
    SecretNotFound: "check the name, version or stage, and the region",
    AccessDenied: "the identity's IAM or KMS policy does not allow it",
    CredentialError: "the AWS credentials are missing, expired or invalid",
    BackendUnavailable: "AWS could not be reached in time or kept throttling",
    ConfigurationError: "check region, endpoint_url and the retry settings",
}


def _classify_client_error(
    code: str, message: str, status: int | None
) -> tuple[type[SecretkitError], str]:
    """The error class for an AWS error response, and what to say about it."""
    if code in _NOT_FOUND:
        return SecretNotFound, code
    if code == "InvalidRequestException" and _MARKED_DELETED.search(message):
        return SecretNotFound, (
            "the secret is scheduled for deletion (restore it with RestoreSecret "
            "or wait out its recovery window)"
        )
    if code in _DENIED:
        return AccessDenied, code
    if code in _CREDENTIALS:
        return CredentialError, code
    if code in _UNAVAILABLE:
        return BackendUnavailable, code
    # An answer botocore could not parse (a proxy's, or XML from a JSON service)
    # leaves the HTTP status as its code: judge by the status alone.
    if status is not None and (status >= 500 or status == 429):
        return BackendUnavailable, code
    if code.isdigit() and status == 403:
        return AccessDenied, f"HTTP {code}"
    if code.isdigit() and status == 401:
        return CredentialError, f"HTTP {code}"
    return BackendError, code


def _classify(exc: Exception) -> tuple[type[SecretkitError], str]:
    """The error class for an SDK exception, and what to say about it."""
    from botocore import exceptions as boto

    if isinstance(exc, boto.ClientError):
        error = exc.response.get("Error", {})
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        return _classify_client_error(
            str(error.get("Code") or "Unknown"), str(error.get("Message") or ""), status
        )
    name = type(exc).__name__
    if isinstance(
        exc,
        (
            boto.NoCredentialsError,
            boto.PartialCredentialsError,
            boto.CredentialRetrievalError,
            boto.ProfileNotFound,
            boto.TokenRetrievalError,
            boto.NoAuthTokenError,
            boto.SSOError,
            boto.UnknownCredentialError,
            boto.RefreshWithMFAUnsupportedError,
            boto.MetadataRetrievalError,
        ),
    ):
        return CredentialError, name
    if isinstance(exc, boto.NoRegionError):
        return ConfigurationError, f"{name}: set region= or AWS_REGION"
    if isinstance(
        exc,
        (
            boto.InvalidRegionError,
            boto.UnknownEndpointError,
            boto.InvalidConfigError,
            boto.ConfigParseError,
            boto.ConfigNotFound,
            boto.InvalidRetryConfigurationError,
            boto.InvalidEndpointConfigurationError,
        ),
    ):
        return ConfigurationError, name
    if isinstance(
        exc,
        (boto.ConnectionError, boto.HTTPClientError, boto.CapacityNotAvailableError),
    ):
        return BackendUnavailable, name  # timeouts are ConnectionError/HTTPClientError
    if isinstance(exc, (boto.ParamValidationError, boto.ValidationError)):
        return BackendError, f"{name}: AWS does not accept the name, version or stage"
    if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
        return CredentialError, name  # a token or config file botocore could not read
    if isinstance(exc, OSError):
        return BackendUnavailable, name
    return BackendError, name


def mapped(
    exc: Exception,
    operation: str,
    *,
    ref: str | None = None,
    backend: str | None = None,
) -> SecretkitError:
    """Our error for an SDK exception, with ``exc`` as its ``__cause__``.

    :param exc: what botocore raised (or built, for a batch's per-secret error)
    :param operation: the AWS operation (``GetSecretValue``), for the message
    :param ref: the secret concerned
    :param backend: the backend instance name
    :return: the most specific error of our tree
    """
    cls, said = _classify(exc)
    where = f" for {ref!r}" if ref else ""
    hint = _HINTS.get(cls)
    if hint and cls is SecretNotFound and said.startswith("the secret"):
        hint = None  # the description already says what to do
    message = f"AWS {operation}{where} failed: {said}" + (f" ({hint})" if hint else "")
    error = cls(message, ref=ref, backend=backend)
    error.__cause__ = exc
    return error


@contextmanager
def map_errors(
    operation: str, *, ref: str | None = None, backend: str | None = None
) -> Iterator[None]:
    """Raise our error for any SDK error in the block; keep the SDK's as ``__cause__``.

    botocore's and aiobotocore's exceptions (``BotoCoreError``, ``ClientError``)
    and socket errors are mapped; our own errors and anything else (a bug) pass
    through unchanged.

    :param operation: what we were doing (``GetSecretValue``), for the message
    :param ref: the secret concerned
    :param backend: the backend instance name
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError, OSError) as exc:
        raise mapped(exc, operation, ref=ref, backend=backend) from exc


def batch_error(
    code: str,
    message: str,
    operation: str,
    *,
    ref: str | None = None,
    backend: str | None = None,
) -> SecretkitError:
    """Our error for one entry of a batch call's ``Errors`` list.

    AWS reports per-secret failures as data, not as an exception: this builds the
    ``ClientError`` botocore would have raised for that secret alone and maps it,
    so a batch's errors read (and chain) like single calls' errors.

    :param code: the entry's ``ErrorCode``
    :param message: the entry's ``Message`` (kept only in the chained cause)
    :param operation: the batch operation (``BatchGetSecretValue``)
    :param ref: the secret concerned
    :param backend: the backend instance name
    :return: the most specific error of our tree
    """
    from botocore.exceptions import ClientError

    cause = ClientError(
        {
            "Error": {"Code": code, "Message": message},
            "ResponseMetadata": {
                "HTTPStatusCode": 400,
                "HTTPHeaders": {},
                "RequestId": "",
                "RetryAttempts": 0,
                "HostId": "",
            },
        },
        operation,
    )
    return mapped(cause, operation, ref=ref, backend=backend)


def error_code(exc: BaseException | None) -> str | None:
    """The AWS error code of a botocore ``ClientError``, else ``None``.

    Give it one of our errors' ``__cause__`` to learn what AWS said.
    """
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        code = response.get("Error", {}).get("Code")
        return str(code) if code else None
    return None
