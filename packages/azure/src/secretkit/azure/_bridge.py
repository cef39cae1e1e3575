"""How the ``azure`` chain's tokens reach the Key Vault SDK.

:class:`ChainTokenCredential` is the ``AsyncTokenCredential`` the SDK client is
given. Key Vault's bearer challenge names the scope; the credential keeps one
chain per scope, built from the registered factories on first use. It answers
``get_token_info`` with ``refresh_on`` in the past, so the SDK's policy asks it
before every request, and the chain decides alone: the cached token (a clock
reading), an early renewal by one caller while the others keep the current token
(advisory window), or one renewal everyone waits for and shares (mandatory
window). Nothing in azure-core or azure-identity renews on a clock of its own.
"""

from __future__ import annotations

__all__ = ("ADVISORY", "MANDATORY", "ChainTokenCredential")

import time
from dataclasses import fields
from typing import TYPE_CHECKING, Any, Final, Self, final

from secretkit.core.credentials import build_chain
from secretkit.core.errors import CredentialError
from secretkit.core.options import Options

from .credentials import AzureToken

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from azure.core.credentials import AccessToken, AccessTokenInfo

    from secretkit.core.credentials import CredentialChain, CredentialProviderFactory

    from .config import AzureSettings

# azure-identity renews 5 minutes before expiry; every caller waits from 1.
ADVISORY: Final = 5 * 60
MANDATORY: Final = 60
# Settings the providers read; the rest are the vault's, not the credential's.
_SKIP: Final = frozenset({"names", "check_secret", "max_concurrency"})


@final
class ChainTokenCredential:
    """An ``AsyncTokenCredential`` whose tokens come from ``azure`` chains.

    :param settings: the backend's settings; factories read them as options
    :param factories: the registered factories of kind ``azure``
    :param clock: the time in epoch seconds, for expiry (tests pass their own)
    """

    __slots__ = ("_chains", "_clock", "_factories", "_settings", "provider")

    def __init__(
        self,
        settings: AzureSettings,
        factories: Iterable[CredentialProviderFactory],
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._factories = tuple(factories)
        self._clock = clock
        self._chains: dict[str, CredentialChain[AzureToken]] = {}
        self.provider: str | None = None

    def __repr__(self) -> str:
        return f"ChainTokenCredential(scopes={tuple(self._chains)!r})"

    def chain(self, scope: str) -> CredentialChain[AzureToken]:
        """The chain for ``scope``, built on first use (no I/O).

        :raises ConfigurationError: a factory found the options invalid
        """
        found = self._chains.get(scope)
        if found is None:
            values = {
                f.name: getattr(self._settings, f.name)
                for f in fields(self._settings)
                if f.name not in _SKIP and getattr(self._settings, f.name) is not None
            }
            options = Options(
                {**values, "scope": scope},
                instance="azure",
                source="the Azure backend's settings",
            )
            found = build_chain(
                "azure",
                self._factories,
                options,
                advisory=ADVISORY,
                mandatory=MANDATORY,
                clock=self._clock,
            )
            self._chains[scope] = found
        return found

    async def _token(self, scopes: tuple[str, ...], claims: str | None) -> AzureToken:
        if len(scopes) != 1:
            raise CredentialError(
                f"azure tokens are for one scope at a time, not {len(scopes)}"
            )
        chain = self.chain(scopes[0])
        if claims:
            # A claims challenge (CAE) revokes the current token: get a new one.
            chain.invalidate()
        creds = await chain.get()
        self.provider = creds.provider
        token = creds.value
        if not isinstance(token, AzureToken):  # a plugin returned something else
            raise CredentialError(
                f"azure credential provider {creds.provider!r} returned "
                f"{type(token).__name__}, not AzureToken"
            )
        return token

    async def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        """A token for ``scopes`` (one scope) from its chain.

        The configured tenant is used; ``tenant_id`` is not.

        :raises CredentialError: no provider answered, or one failed
        """
        from azure.core.credentials import AccessToken

        token = await self._token(scopes, claims)
        return AccessToken(token.token, token.expires_on)

    async def get_token_info(
        self, *scopes: str, options: Any = None
    ) -> AccessTokenInfo:
        """A token for ``scopes`` that the SDK asks for again before each request.

        :raises CredentialError: no provider answered, or one failed
        """
        from azure.core.credentials import AccessTokenInfo

        claims = (options or {}).get("claims")
        token = await self._token(scopes, claims)
        # refresh_on in the past: the chain, not the SDK, decides when to renew.
        return AccessTokenInfo(token.token, token.expires_on, refresh_on=1)

    async def close(self) -> None:
        """Nothing to close: providers close their credentials after each load."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
