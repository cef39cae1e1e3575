"""One ``hvac.Client`` per backend, on a pooled ``requests`` session with retries.

The client is built in a worker thread on first use (hvac and requests load then)
and closed with the backend. Idempotent requests (GET, LIST) are retried on
connection errors and 5xx, ``retries`` times with a short backoff; what still
fails reaches ``map_errors`` as the last answer.

A CA directory (``VAULT_CAPATH``) is read as the Vault CLI reads it: every
certificate in every file, whatever the file names. OpenSSL's own ``capath``
finds only ``openssl rehash`` names, so the directory becomes one SSL context
that the session's pools use instead of requests' default trust.
"""

from __future__ import annotations

__all__ = ("open_client", "read_pool")

import functools
import os
from typing import TYPE_CHECKING, Any, Final

from secretkit.core.errors import ConfigurationError

if TYPE_CHECKING:
    import ssl

    from .config import VaultSettings

_RETRY_STATUS: Final = frozenset({500, 502, 503, 504})
_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "LIST", "OPTIONS"})
_PEM: Final = b"-----BEGIN CERTIFICATE-----"


def open_client(settings: VaultSettings) -> Any:
    """Build the backend's hvac client, without a token yet (blocking: a thread).

    :param settings: address, namespace, TLS, timeout and retries
    :return: an ``hvac.Client`` whose session pools connections
    :raises ConfigurationError: the CA directory holds no certificate
    """
    import hvac
    import requests
    from urllib3.util.retry import Retry

    retry = Retry(
        total=settings.retries,
        status_forcelist=_RETRY_STATUS,
        allowed_methods=_IDEMPOTENT,
        backoff_factor=0.1,
        raise_on_status=False,
    )
    verify = settings.verify
    context = None
    if isinstance(verify, str) and os.path.isdir(verify):
        context = _directory_context(verify, settings)
    session = requests.Session()
    adapter = _transport_class()(context, max_retries=retry, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    cert = None
    if settings.client_cert and settings.client_key:
        cert = (settings.client_cert, settings.client_key)
    # hvac takes a given session's verify and cert over its own arguments.
    session.verify, session.cert = verify, cert
    return hvac.Client(
        url=settings.url,
        namespace=settings.namespace,
        verify=verify,
        cert=cert,
        timeout=settings.timeout,
        session=session,
    )


def read_pool(client: Any, settings: VaultSettings) -> tuple[Any, Any] | None:
    """The urllib3 pool the client's session reads the server through, and retries.

    The pool carries what requests would give it (TLS trust, client certificate),
    so a batch can send many GETs on it without requests' per-call work.

    :return: the pool and its ``Retry``; ``None`` when a proxy is configured
        for the server (then every request goes through requests)
    """
    import requests
    from requests.utils import select_proxy

    session = client.session
    cert = None
    if settings.client_cert and settings.client_key:
        cert = (settings.client_cert, settings.client_key)
    merged = session.merge_environment_settings(
        settings.url, {}, None, settings.verify, cert
    )
    if select_proxy(settings.url, merged["proxies"]):
        return None
    adapter = session.get_adapter(settings.url)
    probe = requests.Request("GET", f"{settings.url}/v1/sys/health").prepare()
    pool = adapter.get_connection_with_tls_context(
        probe, merged["verify"], merged["proxies"], merged["cert"]
    )
    adapter.cert_verify(pool, settings.url, merged["verify"], merged["cert"])
    return pool, adapter.max_retries


def _directory_context(folder: str, settings: VaultSettings) -> ssl.SSLContext:
    """One SSL context trusting every certificate in ``folder`` (and below)."""
    import ssl

    found: list[str] = []
    for top, _, files in os.walk(folder):
        for name in sorted(files):
            with open(os.path.join(top, name), "rb") as file:
                data = file.read()
            if _PEM in data:
                found.append(data.decode("ascii", "replace"))
    try:
        context = ssl.create_default_context(cadata="\n".join(found) or "-")
    except ssl.SSLError as exc:
        raise ConfigurationError(
            f"the Vault CA directory {folder!r} (ca_cert, VAULT_CAPATH) holds no "
            f"usable PEM certificate ({exc.reason or type(exc).__name__})",
            key="ca_cert",
        ) from None
    if settings.client_cert and settings.client_key:
        try:
            context.load_cert_chain(settings.client_cert, settings.client_key)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(
                f"cannot load the Vault client certificate {settings.client_cert!r}"
                f" with its key ({type(exc).__name__}): check client_cert and "
                "client_key (VAULT_CLIENT_CERT, VAULT_CLIENT_KEY)",
                key="client_cert",
            ) from None
    return context


@functools.cache
def _transport_class() -> type[Any]:
    """requests' adapter, using a given SSL context instead of its CA options."""
    from requests.adapters import HTTPAdapter

    class _Transport(HTTPAdapter):
        def __init__(self, context: ssl.SSLContext | None, **kwargs: Any) -> None:
            self._context = context
            super().__init__(**kwargs)

        def build_connection_pool_key_attributes(
            self, request: Any, verify: Any, cert: Any = None
        ) -> Any:
            host, pool = super().build_connection_pool_key_attributes(
                request, verify, cert
            )
            if self._context is None or verify is False:
                return host, pool
            # The context holds the trust and the client certificate.
            kwargs: dict[str, Any] = {
                key: value
                for key, value in pool.items()
                if key not in ("ca_certs", "ca_cert_dir", "cert_file", "key_file")
            }
            kwargs["ssl_context"] = self._context
            return host, kwargs

        def cert_verify(self, conn: Any, url: str, verify: Any, cert: Any) -> None:
            super().cert_verify(conn, url, verify, cert)  # type: ignore[no-untyped-call]  # untyped in the stubs
            if self._context is not None and verify is not False:
                conn.ca_certs = conn.ca_cert_dir = None
                conn.cert_file = conn.key_file = None

    return _Transport
