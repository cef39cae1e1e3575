"""The MLflow request-auth provider ``secretkit``: ``MLFLOW_TRACKING_AUTH=secretkit``.

MLflow finds :class:`SecretkitAuthProvider` through the entry point group
``mlflow.request_auth_provider`` and calls ``get_auth()`` before every request.
The first call reads the configuration (see ``secretkit.mlflow.config``) and
builds one :class:`~secretkit.mlflow.auth.SecretAuth` for the process; later calls
return it. Nothing but MLflow's abstract base is imported with this module.
"""

from __future__ import annotations

__all__ = ("NAME", "SecretkitAuthProvider", "reset", "shared_auth")

import logging
import threading
from typing import TYPE_CHECKING, Final

from mlflow.tracking.request_auth.abstract_request_auth_provider import (
    RequestAuthProvider,
)

if TYPE_CHECKING:
    from .auth import SecretAuth

NAME: Final = "secretkit"

_lock = threading.Lock()
_auth: SecretAuth | None = None


class SecretkitAuthProvider(RequestAuthProvider):
    """MLflow request auth from a secretkit secret (``MLFLOW_TRACKING_AUTH``)."""

    def get_name(self) -> str:
        """The name ``MLFLOW_TRACKING_AUTH`` selects this provider by."""
        return NAME

    def get_auth(self) -> SecretAuth:
        """The process's auth object, built from the environment on first call.

        :raises ConfigurationError: the configuration is missing or invalid (asked
            again on the next call)
        """
        return shared_auth()


def shared_auth() -> SecretAuth:
    """Return the process-wide auth, building it on first call.

    :raises ConfigurationError: naming the variable at fault
    """
    auth = _auth
    if auth is not None:
        return auth
    return _build()


def _build() -> SecretAuth:
    global _auth
    with _lock:
        if _auth is None:
            from .auth import build_auth

            auth = build_auth()
            level = auth.settings.log_level
            if level is not None:
                # Only our own logger: handlers and propagation stay the app's.
                logging.getLogger("secretkit.mlflow").setLevel(level)
            _auth = auth
        return _auth


def reset() -> None:
    """Close the process-wide auth's client and forget it; the next request reads
    the configuration again (for tests, and after changing the environment)."""
    global _auth
    with _lock:
        auth, _auth = _auth, None
    if auth is not None:
        auth.client.close()
