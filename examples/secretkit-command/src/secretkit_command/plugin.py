"""The plugin: registers the ``command`` backend type with secretkit.

This module is the target of the distribution's entry point::

    [project.entry-points.secretkit]
    command = "secretkit_command.plugin"

secretkit loads it on first need and calls its ``secretkit_register_backends``.
It stays cheap to import: the backend module imports nothing heavy.
"""

from __future__ import annotations

__all__ = ("secretkit_register_backends",)

from typing import TYPE_CHECKING

from secretkit.core.backend import BackendFactory
from secretkit.core.hookspecs import hookimpl

from .backend import PLACEHOLDER, CommandBackend

if TYPE_CHECKING:
    from secretkit.core.backend import Backend
    from secretkit.core.options import Options


@hookimpl
def secretkit_register_backends() -> list[BackendFactory]:
    """Return the factory of the ``command`` backend type.

    :return: one factory; the backend runs natively on anyio
    """
    return [
        BackendFactory(
            type="command",
            create=_create,
            runs="anyio",
            description="runs a command per secret: pass, op read, vault kv get",
        )
    ]


def _create(options: Options) -> Backend:
    """Build a backend from ``argv``, ``timeout``, ``strip`` and ``env``.

    :raises ConfigurationError: a missing or malformed option, or an unknown one
    """
    argv = options.get_str_list("argv")
    timeout = options.get_float("timeout", 10.0)
    strip = options.get_bool("strip", True)
    env = options.get_mapping("env", {})
    options.done()
    if not argv or not argv[0]:
        raise options.error("argv", "needs a program, then its arguments")
    if PLACEHOLDER in argv[0]:
        raise options.error("argv", f"the program itself cannot hold {PLACEHOLDER}")
    if not any(PLACEHOLDER in arg for arg in argv[1:]):
        raise options.error(
            "argv", f"no argument holds {PLACEHOLDER}, where the secret name goes"
        )
    if not timeout > 0:
        raise options.error("timeout", "must be a positive number of seconds")
    variables: dict[str, str] = {}
    for key, value in env.items():
        if not key or "=" in key or "\0" in key:
            raise options.error("env", f"{key!r} is not an environment variable name")
        if not isinstance(value, str) or "\0" in value:
            raise options.error(f"env.{key}", "expected text without NUL characters")
        variables[key] = value
    return CommandBackend(
        argv, timeout=timeout, strip=strip, env=variables, name=options.instance
    )
