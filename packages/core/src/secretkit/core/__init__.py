"""secretkit: one async API for secrets in AWS, Azure, Vault, files and the environment.

from secretkit.core import SecretClient

backends = {"file": {"path": "secrets.json"}}
async with SecretClient(default="file", backends=backends) as client:
    token = await client.get_value("mlflow/auth", field="token")

Each public name loads its module on first use, so ``import secretkit.core`` costs
little more than anyio and pluggy, and a program pays only for the paths it takes.
"""

from __future__ import annotations

__all__ = (
    "CachePolicy",
    "Secret",
    "SecretClient",
    "SecretRef",
    "SyncSecretClient",
    "errors",
    "hookimpl",
)

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from . import errors
    from .client import SecretClient
    from .hookspecs import hookimpl
    from .policy import CachePolicy
    from .secret import Secret, SecretRef
    from .sync import SyncSecretClient

# Where each public name lives; read by __getattr__ on first access.
_HOMES = {
    "CachePolicy": ".policy",
    "Secret": ".secret",
    "SecretClient": ".client",
    "SecretRef": ".secret",
    "SyncSecretClient": ".sync",
    "hookimpl": ".hookspecs",
}


def __getattr__(name: str) -> object:
    from importlib import import_module

    if name == "errors":
        value: object = import_module(".errors", __name__)
    elif name in _HOMES:
        value = getattr(import_module(_HOMES[name], __name__), name)
    elif name == "__version__":
        from importlib.metadata import version

        return version("secretkit")
    else:
        raise AttributeError(f"module 'secretkit.core' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return [*__all__, "__version__"]
