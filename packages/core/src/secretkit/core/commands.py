"""Subcommands a plugin adds to the ``secretkit`` command.

A plugin returns :class:`Command` objects from ``secretkit_register_commands``; the
command line gives each one a subparser. The plugin fills it in ``configure`` and
sets the handler with ``parser.set_defaults(command=handler)``::

    def configure(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true")
        parser.set_defaults(command=show)

    Command(name="mlflow", help="MLflow auth from a secret", configure=configure)

A handler takes the parsed arguments and returns the exit code; it may be a
coroutine function (run on asyncio) or a plain one (run on the main thread, where a
:class:`~secretkit.core.SyncSecretClient` works). A :class:`~secretkit.core.errors.
SecretkitError` it raises becomes one line on stderr and the documented exit code.
"""

from __future__ import annotations

__all__ = ("Command", "Handler")

from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    import argparse
    from collections.abc import Awaitable, Callable

Handler: TypeAlias = "Callable[[argparse.Namespace], Awaitable[int] | int]"


@dataclass(frozen=True, slots=True, kw_only=True)
class Command:
    """One ``secretkit NAME ...`` subcommand from a plugin.

    :param name: the word after ``secretkit``; the core's own commands win a clash
    :param help: one line for ``secretkit --help``
    :param configure: adds the arguments (or nested subcommands) to the parser and
        sets ``command=`` to a :data:`Handler`
    :param description: the longer text of ``secretkit NAME --help``
    """

    name: str
    help: str
    configure: Callable[[argparse.ArgumentParser], None]
    description: str | None = None
