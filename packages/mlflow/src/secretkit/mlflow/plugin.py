"""The ``secretkit`` entry point of secretkit-mlflow: the ``secretkit mlflow`` command.

Imported whenever secretkit loads its plugins, so it imports nothing heavy: the
command's handlers load what they need when they run.
"""

from __future__ import annotations

__all__ = ("secretkit_register_commands",)

from typing import TYPE_CHECKING

from secretkit.core.commands import Command
from secretkit.core.hookspecs import hookimpl

if TYPE_CHECKING:
    import argparse


def _configure(parser: argparse.ArgumentParser) -> None:
    from ._cli import configure

    configure(parser)


@hookimpl
def secretkit_register_commands() -> list[Command]:
    """``secretkit mlflow info`` and ``secretkit mlflow doctor [--dry-run URL]``."""
    return [
        Command(
            name="mlflow",
            help="MLflow request auth from a secret: info, doctor",
            configure=_configure,
            description="Show the MLflow plugin's effective configuration (info) or "
            "check it end to end (doctor). Never prints a secret value.",
        )
    ]
