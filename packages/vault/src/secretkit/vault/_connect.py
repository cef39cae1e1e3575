"""One ``hvac.Client`` per backend, on a pooled ``requests`` session with retries.

The client is built in a worker thread on first use (hvac and requests load then)
and closed with the backend. Idempotent requests (GET, LIST) are retried on
connection errors and 5xx, ``retries`` times with a short backoff; what still
fails reaches ``map_errors`` as the last answer.
"""

from __future__ import annotations

__all__ = ("open_client",)

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from .config import VaultSettings

_RETRY_STATUS: Final = frozenset({500, 502, 503, 504})
_IDEMPOTENT: Final = frozenset({"GET", "HEAD", "LIST", "OPTIONS"})


def open_client(settings: VaultSettings) -> Any:
    """Build the backend's hvac client, without a token yet (blocking: a thread).

    :param settings: address, namespace, TLS, timeout and retries
    :return: an ``hvac.Client`` whose session pools connections
    """
    import hvac
    import requests
    from requests.adapters import HTTPAdapter
    from urllib3.util.retry import Retry

    retry = Retry(
        total=settings.retries,
        status_forcelist=_RETRY_STATUS,
        allowed_methods=_IDEMPOTENT,
        backoff_factor=0.1,
        raise_on_status=False,
    )
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry, pool_maxsize=32)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    cert = None
    if settings.client_cert and settings.client_key:
        cert = (settings.client_cert, settings.client_key)
    return hvac.Client(
        url=settings.url,
        namespace=settings.namespace,
        verify=settings.verify,
        cert=cert,
        timeout=settings.timeout,
        session=session,
    )
