"""Where the Key Vault backend's tokens come from: the core's chain of providers.

The chain (kind ``azure``) holds azure-identity's aio credentials, each as a
provider of the core's chain, in ``DefaultAzureCredential``'s order:

- ``client_secret`` (order 10): ``tenant_id``, ``client_id``, ``client_secret``
- ``client_certificate`` (20): ``tenant_id``, ``client_id``, ``certificate_path``
- ``workload_identity`` (30): ``tenant_id``, ``client_id``, ``token_file`` (AKS)
- ``managed_identity`` (40): App Service, Functions, Arc, Cloud Shell or IMDS;
  ``client_id`` picks a user-assigned identity
- ``cli`` (50): ``az account get-access-token``
- ``powershell`` (60): Azure PowerShell's ``Get-AzAccessToken``, through ``pwsh``
- ``developer_cli`` (70): ``azd auth token``

With ``credential = "default"`` every provider whose settings are present joins
(and a plugin's factories of kind ``azure``); an explicit ``credential`` keeps
that provider alone. A provider asks a new azure-identity credential for a token
on each load, so renewal is the chain's alone: ahead of expiry, once for all
callers (see ``_bridge``). Tokens are never logged or shown.

Each factory reads the backend's settings as options, plus what Key Vault's
challenge asks for: ``scope``, ``challenge_tenant`` (the vault's tenant, when it
names one) and ``enable_cae``. A provider passes them on, with the claims of a
claims challenge (:data:`CLAIMS`), so a vault in another tenant (allowed by
``additionally_allowed_tenants``) and Continuous Access Evaluation work as with
the SDK's own credentials.
"""

from __future__ import annotations

__all__ = (
    "CLAIMS",
    "AzureToken",
    "IdentityProvider",
    "credential_factories",
    "describe",
)

import logging
import re
from contextvars import ContextVar
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

CLAIMS: ContextVar[str | None] = ContextVar("secretkit_azure_claims", default=None)
"""The claims of the claims challenge a load answers (``_bridge`` sets it)."""


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
    :param tenant: the tenant Key Vault's challenge names, passed as ``tenant_id``
    :param enable_cae: ask for a token that Key Vault may revoke by a claims
        challenge (Continuous Access Evaluation), as the SDK does
    :param optional: part of the default chain: an unavailable credential
        declines (``None``) instead of failing
    :param metadata: non-secret facts (tenant, client id) for the credentials
    """

    __slots__ = (
        "_make",
        "enable_cae",
        "metadata",
        "name",
        "optional",
        "scope",
        "tenant",
    )

    def __init__(
        self,
        name: str,
        make: Callable[[], AsyncTokenCredential],
        *,
        scope: str,
        tenant: str | None = None,
        enable_cae: bool = False,
        optional: bool,
        metadata: Mapping[str, object],
    ) -> None:
        self.name = name
        self._make = make
        self.scope = scope
        self.tenant = tenant
        self.enable_cae = enable_cae
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

        asked: dict[str, Any] = {}
        if self.tenant:
            asked["tenant_id"] = self.tenant
        if self.enable_cae:
            asked["enable_cae"] = True
        claims = CLAIMS.get()
        if claims:
            asked["claims"] = claims
        try:
            async with self._make() as credential:
                token = await credential.get_token(self.scope, **asked)
        except CredentialUnavailableError as exc:
            if self.optional:
                _log.debug("azure credential %s is not available here", self.name)
                return None
            raise CredentialError(self._unavailable(exc, claims)) from exc
        except ClientAuthenticationError as exc:
            raise CredentialError(self._refused(exc)) from exc
        return Credentials(
            value=AzureToken(token=token.token, expires_on=int(token.expires_on)),
            provider=self.name,
            expires_at=float(token.expires_on),
            metadata=self.metadata,
        )

    def _unavailable(self, exc: Exception, claims: str | None) -> str:
        said = f"azure credential {self.name!r}"
        if claims:
            return (
                f"{said} cannot answer Key Vault's claims challenge "
                f"({type(exc).__name__}); sign in again, or use another credential"
            )
        hint = _SIGN_IN.get(self.name, "check its settings, or use another")
        return f"{said} is not available here ({type(exc).__name__}); {hint}"

    def _refused(self, exc: Any) -> str:
        text = str(exc.message or "")
        codes = ", ".join(dict.fromkeys(_AADSTS.findall(text)))
        said = f"azure credential {self.name!r} was refused ({type(exc).__name__}"
        said += f": {codes})" if codes else ")"
        configured = self.metadata.get("tenant_id")
        if self.tenant and configured and self.tenant != configured:
            return (
                f"{said}; the vault is in tenant {self.tenant}, not {configured}: "
                "add it to additionally_allowed_tenants if that is intended"
            )
        return f"{said}; check the tenant, client id and secret, certificate or sign-in"


def credential_factories() -> list[CredentialProviderFactory]:
    """azure-identity's credentials, as factories of the ``azure`` chain.

    The plugin's ``secretkit_register_credential_providers`` hook returns these.
    Each reads the backend's settings as options, plus ``scope``,
    ``challenge_tenant`` and ``enable_cae``.

    :return: one factory per method, orders 10 to 70
    """
    return [
        CredentialProviderFactory(
            kind="azure", name=name, create=partial(_create, name), order=order
        )
        for name, order in _ORDER.items()
    ]


def describe(
    settings: AzureSettings, provider: str | None, tenant: str | None = None
) -> str:
    """Which credential is configured and which answered; no secret.

    :param settings: the backend's settings
    :param provider: the provider that answered last, if any
    :param tenant: the tenant the last token was asked for, if Key Vault named one
    :return: ``default (cli answered: AzureCliCredential, tenant T, client C)``
    """
    if provider:
        kind = _CLASSES.get(provider)
        facts = [f"{provider} answered" + (f": {kind}" if kind else "")]
    else:
        facts = ["no token yet"]
    tenant = tenant or settings.tenant_id
    if tenant:
        facts.append(f"tenant {tenant}")
    if settings.client_id:
        facts.append(f"client {settings.client_id}")
    return f"{settings.credential} ({', '.join(facts)})"


_ORDER: Final = {
    "client_secret": 10,
    "client_certificate": 20,
    "workload_identity": 30,
    "managed_identity": 40,
    "cli": 50,
    "powershell": 60,
    "developer_cli": 70,
}
_CLASSES: Final = {
    "client_secret": "ClientSecretCredential",
    "client_certificate": "CertificateCredential",
    "workload_identity": "WorkloadIdentityCredential",
    "managed_identity": "ManagedIdentityCredential",
    "cli": "AzureCliCredential",
    "powershell": "AzurePowerShellCredential",
    "developer_cli": "AzureDeveloperCliCredential",
}
_NEEDS: Final = {
    "client_secret": ("tenant_id", "client_id", "client_secret"),
    "client_certificate": ("tenant_id", "client_id", "certificate_path"),
    "workload_identity": ("tenant_id", "client_id", "token_file"),
}
# The developer tools' own words for "not signed in", as a next step.
_SIGN_IN: Final = {
    "cli": "run 'az login', or use another credential",
    "powershell": "run Connect-AzAccount in pwsh, or use another credential",
    "developer_cli": "run 'azd auth login', or use another credential",
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
    allowed = tuple(options.get_str_list("additionally_allowed_tenants", []))
    metadata = {
        key: found[key] for key in ("tenant_id", "client_id") if found[key] is not None
    }
    return IdentityProvider(
        method,
        partial(_credential, method, found, allowed, optional=chosen == "default"),
        scope=options.get_str("scope"),
        tenant=options.get_str("challenge_tenant", None),
        enable_cae=options.get_bool("enable_cae", False),
        optional=chosen == "default",
        metadata=metadata,
    )


def _credential(
    method: str,
    found: Mapping[str, str | None],
    allowed: tuple[str, ...],
    *,
    optional: bool,
) -> AsyncTokenCredential:
    from azure.identity import aio

    extra: dict[str, Any] = {}
    if found["ca_bundle"]:
        extra["connection_verify"] = found["ca_bundle"]
    tenant, client = found["tenant_id"] or "", found["client_id"] or ""
    if method in _NEEDS and found["authority"]:
        extra["authority"] = found["authority"]
    if method == "managed_identity":
        if optional:
            # As in DefaultAzureCredential: IMDS gets a 1-second probe first, not
            # retries, so a laptop moves on to the CLI at once. (A private
            # keyword of azure-identity; older versions ignore it.)
            extra["_enable_imds_probe"] = True
        # A managed identity has one tenant: tenant_id is ignored, not checked.
        return aio.ManagedIdentityCredential(client_id=found["client_id"], **extra)
    tenants: dict[str, Any] = {"additionally_allowed_tenants": list(allowed)}
    if method == "client_secret":
        return aio.ClientSecretCredential(
            tenant, client, found["client_secret"] or "", **tenants, **extra
        )
    if method == "client_certificate":
        return aio.CertificateCredential(
            tenant,
            client,
            found["certificate_path"],
            password=found["certificate_password"],
            **tenants,
            **extra,
        )
    if method == "workload_identity":
        return aio.WorkloadIdentityCredential(
            tenant_id=tenant,
            client_id=client,
            token_file_path=found["token_file"],
            **tenants,
            **extra,
        )
    others = list(allowed)
    if method == "powershell":
        return aio.AzurePowerShellCredential(
            tenant_id=tenant, additionally_allowed_tenants=others
        )
    if method == "developer_cli":
        return aio.AzureDeveloperCliCredential(
            tenant_id=tenant, additionally_allowed_tenants=others
        )
    return aio.AzureCliCredential(tenant_id=tenant, additionally_allowed_tenants=others)
