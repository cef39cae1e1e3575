"""One ``azure.keyvault.secrets.aio.SecretClient`` per backend (one vault URL).

Built on first use, on the asyncio loop the backend runs on (the core's private
loop under trio), with a credential whose tokens come from the ``azure`` chains
(see ``_bridge``), and closed with its HTTP transport by ``aclose``. Retries
(which honour ``Retry-After``) and timeouts are the SDK's policies, configured,
not rewritten. azure-core's HTTP logging policy logs headers at INFO with
``Authorization`` redacted and no bodies; we leave network tracing
(``logging_enable``) off.

Reads (:meth:`VaultClient.read`) go through the client's ``send_request``: the
same pipeline as ``get_secret`` (its retry, redirect, challenge, bearer token,
logging and tracing policies) and the exceptions ``get_secret`` raises for each
status, but the answer stays Key Vault's JSON. Building the request through the
generated operation, decoding a ``SecretBundle`` into the SDK's models and
reading attributes back out (each decoded again on every access) took about a
quarter of a read's client CPU (``benchmarks/bench_azure.py``).

The client gets a transport of ours, because azure-core's own spends most of a
read's client time on set-up it repeats per request. Given ``connection_verify=
<ca_bundle>`` it builds a new ``SSLContext`` for each, and aiohttp pools
connections per context, so every read opened a connection and paid a TLS
handshake. Its session also trusts the environment (``trust_env``), which sends
two lookups per request to worker threads: the proxy variables and ``~/.netrc``.
Ours makes one TLS context, keeps one pool of ``max_concurrency`` connections,
and reads the proxy variables (``HTTPS_PROXY``, ``NO_PROXY``) once, when the
client is built, giving the SDK's proxy policy what applies to the vault. A
``.netrc`` entry is not used: Key Vault takes bearer tokens only.
"""

from __future__ import annotations

__all__ = ("VaultClient",)

from typing import TYPE_CHECKING, Any, Final, NoReturn, final

from secretkit.core.plugins import registry

from ._bridge import ChainTokenCredential

if TYPE_CHECKING:
    from collections.abc import Callable

    from azure.core.pipeline.transport import AioHttpTransport
    from azure.core.rest import AsyncHttpResponse
    from azure.keyvault.secrets.aio import SecretClient

    from secretkit.core.plugins import Registry

    from .config import AzureSettings

_HEADERS: Final = {"Accept": "application/json"}


@final
class VaultClient:
    """The SDK client and credential of one backend instance.

    :param settings: the instance's settings
    :param clock: the time in epoch seconds, for token expiry (default: the
        system clock)
    :param plugins: the registry whose ``azure`` factories make the chains
        (default: the installed plugins)
    """

    __slots__ = ("_client", "_clock", "_plugins", "credential", "settings")

    def __init__(
        self,
        settings: AzureSettings,
        *,
        clock: Callable[[], float] | None = None,
        plugins: Registry | None = None,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._plugins = plugins
        self.credential: ChainTokenCredential | None = None
        self._client: SecretClient | None = None

    def get(self) -> SecretClient:
        """The SDK client, built on first use (no I/O)."""
        if self._client is None:
            from azure.keyvault.secrets.aio import SecretClient

            settings = self.settings
            extra: dict[str, Any] = {}
            if settings.api_version:
                extra["api_version"] = settings.api_version
            plugins = registry() if self._plugins is None else self._plugins
            extra_clock = {} if self._clock is None else {"clock": self._clock}
            self.credential = ChainTokenCredential(
                settings, plugins.credential_factories("azure"), **extra_clock
            )
            proxies = _env_proxies(settings.vault_url)
            if proxies:
                extra["proxies"] = proxies
            self._client = SecretClient(
                settings.vault_url,
                self.credential,
                verify_challenge_resource=settings.verify_challenge_resource,
                retry_total=settings.max_retries,
                retry_backoff_factor=settings.retry_backoff_factor,
                retry_backoff_max=settings.retry_backoff_max,
                transport=_transport(settings),
                **extra,
            )
        return self._client

    async def read(self, name: str, version: str | None) -> dict[str, Any]:
        """One version of a secret (the newest without ``version``): Key Vault's JSON.

        :param name: the Key Vault name
        :param version: a version id, or ``None`` for the current one
        :return: the ``SecretBundle`` object: ``value``, ``id``, ``attributes``...
        :raises HttpResponseError: what ``get_secret`` raises for that answer
            (``ResourceNotFoundError`` for a 404...); and the pipeline's own
            errors (``ServiceRequestError``, ``ClientAuthenticationError``...)
        """
        from urllib.parse import quote

        from azure.core.rest import HttpRequest

        url = f"/secrets/{quote(name, safe='')}/{quote(version or '', safe='')}"
        request = HttpRequest("GET", url, headers=_HEADERS)
        response = await self.get().send_request(request)
        if response.status_code != 200:
            _raise_for(response)
        bundle = response.json()
        if not isinstance(bundle, dict):
            from azure.core.exceptions import DecodeError

            raise DecodeError("Key Vault's answer is not a JSON object")
        return bundle

    async def aclose(self) -> None:
        """Close the client (its transport) and the credential."""
        client, self._client = self._client, None
        credential, self.credential = self.credential, None
        try:
            if client is not None:
                await client.close()
        finally:
            if credential is not None:
                await credential.close()


def _raise_for(response: AsyncHttpResponse) -> NoReturn:
    """Raise for a failed read what the SDK's ``get_secret`` raises for it."""
    from azure.core import exceptions as az

    by_status: dict[int, type[az.HttpResponseError]] = {
        304: az.ResourceNotModifiedError,
        401: az.ClientAuthenticationError,
        404: az.ResourceNotFoundError,
        409: az.ResourceExistsError,
    }
    raise by_status.get(response.status_code, az.HttpResponseError)(response=response)


def _transport(settings: AzureSettings) -> AioHttpTransport:
    """An aiohttp transport with one TLS context and a pool of ``max_concurrency``.

    Called on the loop the SDK runs on: aiohttp binds its session to it.
    """
    import ssl

    import aiohttp
    from azure.core.pipeline.transport import AioHttpTransport

    context: ssl.SSLContext | bool = True  # aiohttp's own default context
    if settings.ca_bundle:
        # Reads a small PEM file once per backend, as azure-core did per request.
        context = ssl.create_default_context(cafile=settings.ca_bundle)
    # As azure-core's own session, but for trust_env: no cookies, and bodies
    # left compressed for its response type to decode.
    session = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(ssl=context, limit=settings.max_concurrency),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
    )
    return AioHttpTransport(
        session=session,
        session_owner=True,
        connection_timeout=settings.connect_timeout,
        read_timeout=settings.read_timeout,
    )


def _env_proxies(url: str) -> dict[str, str] | None:
    """The environment's proxy for ``url`` as azure-core's ``proxies``, or ``None``.

    ``HTTPS_PROXY`` (any case), unless ``NO_PROXY`` names the host.
    """
    import urllib.request
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname or ""
    proxy = urllib.request.getproxies().get("https")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return {"https": proxy}
