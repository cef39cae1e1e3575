"""``SecretAuth``: the ``requests`` auth that puts a secret's credentials on requests.

Every request it is applied to is checked against the host allowlist first: a
refused host gets no header (and one warning). Then the secret comes from the
client's cache (a hit costs no lock and no thread hop) and the header value built
from it is reused until the secret changes. A 401 or 403 answer makes it ask the
backend again, once for all requests refused at the same time, and resend the
request once with the new credentials (a file body is rewound first; a generator
body cannot be resent); a second refusal is returned as it is. A redirect to
another origin, or outside the allowlist, drops the header whatever its name.
"""

from __future__ import annotations

__all__ = ("SecretAuth", "build_auth")

import hmac
import logging
import threading
from typing import TYPE_CHECKING, Any, final

import requests.auth
from requests.cookies import extract_cookies_to_jar

from ._header import header_value
from ._hosts import HostAllowlist, describe, same_origin

if TYPE_CHECKING:
    from collections.abc import Mapping

    from requests import PreparedRequest, Response

    from secretkit.core.secret import Secret
    from secretkit.core.sync import SyncSecretClient

    from .config import MlflowSettings

_log = logging.getLogger(__name__)
_REFUSED = (401, 403)


@final
class SecretAuth(requests.auth.AuthBase):
    """Credentials from one secret, on every allowed request; renewed on refusal.

    Thread-safe; share one per process.

    :param client: where the secret is read (its cache keeps it)
    :param settings: the reference, mode, header, fields and allowlist
    """

    __slots__ = ("_built", "_client", "_get", "_hook", "_hosts", "_lock", "settings")

    def __init__(self, client: SyncSecretClient, settings: MlflowSettings) -> None:
        self.settings = settings
        self._client = client
        self._get = client.get
        self._hosts = (
            HostAllowlist(settings.allowed_hosts) if settings.allowed_hosts else None
        )
        # The last secret and the header value made from it, replaced together.
        self._built: tuple[Secret | None, str] = (None, "")
        self._lock = threading.Lock()
        self._hook = self._on_response

    @property
    def client(self) -> SyncSecretClient:
        """The secretkit client the secret is read through."""
        return self._client

    def __call__(self, r: PreparedRequest) -> PreparedRequest:
        """Add the header to ``r`` if its host is allowed.

        :raises SecretkitError: the secret cannot be fetched or used; the request
            is not sent
        """
        hosts = self._hosts
        if hosts is not None and not hosts.allows(r.url or ""):
            hosts.refuse(r.url or "")
            return r
        secret = self._get(self.settings.ref)
        used, value = self._built
        if secret is not used:
            value = self._build(secret)
        r.headers[self.settings.header] = value
        r.hooks["response"].append(self._hook)
        return r

    def allows(self, url: str) -> bool:
        """Say whether credentials may be sent to ``url``."""
        return self._hosts is None or self._hosts.allows(url)

    def header(self) -> str:
        """The header value for the current secret (fetching it if needed).

        :raises SecretkitError: the secret cannot be fetched or used
        """
        secret = self._get(self.settings.ref)
        used, value = self._built
        return value if secret is used else self._build(secret)

    def _build(self, secret: Secret) -> str:
        value = header_value(secret, self.settings)
        self._built = (secret, value)
        _log.debug(
            "MLflow %s auth built from %s (version %s) for header %s",
            self.settings.mode,
            self.settings.ref,
            secret.version,
            self.settings.header,
        )
        return value

    def _renewed(self, refused: str) -> str:
        """The header value after a refusal of ``refused``: fetched again at most
        once however many requests were refused with it."""
        with self._lock:
            value = self.header()
            if _same(value, refused):  # nobody has renewed it yet
                self._client.invalidate(self.settings.ref)
                value = self.header()
        return value

    def _on_response(self, response: Response, **kwargs: Any) -> Response:
        request = response.request
        if response.is_redirect:
            self._drop_on_other_origin(response, request)
            return response
        if response.status_code not in _REFUSED:
            return response
        refused = request.headers.get(self.settings.header)
        if refused is None:
            return response
        # Fetched again even when the request cannot be resent, so the next one
        # carries the new credentials.
        value = self._renewed(refused)
        where = describe(request.url or "")
        if _same(value, refused):
            _log.info(
                "%s refused the MLflow credentials (%d) and %s still holds the same",
                where,
                response.status_code,
                self.settings.ref,
            )
            return response
        if not _rewound(request):
            _log.info(
                "%s refused the MLflow credentials (%d): %s fetched again; the "
                "request was not resent, its body is a stream",
                where,
                response.status_code,
                self.settings.ref,
            )
            return response
        _log.info(
            "%s refused the MLflow credentials (%d): %s fetched again, request resent",
            where,
            response.status_code,
            self.settings.ref,
        )
        # Release the connection first, so the retry may reuse it.
        response.content  # noqa: B018
        response.close()
        # requests follows a redirect of the answer from this request, not from
        # the copy sent below: both carry the new value.
        request.headers[self.settings.header] = value
        retry = request.copy()
        # The refusal's cookies go along, as requests' own digest auth does.
        jar = retry._cookies  # type: ignore[attr-defined]  # not in types-requests
        extract_cookies_to_jar(jar, request, response.raw)  # type: ignore[no-untyped-call]  # untyped in types-requests
        retry.prepare_cookies(jar)
        again = response.connection.send(retry, **kwargs)
        again.history.append(response)
        again.request = retry
        if again.is_redirect:  # requests runs no hooks on this answer
            self._drop_on_other_origin(again, request)
        return again

    def _drop_on_other_origin(
        self, response: Response, request: PreparedRequest
    ) -> None:
        # requests drops only Authorization when a redirect leaves the origin; a
        # custom header would follow, so it is dropped here the same way, and
        # for a target outside the allowlist too.
        from urllib.parse import urljoin

        source = response.request.url or ""
        target = urljoin(source, response.headers.get("location", ""))
        if not same_origin(source, target) or not self.allows(target):
            request.headers.pop(self.settings.header, None)

    def __repr__(self) -> str:
        return (
            f"SecretAuth({self.settings.ref!r}, mode={self.settings.mode!r}, "
            f"header={self.settings.header!r})"
        )


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _rewound(request: PreparedRequest) -> bool:
    """Make ``request``'s body ready to send again; say whether it could be.

    Bytes can; a file requests noted the start of (MLflow uploads artifacts so)
    is seeked back there; a generator or an unseekable stream cannot.
    """
    body: object = request.body
    if body is None or isinstance(body, (bytes, str)):
        return True
    start = getattr(request, "_body_position", None)
    seek = getattr(body, "seek", None)
    if not isinstance(start, int) or seek is None:
        return False
    try:
        seek(start)
    except (OSError, ValueError):  # closed, or a pipe
        return False
    return True


def build_auth(
    environ: Mapping[str, str] | None = None, *, config_path: str | None = None
) -> SecretAuth:
    """Build the auth from the environment: settings, then a client for them.

    :param environ: the variables (default: ``os.environ``)
    :param config_path: a secretkit TOML file to use instead of ``SECRETKIT_*``
    :raises ConfigurationError: naming the variable at fault
    """
    from secretkit.core.sync import SyncSecretClient

    from .config import client_settings, read_settings

    settings = read_settings(environ)
    core = client_settings(settings, environ, config_path=config_path)
    return SecretAuth(SyncSecretClient.from_settings(core), settings)
