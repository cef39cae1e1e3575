"""The ``env`` backend: secrets in the process's environment variables.

A secret name maps to a variable by :func:`variable_name`: upper-case the name, turn
every character outside ``[A-Za-z0-9]`` into ``_``, then prepend the backend's
``prefix``. So ``mlflow/auth`` reads ``MLFLOW_AUTH``, or ``APP_MLFLOW_AUTH`` with
``prefix = "APP_"``. The environment is read at every fetch, so changes show.
"""

from __future__ import annotations

__all__ = ("EnvBackend", "variable_name")

import os
import re
from typing import TYPE_CHECKING, final

from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import SecretNotFound

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from secretkit.core.secret import SecretRef

_OUTSIDE = re.compile(r"[^A-Za-z0-9]")
_READABLE = re.compile(r"[A-Z0-9_]+")


def variable_name(name: str, *, prefix: str = "") -> str:
    """Map a secret name to the environment variable that holds it.

    ``mlflow/auth`` becomes ``MLFLOW_AUTH``; with ``prefix="APP_"``,
    ``APP_MLFLOW_AUTH``. Different names can map to one variable (``a-b`` and
    ``a/b``); that is the price of a readable convention.

    :param name: the secret name
    :param prefix: prepended as given, after the mapping
    :return: the variable name
    """
    return prefix + _OUTSIDE.sub("_", name.upper())


@final
class EnvBackend(Backend):
    """Read-only secrets from environment variables, named by :func:`variable_name`.

    Values are text and have no versions or stages; ``put`` and ``delete`` raise
    ``NotSupported``.

    :param prefix: prepended to every mapped variable name (``APP_``)
    :param name: the instance name this backend is configured under
    """

    def __init__(self, prefix: str = "", *, name: str = "env") -> None:
        self.name = name
        self._prefix = prefix

    def __repr__(self) -> str:
        return f"EnvBackend({self.name!r}, prefix={self._prefix!r})"

    async def fetch(self, ref: SecretRef) -> SecretValue:
        """Return the value of the variable ``ref.name`` maps to, read now.

        :param ref: the secret reference; its field is the core's business
        :return: the value, without a version
        :raises SecretNotFound: the variable is not set, or a version or stage was
            asked for (the environment keeps neither)
        """
        variable = variable_name(ref.name, prefix=self._prefix)
        if ref.version is not None or ref.stage is not None:
            raise SecretNotFound(
                f"secret {ref.name!r} (environment variable {variable}) has no "
                "versions or stages; drop ?version= and ?stage=",
                ref=ref.name,
                backend=self.name,
            )
        value = os.environ.get(variable)
        if value is None:
            raise SecretNotFound(
                f"secret {ref.name!r} not found: environment variable {variable} "
                "is not set",
                ref=ref.name,
                backend=self.name,
            )
        return SecretValue(value=value)

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        """Yield, sorted, the variables under ``prefix`` as names this backend reads.

        ``prefix`` is mapped like a name (``db/`` looks for ``DB_``) and the
        backend's own prefix is stripped from what is yielded. Only variables that
        a fetch can read back (upper-case letters, digits, ``_``) are listed, so
        every yielded name fetches its variable.

        :param prefix: a secret-name prefix
        """
        start = variable_name(prefix, prefix=self._prefix)
        for variable in sorted(os.environ):
            rest = variable[len(self._prefix) :]
            if variable.startswith(start) and _READABLE.fullmatch(rest):
                yield rest

    async def check(self) -> str:
        """Return which environment this backend reads; it cannot fail.

        :return: ``environment of process <pid>``, with the prefix when set
        """
        where = f"environment of process {os.getpid()}"
        return f"{where} (prefix {self._prefix})" if self._prefix else where
