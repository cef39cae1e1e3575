"""One ``azure.keyvault.secrets.aio.SecretClient`` per backend (one vault URL).

Built on first use, on the asyncio loop the backend runs on (the core's private
loop under trio), with a credential whose tokens come from the ``azure`` chains
(see ``_bridge``), and closed with its HTTP transport by ``aclose``. Retries
(which honour ``Retry-After``) and timeouts are the SDK's policies, configured,
not rewritten. azure-core's HTTP logging policy logs headers at INFO with
``Authorization`` redacted and no bodies; we leave network tracing
(``logging_enable``) off.
"""

from __future__ import annotations

__all__ = ("VaultClient",)

from typing import TYPE_CHECKING, Any, final

from secretkit.core.plugins import registry

from ._bridge import ChainTokenCredential

if TYPE_CHECKING:
    from collections.abc import Callable

    from azure.keyvault.secrets.aio import SecretClient

    from secretkit.core.plugins import Registry

    from .config import AzureSettings


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
            if settings.ca_bundle:
                extra["connection_verify"] = settings.ca_bundle
            if settings.api_version:
                extra["api_version"] = settings.api_version
            plugins = registry() if self._plugins is None else self._plugins
            extra_clock = {} if self._clock is None else {"clock": self._clock}
            self.credential = ChainTokenCredential(
                settings, plugins.credential_factories("azure"), **extra_clock
            )
            self._client = SecretClient(
                settings.vault_url,
                self.credential,
                verify_challenge_resource=settings.verify_challenge_resource,
                retry_total=settings.max_retries,
                retry_backoff_factor=settings.retry_backoff_factor,
                retry_backoff_max=settings.retry_backoff_max,
                connection_timeout=settings.connect_timeout,
                read_timeout=settings.read_timeout,
                **extra,
            )
        return self._client

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
