"""hvac's errors, mapped onto ``secretkit.core.errors`` in exactly one place.

- 404 (``InvalidPath``): ``SecretNotFound``; for a KV v2 version the message says
  whether it was soft-deleted (``undelete`` restores it) or destroyed
- 403 (``Forbidden``): ``AccessDenied``; the backend then asks ``lookup-self``
  whether the token itself is the cause, and raises ``CredentialError`` if so
- 401 (``Unauthorized``): ``CredentialError``
- 5xx (``InternalServerError``, ``VaultDown``, ``BadGateway``), 429, an
  uninitialized, sealed or standby server, connection errors, TLS failures and
  timeouts (after the retries; from requests or, for batched reads, urllib3):
  ``BackendUnavailable``, saying sealed, standby, timed out or which TLS check
  failed
- anything else hvac reports: ``BackendError``

Messages name the action, the secret and the HTTP status, never the server's text,
the token or a value; the hvac (or requests) exception stays chained as
``__cause__``. Only the seal and standby words are read from the server's errors.
"""

from __future__ import annotations

__all__ = ("map_errors",)

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

_STATUS: Final[Mapping[str, tuple[type[SecretkitError], str]]] = {
    "InvalidPath": (SecretNotFound, "not found (404)"),
    "Forbidden": (AccessDenied, "permission denied (403): check the token's policies"),
    "Unauthorized": (CredentialError, "unauthorized (401): the token is not valid"),
    "RateLimitExceeded": (BackendUnavailable, "rate limited (429)"),
    "InternalServerError": (BackendUnavailable, "server error (500)"),
    "BadGateway": (BackendUnavailable, "bad gateway (502)"),
    "VaultDown": (BackendUnavailable, "unavailable (503)"),
    "VaultNotInitialized": (BackendUnavailable, "the server is not initialized"),
    "InvalidRequest": (BackendError, "the server rejected the request (400)"),
    "PreconditionFailed": (BackendUnavailable, "not yet consistent (412)"),
}


@contextmanager
def map_errors(action: str, ref: str | None, *, backend: str) -> Iterator[None]:
    """Raise our error for any hvac or HTTP error in the block, chaining it.

    :param action: what was being done (``read``, ``write``), for the message
    :param ref: the secret concerned, if any
    :param backend: the backend instance name
    """
    import requests
    import urllib3.exceptions
    from hvac.exceptions import VaultError

    try:
        yield
    except VaultError as exc:
        cls, what = _classify(exc)
        raise cls(_message(action, ref, what), ref=ref, backend=backend) from exc
    except (requests.RequestException, urllib3.exceptions.HTTPError) as exc:
        what = _unreachable(exc)
        raise BackendUnavailable(
            _message(action, ref, what), ref=ref, backend=backend
        ) from exc


def _unreachable(exc: Exception) -> str:
    """Why the server could not answer: a timeout, TLS, or the connection."""
    import ssl

    import requests
    import urllib3.exceptions

    reason: object = exc
    if isinstance(exc, urllib3.exceptions.MaxRetryError) and exc.reason is not None:
        reason = exc.reason
    if isinstance(reason, (requests.Timeout, urllib3.exceptions.TimeoutError)):
        return "timed out: the server did not answer in time"
    tls = (requests.exceptions.SSLError, urllib3.exceptions.SSLError, ssl.SSLError)
    if isinstance(reason, tls):
        if "CERTIFICATE_VERIFY_FAILED" in str(reason):
            return (
                "TLS: the server's certificate is not trusted; set ca_cert "
                "(VAULT_CACERT or VAULT_CAPATH) to the CA that signed it"
            )
        return (
            "TLS handshake failed; check the url's scheme, ca_cert and the client "
            "certificate (client_cert, VAULT_CLIENT_CERT) if the server asks one"
        )
    return f"could not reach the server ({type(exc).__name__}); check url"


def _message(action: str, ref: str | None, what: str) -> str:
    target = f" {ref!r}" if ref else ""
    return f"Vault {action}{target}: {what}"


def _classify(exc: Exception) -> tuple[type[SecretkitError], str]:
    cls, what = _STATUS.get(type(exc).__name__, (BackendError, "unexpected answer"))
    words = " ".join(str(e) for e in (getattr(exc, "errors", None) or ())).lower()
    if "sealed" in words:
        return BackendUnavailable, "the server is sealed: unseal it"
    if "standby" in words:
        return BackendUnavailable, "the server is a standby and cannot answer"
    if cls is SecretNotFound:
        return cls, _deleted(exc) or what
    if cls is BackendError and "check-and-set" in words:
        return cls, "check-and-set failed: the secret changed; read it and retry"
    return cls, what


def _deleted(exc: Exception) -> str | None:
    """Say whether a KV v2 version is destroyed or soft-deleted (404 with metadata)."""
    body = getattr(exc, "json", None)
    data = body.get("data") if isinstance(body, dict) else None
    meta = data.get("metadata") if isinstance(data, dict) else None
    if not isinstance(meta, dict):
        return None
    version = meta.get("version", "?")
    if meta.get("destroyed"):
        return f"version {version} was destroyed and cannot be read again"
    if meta.get("deletion_time"):
        return f"version {version} was soft-deleted: undelete it to read it"
    return None
