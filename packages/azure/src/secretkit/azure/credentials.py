"""Where the Key Vault backend's tokens come from: the core's chain of providers.

The chain (kind ``azure``) holds azure-identity's aio credentials, each as a
provider of the core's chain, in ``DefaultAzureCredential``'s order:

- ``client_secret`` (order 10): ``tenant_id``, ``client_id``, ``client_secret``
- ``client_certificate`` (20): ``tenant_id``, ``client_id``, ``certificate_path``
- ``workload_identity`` (30): ``tenant_id``, ``client_id``, ``token_file`` (AKS)
- ``managed_identity`` (40): App Service, Functions, Arc, Cloud Shell or IMDS;
  ``client_id`` picks a user-assigned identity
- ``cli`` (50): ``az account get-access-token``

With ``credential = "default"`` every provider whose settings are present joins
(and a plugin's factories of kind ``azure``); an explicit ``credential`` keeps
that provider alone. A provider asks a new azure-identity credential for a token
on each load, so renewal is the chain's alone: ahead of expiry, once for all
callers (see ``_bridge``). Tokens are never logged or shown.
"""

from __future__ import annotations

__all__ = ("AzureToken", "IdentityProvider", "credential_factories", "describe")

import logging
import re
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final, final

from secretkit.core.credentials import CredentialProviderFactory, Credentials
from secretkit.core.errors import CredentialError

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from azure.core.credentials_async import AsyncTokenCredential

    from secretkit.core.options import Options

    from .config import AzureSettings

_log = logging.getLogger(__name__)
# An Entra ID error code is safe to show; the rest of a message may not be.
_AADSTS: Final = re.compile(r"\bAADSTS\d+\b")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AzureToken:
    """An Entra ID access token: the value of the ``azure`` chain.

    A plugin's provider returns ``Credentials[AzureToken]``. Unlike azure-core's
    ``AccessToken``, nothing of the token shows in ``repr``.

    :param token: the bearer token
    :param expires_on: when it expires, in epoch seconds
    """

    token: str = field(repr=False)
    expires_on: int


@final
class IdentityProvider:
    """One azure-identity aio credential, as a provider of the core chain.

    :param name: the method (``client_secret``), for messages
    :param make: builds a new credential; called on each load, no I/O
    :param scope: the scope to ask a token for
    :param optional: part of the default chain: an unavailable credential
        declines (``None``) instead of failing
    :param metadata: non-secret facts (tenant, client id) for the credentials
    """

    __slots__ = ("_make", "metadata", "name", "optional", "scope")

    def __init__(
        self,
        name: str,
        make: Callable[[], AsyncTokenCredential],
        *,
        scope: str,
        optional: bool,
        metadata: Mapping[str, object],
    ) -> None:
        self.name = name
        self._make = make
        self.scope = scope
        self.optional = optional
        self.metadata = metadata

    def __repr__(self) -> str:
        return f"IdentityProvider({self.name!r}, scope={self.scope!r})"

    async def load(self) -> Credentials[AzureToken] | None:
        """Ask a new credential for a token (azure-identity's cache is not used).

        :return: the token, or ``None`` when optional and not available here
        :raises CredentialError: unavailable (explicit method) or refused
        """
        from azure.core.exceptions import ClientAuthenticationError
        from azure.identity import CredentialUnavailableError

        try:
            async with self._make() as credential:
                token = await credential.get_token(self.scope)
        except CredentialUnavailableError as exc:
            if self.optional:
                _log.debug("azure credential %s is not available here", self.name)
                return None
            raise CredentialError(
                f"azure credential {self.name!r} is not available here "
                f"({type(exc).__name__}); check its settings, or use another"
            ) from exc
        except ClientAuthenticationError as exc:
            codes = ", ".join(dict.fromkeys(_AADSTS.findall(str(exc.message or ""))))
            raise CredentialError(
                f"azure credential {self.name!r} was refused "
                f"({type(exc).__name__}{': ' + codes if codes else ''}); check the "
                "tenant, client id and secret, certificate or federation"
            ) from exc
        return Credentials(
            value=AzureToken(token=token.token, expires_on=int(token.expires_on)),
            provider=self.name,
            expires_at=float(token.expires_on),
            metadata=self.metadata,
        )


def credential_factories() -> list[CredentialProviderFactory]:
    """azure-identity's credentials, as factories of the ``azure`` chain.

    The plugin's ``secretkit_register_credential_providers`` hook returns these.
    Each reads the backend's settings as options, plus ``scope``.

    :return: one factory per method, orders 10 to 50
    """
    return [
        CredentialProviderFactory(
            kind="azure", name=name, create=partial(_create, name), order=order
        )
        for name, order in _ORDER.items()
    ]


def describe(settings: AzureSettings, provider: str | None) -> str:
    """Which credential is configured and which answered; no secret.

    :param settings: the backend's settings
    :param provider: the provider that answered last, if any
    :return: ``default (managed_identity answered, tenant T, client C)``
    """
    facts = [f"{provider} answered" if provider else "no token yet"]
    if settings.tenant_id:
        facts.append(f"tenant {settings.tenant_id}")
    if settings.client_id:
        facts.append(f"client {settings.client_id}")
    return f"{settings.credential} ({', '.join(facts)})"


_ORDER: Final = {
    "client_secret": 10,
    "client_certificate": 20,
    "workload_identity": 30,
    "managed_identity": 40,
    "cli": 50,
}
_NEEDS: Final = {
    "client_secret": ("tenant_id", "client_id", "client_secret"),
    "client_certificate": ("tenant_id", "client_id", "certificate_path"),
    "workload_identity": ("tenant_id", "client_id", "token_file"),
}


def _create(method: str, options: Options) -> IdentityProvider | None:
    chosen = options.get_str("credential", "default")
    if chosen not in (method, "default"):
        return None
    found = {
        key: options.get_str(key, None)
        for key in (
            "tenant_id",
            "client_id",
            "client_secret",
            "certificate_path",
            "certificate_password",
            "token_file",
            "authority",
            "ca_bundle",
        )
    }
    if not all(found[key] for key in _NEEDS.get(method, ())):
        return None
    metadata = {
        key: found[key] for key in ("tenant_id", "client_id") if found[key] is not None
    }
    return IdentityProvider(
        method,
        partial(_credential, method, found, optional=chosen == "default"),
        scope=options.get_str("scope"),
        optional=chosen == "default",
        metadata=metadata,
    )


def _credential(
    method: str, found: Mapping[str, str | None], *, optional: bool
) -> AsyncTokenCredential:
    from azure.identity import aio

    extra: dict[str, Any] = {}
    if found["ca_bundle"]:
        extra["connection_verify"] = found["ca_bundle"]
    tenant, client = found["tenant_id"] or "", found["client_id"] or ""
    if method in _NEEDS and found["authority"]:
        extra["authority"] = found["authority"]
    if method == "client_secret":
        return aio.ClientSecretCredential(
            tenant, client, found["client_secret"] or "", **extra
        )
    if method == "client_certificate":
        return aio.CertificateCredential(
            tenant,
            client,
            found["certificate_path"],
            password=found["certificate_password"],
            **extra,
        )
    if method == "workload_identity":
        return aio.WorkloadIdentityCredential(
            tenant_id=tenant,
            client_id=client,
            token_file_path=found["token_file"],
            **extra,
        )
    if method == "managed_identity":
        if optional:
            # As in DefaultAzureCredential: IMDS gets a 1-second probe first, not
            # retries, so a laptop moves on to the CLI at once. (A private
            # keyword of azure-identity; older versions ignore it.)
            extra["_enable_imds_probe"] = True
        return aio.ManagedIdentityCredential(client_id=found["client_id"], **extra)
    return aio.AzureCliCredential(tenant_id=tenant)
