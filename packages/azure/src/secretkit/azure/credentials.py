"""The azure-identity (aio) credential for a backend's configured ``credential``.

``default`` is ``DefaultAzureCredential``, which tries environment variables,
workload identity, managed identity, the Azure CLI and others in its own order.
The explicit methods build exactly one credential from the settings. azure-identity
caches tokens and renews them before they expire; they are never logged. The
private ``ca_bundle`` is trusted by the credentials that call Entra ID over HTTP.
"""

from __future__ import annotations

__all__ = ("build_credential", "describe_credential")

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from azure.core.credentials_async import AsyncTokenCredential

    from .config import AzureSettings


def build_credential(settings: AzureSettings) -> AsyncTokenCredential:
    """A new credential for ``settings.credential``; the caller closes it.

    :param settings: the backend's settings
    :return: an azure-identity aio credential
    """
    from azure.identity import aio

    transport: dict[str, Any] = {}
    if settings.ca_bundle:
        transport["connection_verify"] = settings.ca_bundle
    if settings.authority:
        transport["authority"] = settings.authority
    method = settings.credential
    if method == "client_secret":
        assert settings.tenant_id
        assert settings.client_id
        assert settings.client_secret
        return aio.ClientSecretCredential(
            settings.tenant_id, settings.client_id, settings.client_secret, **transport
        )
    if method == "client_certificate":
        assert settings.tenant_id
        assert settings.client_id
        return aio.CertificateCredential(
            settings.tenant_id,
            settings.client_id,
            settings.certificate_path,
            password=settings.certificate_password,
            **transport,
        )
    if method == "workload_identity":
        return aio.WorkloadIdentityCredential(
            tenant_id=settings.tenant_id,
            client_id=settings.client_id,
            token_file_path=settings.token_file,
            **transport,
        )
    transport.pop("authority", None)
    if method == "managed_identity":
        return aio.ManagedIdentityCredential(client_id=settings.client_id, **transport)
    if method == "cli":
        return aio.AzureCliCredential(tenant_id=settings.tenant_id or "")
    if settings.authority:
        transport["authority"] = settings.authority
    if settings.client_id:
        transport["managed_identity_client_id"] = settings.client_id
    return aio.DefaultAzureCredential(**transport)


def describe_credential(
    settings: AzureSettings, credential: AsyncTokenCredential | None = None
) -> str:
    """Which credential is configured (and, once used, which answered); no secret.

    :param settings: the backend's settings
    :param credential: the credential built from them, if any
    :return: ``client_secret (ClientSecretCredential, tenant T, client C)``
    """
    kind = type(credential).__name__ if credential is not None else "not built yet"
    # DefaultAzureCredential remembers the credential that answered last.
    answered = getattr(credential, "_successful_credential", None)
    if answered is not None:
        kind += f" via {type(answered).__name__}"
    facts = [kind]
    if settings.tenant_id:
        facts.append(f"tenant {settings.tenant_id}")
    if settings.client_id:
        facts.append(f"client {settings.client_id}")
    return f"{settings.credential} ({', '.join(facts)})"
