"""The ``secretkit`` entry point of secretkit-aws: backends ``aws`` and ``aws-ssm``."""

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


def _secrets_manager(options: Options) -> Backend:
    from .backend import SecretsManagerBackend

    return SecretsManagerBackend(read_settings(options), name=options.instance)


def _parameter_store(options: Options) -> Backend:
    from .ssm import ParameterStoreBackend

    return ParameterStoreBackend(read_settings(options), name=options.instance)


@hookimpl
def secretkit_register_backends() -> list[BackendFactory]:
    """The AWS backend types; aiobotocore is asyncio-only, so they declare it."""
    return [
        BackendFactory(
            type="aws",
            aliases=("aws-secrets-manager",),
            create=_secrets_manager,
            runs="asyncio",
            description="AWS Secrets Manager (aioboto3)",
        ),
        BackendFactory(
            type="aws-ssm",
            create=_parameter_store,
            runs="asyncio",
            description="AWS SSM Parameter Store (aioboto3)",
        ),
    ]


@hookimpl
def secretkit_register_credential_providers() -> list[CredentialProviderFactory]:
    """botocore's credential providers, in its order, as the ``aws`` chain."""
    from .credentials import credential_factories

    return credential_factories()
