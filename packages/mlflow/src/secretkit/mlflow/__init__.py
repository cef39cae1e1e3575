"""secretkit for MLflow: request auth from any secretkit backend.

    export MLFLOW_TRACKING_AUTH=secretkit SECRETKIT_MLFLOW_REF=aws://mlflow/auth

MLflow loads :class:`~secretkit.mlflow.provider.SecretkitAuthProvider` from its
``mlflow.request_auth_provider`` entry point. Each public name loads its module on
first use: MLflow imports this package on every client start, so it stays light.
"""

from __future__ import annotations

__all__ = (
    "MlflowSettings",
    "SecretAuth",
    "SecretkitAuthProvider",
    "read_settings",
)

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .auth import SecretAuth
    from .config import MlflowSettings, read_settings
    from .provider import SecretkitAuthProvider

# Where each public name lives; read by __getattr__ on first access.
_HOMES = {
    "MlflowSettings": ".config",
    "SecretAuth": ".auth",
    "SecretkitAuthProvider": ".provider",
    "read_settings": ".config",
}


def __getattr__(name: str) -> object:
    from importlib import import_module

    if name in _HOMES:
        value = getattr(import_module(_HOMES[name], __name__), name)
    elif name == "__version__":
        from importlib.metadata import version

        return version("secretkit-mlflow")
    else:
        raise AttributeError(f"module 'secretkit.mlflow' has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return [*__all__, "__version__"]
