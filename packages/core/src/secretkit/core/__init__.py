"""secretkit: one async API for secrets in AWS, Azure, Vault, files and the environment.

from secretkit.core import SecretClient

backends = {"file": {"path": "secrets.json"}}
async with SecretClient(default="file", backends=backends) as client:
    token = await client.get_value("mlflow/auth", field="token")
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

from . import errors
from .client import SecretClient
from .hookspecs import hookimpl
from .policy import CachePolicy
from .secret import Secret, SecretRef
from .sync import SyncSecretClient


def __getattr__(name: str) -> str:
    if name == "__version__":
        from importlib.metadata import version

        return version("secretkit")
    raise AttributeError(f"module 'secretkit.core' has no attribute {name!r}")
