"""The ``secretkit`` entry point of secretkit-azure: the ``azure`` backend and chain."""

from __future__ import annotations

__all__ = ("secretkit_register_backends", "secretkit_register_credential_providers")

from typing import TYPE_CHECKING

from secretkit.core.backend import BackendFactory
from secretkit.core.hookspecs import hookimpl

from .config import read_settings

if TYPE_CHECKING:
    from secretkit.core.backend import Backend
    from secretkit.core.credentials import CredentialProviderFactory
    from secretkit.core.options import Options


def _key_vault(options: Options) -> Backend:
    from .backend import KeyVaultBackend

    return KeyVaultBackend(read_settings(options), name=options.instance)


@hookimpl
def secretkit_register_backends() -> list[BackendFactory]:
    """The Key Vault backend type; the Azure aio SDK is asyncio-only, so it says so."""
    return [
        BackendFactory(
            type="azure",
            aliases=("azure-key-vault",),
            create=_key_vault,
            runs="asyncio",
            description="Azure Key Vault (azure-keyvault-secrets aio)",
        )
    ]


@hookimpl
def secretkit_register_credential_providers() -> list[CredentialProviderFactory]:
    """azure-identity's credentials, in ``DefaultAzureCredential``'s order."""
    from .credentials import credential_factories

    return credential_factories()
