"""The ``secretkit`` entry point of secretkit-vault: backend ``vault`` (``openbao``)."""

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


def _vault(options: Options) -> Backend:
    from .backend import VaultBackend

    return VaultBackend(read_settings(options), name=options.instance)


@hookimpl
def secretkit_register_backends() -> list[BackendFactory]:
    """The Vault backend type; hvac is blocking, so it runs in worker threads."""
    return [
        BackendFactory(
            type="vault",
            aliases=("openbao",),
            create=_vault,
            runs="blocking",
            description="HashiCorp Vault / OpenBao (hvac)",
        )
    ]


@hookimpl
def secretkit_register_credential_providers() -> list[CredentialProviderFactory]:
    """The token providers of the ``vault`` chain."""
    from .credentials import credential_factories

    return credential_factories()
