"""azure-core's and azure-identity's errors, mapped onto ``secretkit.core.errors``.

- ``ResourceNotFoundError`` (404): ``SecretNotFound``
- 403 with inner code ``SecretDisabled``: ``SecretNotFound``, saying it is disabled
- any other 403 (an access policy, RBAC, the vault firewall): ``AccessDenied``
  naming the vault
- ``ClientAuthenticationError`` (a 401, a refused sign-in) and
  ``CredentialUnavailableError``: ``CredentialError``, naming the configured
  credential and the ones ``DefaultAzureCredential`` tried
- 408, 429 and 5xx (after the SDK's retries, which honour ``Retry-After``),
  ``ServiceRequestError`` and ``ServiceResponseError`` (connection errors and
  timeouts, named as ``connect_timeout`` or ``read_timeout``):
  ``BackendUnavailable``
- ``DecodeError`` (an answer that is not the JSON Key Vault sends) and anything
  else Azure reports: ``BackendError``

Messages name the operation, the secret, the vault and Key Vault's error code,
never the text it sent back nor a token. The SDK's exception stays chained.
"""

from __future__ import annotations

__all__ = ("error_code", "map_errors", "mapped")

import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from secretkit.core.errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    CredentialError,
    SecretkitError,
    SecretNotFound,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

# DefaultAzureCredential's report lists "\tEnvironmentCredential: ..." lines.
_TRIED: Final = re.compile(r"^\s+(\w+Credential):", re.MULTILINE)
_HINTS: Final[Mapping[type[SecretkitError], str]] = {
    SecretNotFound: "check the name, the version and name_map",
    AccessDenied: "the identity's access policy or RBAC role, or the vault "
    "firewall, does not allow it",
    BackendUnavailable: "Key Vault could not be reached in time or kept throttling",
}


def error_code(exc: BaseException | None) -> tuple[str | None, str | None]:
    """Key Vault's error code and inner error code for an ``HttpResponseError``."""
    error = getattr(exc, "error", None)
    code = getattr(error, "code", None)
    inner = getattr(error, "innererror", None) or {}
    inner_code = inner.get("code") if isinstance(inner, dict) else None
    return (str(code) if code else None, str(inner_code) if inner_code else None)


def _classify(exc: Exception, credential: str) -> tuple[type[SecretkitError], str]:
    from azure.core import exceptions as az

    name = type(exc).__name__
    if isinstance(exc, az.ResourceNotFoundError):
        return SecretNotFound, error_code(exc)[0] or "HTTP 404"
    if isinstance(exc, az.ClientAuthenticationError):
        tried = _TRIED.findall(str(exc.message or ""))
        said = f"{name} with credential={credential!r}"
        if tried:
            said += f" (tried {', '.join(dict.fromkeys(tried))})"
        return CredentialError, said
    if isinstance(exc, az.DecodeError):  # a 200 whose body is not a secret's JSON
        return BackendError, f"{name}: the answer is not Key Vault's JSON"
    if isinstance(exc, az.HttpResponseError):
        status = exc.status_code or 0
        code, inner = error_code(exc)
        said = code or f"HTTP {status}"
        if status == 403 and inner == "SecretDisabled":
            return SecretNotFound, "the secret is disabled (enable it to read it)"
        if status == 403:
            return AccessDenied, said
        if status == 401:
            return CredentialError, f"{said} with credential={credential!r}"
        if status in (408, 429) or status >= 500:
            return BackendUnavailable, f"{said} after retries"
        if inner:
            said += f"/{inner}"
        return BackendError, said
    if isinstance(exc, az.ServiceRequestTimeoutError):
        return BackendUnavailable, f"{name}: no connection within connect_timeout"
    if isinstance(exc, az.ServiceResponseTimeoutError):
        return BackendUnavailable, f"{name}: no answer within read_timeout"
    if isinstance(exc, (az.ServiceRequestError, az.ServiceResponseError, OSError)):
        return BackendUnavailable, name
    return BackendError, name


def mapped(
    exc: Exception,
    operation: str,
    *,
    vault: str,
    credential: str,
    ref: str | None = None,
    backend: str | None = None,
) -> SecretkitError:
    """Our error for an SDK exception, with ``exc`` as its ``__cause__``.

    :param exc: what the SDK raised
    :param operation: the SDK call (``get_secret``), for the message
    :param vault: the vault URL
    :param credential: the configured credential method
    :param ref: the secret concerned (its Key Vault name)
    :param backend: the backend instance name
    :return: the most specific error of our tree
    """
    cls, said = _classify(exc, credential)
    where = f" for {ref!r}" if ref else ""
    hint = _HINTS.get(cls)
    if said.startswith("the secret"):
        hint = None  # the description already says what to do
    message = f"Key Vault {operation}{where} in {vault} failed: {said}" + (
        f" ({hint})" if hint else ""
    )
    error = cls(message, ref=ref, backend=backend)
    error.__cause__ = exc
    return error


@contextmanager
def map_errors(
    operation: str,
    *,
    vault: str,
    credential: str,
    ref: str | None = None,
    backend: str | None = None,
) -> Iterator[None]:
    """Raise our error for any Azure error in the block; keep Azure's as ``__cause__``.

    ``AzureError`` (azure-core and azure-identity) and socket errors are mapped;
    our own errors and anything else (a bug) pass through unchanged.

    :param operation: the SDK call, for the message
    :param vault: the vault URL
    :param credential: the configured credential method
    :param ref: the secret concerned
    :param backend: the backend instance name
    """
    from azure.core.exceptions import AzureError

    try:
        yield
    except (AzureError, OSError) as exc:
        raise mapped(
            exc,
            operation,
            vault=vault,
            credential=credential,
            ref=ref,
            backend=backend,
        ) from exc
