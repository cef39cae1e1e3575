"""``secretkit verify``: is every secret the manifest names there, and as expected?

Part of the ``secretkit`` command (:mod:`secretkit.core.cli`), not a public API.
Every entry is fetched (concurrently, through one client's cache) and checked; a
table of name, backend, version, age and status goes to stdout, never a value.

Exit codes: 0 when every secret is ok; 1 when any is missing, denied,
unavailable, failed an expectation or hit another error (the table says which);
2 when the manifest or the configuration is invalid, so nothing was fetched;
130 when interrupted. One code for "something failed" keeps CI scripts simple;
``--json`` gives the details.
"""

from __future__ import annotations

__all__ = ("add_parser", "verify")

import argparse
import sys
from typing import TYPE_CHECKING, Any, Final

from . import _cli_manifest
from ._cli_read import open_client, print_json

if TYPE_CHECKING:
    from ._cli_manifest import Outcome

_EPILOG: Final = """\
example:
  secretkit verify --manifest deploy/secretkit-manifest.toml
  secretkit verify --json > verify.json    # for CI

status: ok, missing, denied (no permission or credentials), unavailable
(network, throttling, timeout), failed (an expectation: fields, min_length,
max_age), error (anything else; the detail says what).

exit codes:
  0    every secret is ok
  1    at least one secret is not ok
  2    the manifest or configuration is invalid; nothing was fetched
  130  interrupted"""
_HEADINGS: Final = ("NAME", "BACKEND", "VERSION", "AGE", "STATUS")


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``verify`` to the ``secretkit`` parser."""
    parser = commands.add_parser(
        "verify",
        help="check every secret the manifest names (never values)",
        description="Fetch every secret the manifest names and check its "
        "expectations; print name, backend, version, age and status.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _cli_manifest.add_arguments(parser)
    parser.add_argument(
        "--json", action="store_true", help="print a JSON report instead of a table"
    )
    parser.set_defaults(command=verify)


async def verify(args: argparse.Namespace) -> int:
    """Fetch and check every manifest entry; print the report.

    :return: 0 when all are ok, else 1
    :raises ConfigurationError: the manifest or configuration is invalid
    """
    manifest = _cli_manifest.load(args)
    async with open_client(args) as client:
        _cli_manifest.check_backends(client, manifest.entries, manifest.path)
        outcomes = await _cli_manifest.fetch(
            client, manifest.entries, within=args.timeout, ages=True
        )
    failed = sum(outcome.status != "ok" for outcome in outcomes)
    if args.json:
        print_json(
            {
                "manifest": str(manifest.path),
                "ok": not failed,
                "secrets": [_as_json(outcome) for outcome in outcomes],
            }
        )
    else:
        _print_table([_row(outcome) for outcome in outcomes])
    if failed:
        print(
            f"secretkit: verify: {failed} of {len(outcomes)} secrets not ok",
            file=sys.stderr,
        )
        return 1
    return 0


def _row(outcome: Outcome) -> tuple[str, ...]:
    secret = outcome.secret
    status = outcome.status
    if outcome.detail is not None:
        status = f"{status}: {outcome.detail}"
    return (
        outcome.entry.name,
        outcome.backend,
        (secret.version if secret is not None else None) or "-",
        _cli_manifest.format_age(outcome.age),
        status,
    )


def _print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [
        max(len(row[column]) for row in [_HEADINGS, *rows])
        for column in range(len(_HEADINGS) - 1)
    ]
    for row in [_HEADINGS, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, row[-1]]))


def _as_json(outcome: Outcome) -> dict[str, object]:
    secret = outcome.secret
    return {
        "name": outcome.entry.name,
        "ref": str(outcome.entry.ref),
        "backend": outcome.backend,
        "version": secret.version if secret is not None else None,
        "created": secret.created if secret is not None else None,
        "age_seconds": (
            None if outcome.age is None else round(outcome.age.total_seconds(), 3)
        ),
        "status": outcome.status,
        "detail": outcome.detail,
    }
