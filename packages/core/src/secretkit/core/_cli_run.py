"""``secretkit run``: (being written for issue 8).

Part of the ``secretkit`` command (:mod:`secretkit.core.cli`), not a public API.
"""

from __future__ import annotations

__all__ = ("add_parser",)

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import argparse


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Add this module's subcommands to the ``secretkit`` parser."""
