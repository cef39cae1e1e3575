"""``secretkit copy`` and ``secretkit sync``: copy secrets from backend to backend.

Part of the ``secretkit`` command (:mod:`secretkit.core.cli`), not a public API;
:mod:`secretkit.core.transfer` does the work. Both print a table of every secret
(status, source, destination, detail) and a summary line, or ``--json``; never a
value. A rerun finishes what a failed run left undone: unchanged secrets are
compared, not written again.

Exit codes:

=== ===========================================================================
0   every secret is in place: created, updated or unchanged (with ``--dry-run``:
    the plan has no conflict and nothing unreadable)
1-5 a secret could not be read or written: the code of the first such error,
    by the table in :mod:`secretkit.core.cli` (3 a source is missing, 4 denied,
    5 a backend unavailable...); the one-line error says how many failed
6   conflicts only: a destination holds a different value and ``--overwrite``
    was not given; nothing was overwritten
130 interrupted
=== ===========================================================================
"""

from __future__ import annotations

__all__ = ("add_parser", "copy", "sync")

import argparse
import logging
import sys
from typing import TYPE_CHECKING, Any, Final

from . import _cli_manifest, errors, transfer
from ._cli_read import error_line, open_client, print_json
from .secret import SecretRef

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from .client import SecretClient

_log = logging.getLogger(__name__)
_CONFLICT: Final = 6
_PROGRESS_FROM: Final = 20  # writes; fewer finish before a counter is worth showing
_HEADINGS: Final = ("STATUS", "SOURCE", "DESTINATION", "DETAIL")
_DONE: Final = {"create": "created", "update": "updated"}
_SKIPPED: Final = {"skip": "skipped"}
_CODES: Final = """\
exit codes:
  0    every secret is in place (created, updated or unchanged); with
       --dry-run: the plan has no conflict and nothing unreadable
  1-5  a secret could not be read or written: the code of its error, as for
       get (3 missing, 4 denied, 5 unavailable...); run again to finish
  6    conflicts: a destination holds a different value (use --overwrite)
  130  interrupted"""
_COPY_EPILOG: Final = f"""\
examples:
  secretkit copy file://app/db aws://app/db
  secretkit copy --prefix vault://secret/app/ aws://app/ --dry-run
  secretkit copy --prefix aws://app/ azure://app/ --overwrite --json

Values are compared without being shown: an equal value is not written again,
a different one is replaced only with --overwrite. Description, tags and content
type go along where the destination keeps them. Azure Key Vault maps names
itself (app/db is app-db there).

{_CODES}"""
_SYNC_EPILOG: Final = f"""\
example:
  secretkit sync --manifest deploy/secretkit-manifest.toml --to aws --dry-run

Each entry's whole secret (its reference without #field and ?version=) goes to
the same name in BACKEND: vault://secret/app/db#password becomes
aws://secret/app/db. Entries already in BACKEND are left alone.

{_CODES}"""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``copy`` and ``sync`` to the ``secretkit`` parser."""
    copier = commands.add_parser(
        "copy",
        help="copy a secret, or every secret under a prefix, to another backend",
        description="Copy one secret, or with --prefix every secret under a "
        "prefix,\nfrom one backend to another. Never shows values.",
        epilog=_COPY_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    copier.add_argument(
        "source", metavar="SRC", help="[backend://]name[?version=..|stage=..]"
    )
    copier.add_argument("destination", metavar="DST", help="[backend://]name")
    copier.add_argument(
        "--prefix",
        action="store_true",
        help="SRC and DST are [backend://]prefix: copy every secret under SRC to "
        "the same name under DST",
    )
    _common(copier)
    copier.set_defaults(command=copy)

    syncer = commands.add_parser(
        "sync",
        help="copy every secret a manifest names to one backend",
        description="Copy each secret the manifest names to the same name in "
        "another\nbackend. Never shows values.",
        epilog=_SYNC_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    syncer.add_argument(
        "--manifest",
        metavar="FILE",
        help="the manifest (default: [manifest] in the configuration file, "
        "else ./secretkit-manifest.toml)",
    )
    syncer.add_argument(
        "--to", metavar="BACKEND", required=True, help="the backend to copy to"
    )
    _common(syncer)
    syncer.set_defaults(command=sync)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="replace a different value at the destination (a new version)",
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="print the plan; write nothing"
    )
    parser.add_argument(
        "--json", action="store_true", help="print a JSON report instead of a table"
    )


async def copy(args: argparse.Namespace) -> int:
    """Copy one secret, or every secret under a prefix; print what happened.

    :return: the exit code, by the table in this module's docstring
    :raises SecretkitError: nothing could be planned (bad reference, unknown
        backend, a source that cannot list), or the first secret that failed
    """
    async with open_client(args) as client:
        if args.prefix:
            pairs = await transfer.prefix_pairs(client, args.source, args.destination)
            _log.debug("%d secrets under %r", len(pairs), args.source)
        else:
            pairs = [(SecretRef.parse(args.source), SecretRef.parse(args.destination))]
        return await _transfer(client, pairs, args)


async def sync(args: argparse.Namespace) -> int:
    """Copy every secret the manifest names to ``--to``; print what happened.

    :return: the exit code, by the table in this module's docstring
    :raises ConfigurationError: the manifest or configuration is invalid
    :raises SecretkitError: the first secret that failed
    """
    manifest = _cli_manifest.load(args)
    async with open_client(args) as client:
        _cli_manifest.check_backends(client, manifest.entries, manifest.path)
        client.backend(args.to)  # BackendNotFound before anything is read
        pairs: list[tuple[SecretRef, SecretRef]] = []
        for entry in manifest.entries:
            backend = entry.ref.backend or client.default
            if backend == args.to:
                _log.debug("%s is in %r already", entry.name, backend)
                continue
            whole = SecretRef(name=entry.ref.name, backend=backend)
            pairs.append((whole, SecretRef(name=entry.ref.name, backend=args.to)))
        return await _transfer(client, pairs, args)


async def _transfer(
    client: SecretClient,
    pairs: Sequence[tuple[SecretRef, SecretRef]],
    args: argparse.Namespace,
) -> int:
    planned = await transfer.plan(client, pairs, overwrite=args.overwrite)
    report = None
    if not args.dry_run:
        writes = sum(step.writes for step in planned.steps)
        report = await transfer.apply(client, planned, progress=_progress(writes))
    rows = _rows(planned, report)
    if args.json:
        print_json(
            {
                "dry_run": report is None,
                "overwrite": planned.overwrite,
                "counts": _counts(rows),
                "secrets": rows,
            }
        )
    else:
        _print_table(rows)
        print(_summary(rows, dry_run=report is None))
    return _exit(planned, report, len(rows))


def _rows(
    planned: transfer.Plan, report: transfer.Report | None
) -> list[dict[str, Any]]:
    """One row per step: what happened (or would), and why, without values."""
    results = {id(r.step): r for r in report.results} if report is not None else {}
    rows: list[dict[str, Any]] = []
    for step in planned.steps:
        status: str = step.action
        detail = step.reason
        version = None
        dropped: tuple[str, ...] = ()
        result = results.get(id(step))
        if result is not None:
            status = _DONE[step.action] if result.outcome == "done" else result.outcome
            version = result.version
            dropped = result.dropped
            if result.error is not None:
                detail = result.error.message
            elif dropped:
                detail = f"not kept by the destination: {', '.join(dropped)}"
        elif report is not None:
            status = _SKIPPED.get(status, status)
        rows.append(
            {
                "status": status,
                "source": str(step.source),
                "destination": str(step.destination),
                "version": version,
                "detail": detail,
                "dropped": list(dropped),
            }
        )
    return rows


def _counts(rows: Sequence[dict[str, Any]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts


def _print_table(rows: Sequence[dict[str, Any]]) -> None:
    table = [_HEADINGS] + [
        (row["status"], row["source"], row["destination"], row["detail"])
        for row in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(3)]
    for line in table:
        cells = [cell.ljust(width) for cell, width in zip(line, widths, strict=False)]
        print("  ".join([*cells, line[3]]).rstrip())


def _summary(rows: Sequence[dict[str, Any]], *, dry_run: bool) -> str:
    counts = _counts(rows)
    parts = [f"{count} {status}" for status, count in counts.items()] or ["nothing"]
    if dry_run:
        return f"dry run: {', '.join(parts)}; nothing written"
    return ", ".join(parts)


def _exit(planned: transfer.Plan, report: transfer.Report | None, total: int) -> int:
    """0, or 6 for conflicts; raise (for its exit code) when a secret failed."""
    failed = sum(step.action == "skip" for step in planned.steps)
    if report is not None:
        failed += sum(result.outcome != "done" for result in report.results)
        failures = report.errors()
    else:
        failures = [step.error for step in planned.steps if step.error is not None]
    if failures:
        first = failures[0]
        verb = "cannot be copied" if report is None else "not copied"
        raise _like(
            first,
            f"{failed} of {total} secrets {verb}, the first because: "
            f"{first.message}; fix that and run the same command again",
        ) from first
    conflicts = sum(step.action == "conflict" for step in planned.steps)
    if conflicts:
        error_line(
            f"{conflicts} destination(s) hold a different value; "
            "nothing was overwritten: check them, then use --overwrite"
        )
        return _CONFLICT
    return 0


def _like(error: errors.SecretkitError, message: str) -> errors.SecretkitError:
    """A new error of the closest class of our tree, for the exit code it maps to."""
    cls = next(
        kind
        for kind in type(error).__mro__
        if kind.__module__ == errors.__name__
        and issubclass(kind, errors.SecretkitError)
    )
    return cls(message, ref=error.ref, backend=error.backend)


def _progress(total: int) -> Callable[[int, int], None] | None:
    """``copied 120/400`` on stderr while it is a terminal; nothing otherwise."""
    if total < _PROGRESS_FROM or not sys.stderr.isatty():
        return None

    def show(finished: int, total: int) -> None:
        end = "\r\x1b[K" if finished == total else ""  # leave the line as it was
        sys.stderr.write(f"\rsecretkit: copied {finished}/{total}{end}")
        sys.stderr.flush()

    return show
