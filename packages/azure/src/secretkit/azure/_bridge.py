"""How the ``azure`` chain's tokens reach the Key Vault SDK.

:class:`ChainTokenCredential` is the ``AsyncTokenCredential`` the SDK client is
given. Key Vault's bearer challenge names the scope and the vault's tenant, and
the SDK asks for Continuous Access Evaluation (``enable_cae``); the credential
keeps one chain per scope, tenant and CAE, built from the registered factories on
first use, whose providers pass all three on to azure-identity (which checks the
tenant against ``additionally_allowed_tenants``). A claims challenge (CAE: the
vault revoked the token) drops that chain's token, and the next comes from a
load given the claims (:data:`~.credentials.CLAIMS`). It answers
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

from .credentials import CLAIMS, AzureToken

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from azure.core.credentials import AccessToken, AccessTokenInfo

    from secretkit.core.credentials import CredentialChain, CredentialProviderFactory

    from .config import AzureSettings

# azure-identity renews 5 minutes before expiry; every caller waits from 1.
ADVISORY: Final = 5 * 60
MANDATORY: Final = 60
# One chain per scope, tenant and CAE.
_Key = tuple[str, str | None, bool]
# Settings the providers read; the rest are the vault's, not the credential's.
_SKIP: Final = frozenset({"names", "check_secret", "max_concurrency"})


@final
class ChainTokenCredential:
    """An ``AsyncTokenCredential`` whose tokens come from ``azure`` chains.

    :param settings: the backend's settings; factories read them as options
    :param factories: the registered factories of kind ``azure``
    :param clock: the time in epoch seconds, for expiry (tests pass their own)
    """

    __slots__ = ("_chains", "_clock", "_factories", "_settings", "provider", "tenant")

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
        self._chains: dict[_Key, CredentialChain[AzureToken]] = {}
        self.provider: str | None = None
        self.tenant: str | None = None

    def __repr__(self) -> str:
        scopes = tuple(dict.fromkeys(key[0] for key in self._chains))
        return f"ChainTokenCredential(scopes={scopes!r})"

    def chain(
        self, scope: str, *, tenant: str | None = None, enable_cae: bool = False
    ) -> CredentialChain[AzureToken]:
        """The chain for ``scope``, ``tenant`` and CAE, built on first use (no I/O).

        :param scope: the scope Key Vault's challenge names
        :param tenant: the tenant it names (``None``: the configured one)
        :param enable_cae: whether the tokens are to be CAE tokens
        :raises ConfigurationError: a factory found the options invalid
        """
        key = (scope, tenant, enable_cae)
        found = self._chains.get(key)
        if found is None:
            values = {
                f.name: getattr(self._settings, f.name)
                for f in fields(self._settings)
                if f.name not in _SKIP and getattr(self._settings, f.name) is not None
            }
            asked = {
                "scope": scope,
                "challenge_tenant": tenant,
                "enable_cae": enable_cae,
            }
            options = Options(
                {**values, **asked},
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
            self._chains[key] = found
        return found

    async def _token(
        self,
        scopes: tuple[str, ...],
        *,
        claims: str | None,
        tenant: str | None,
        enable_cae: bool,
    ) -> AzureToken:
        if len(scopes) != 1:
            raise CredentialError(
                f"azure tokens are for one scope at a time, not {len(scopes)}"
            )
        chain = self.chain(scopes[0], tenant=tenant, enable_cae=enable_cae)
        if claims:
            # A claims challenge (CAE) revokes the current token: the next one,
            # loaded with the claims, replaces it for every later request.
            chain.invalidate()
            reset = CLAIMS.set(claims)
            try:
                creds = await chain.get()
            finally:
                CLAIMS.reset(reset)
        else:
            creds = await chain.get()
        self.provider, self.tenant = creds.provider, tenant
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

        :param claims: a claims challenge's claims: a new token is loaded
        :param tenant_id: the tenant to ask for (``None``: the configured one)
        :param enable_cae: whether to ask for a CAE token
        :raises CredentialError: no provider answered, or one failed
        """
        from azure.core.credentials import AccessToken

        token = await self._token(
            scopes, claims=claims, tenant=tenant_id, enable_cae=enable_cae
        )
        return AccessToken(token.token, token.expires_on)

    async def get_token_info(
        self, *scopes: str, options: Any = None
    ) -> AccessTokenInfo:
        """A token for ``scopes`` that the SDK asks for again before each request.

        :param options: ``claims``, ``tenant_id`` and ``enable_cae``, as for
            :meth:`get_token`
        :raises CredentialError: no provider answered, or one failed
        """
        from azure.core.credentials import AccessTokenInfo

        asked = options or {}
        token = await self._token(
            scopes,
            claims=asked.get("claims"),
            tenant=asked.get("tenant_id"),
            enable_cae=bool(asked.get("enable_cae", False)),
        )
        # refresh_on in the past: the chain, not the SDK, decides when to renew.
        return AccessTokenInfo(token.token, token.expires_on, refresh_on=1)

    async def close(self) -> None:
        """Nothing to close: providers close their credentials after each load."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()
