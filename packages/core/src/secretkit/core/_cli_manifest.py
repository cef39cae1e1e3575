"""Fetching every secret a manifest names, for ``verify``, ``run`` and ``export``.

Part of the ``secretkit`` command (:mod:`secretkit.core.cli`), not a public API.
Entries are fetched through one client in chunks: each chunk is one ``get_many``
(one call per chunk on a backend with a batch API), and a few chunks run at once,
so a long manifest never opens hundreds of connections. Each outcome holds the
secret or the error, the version's age and the first expectation it misses; no
value leaves here except through the ``Secret`` objects the callers reveal.
"""

from __future__ import annotations

__all__ = (
    "Outcome",
    "add_arguments",
    "check_backends",
    "fetch",
    "format_age",
    "load",
    "require",
    "values",
)

import logging
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

import anyio

from ._cli_read import error_line, open_client, seconds
from .errors import (
    AccessDenied,
    BackendUnavailable,
    CredentialError,
    DecodeError,
    NotSupported,
    SecretkitError,
    SecretNotFound,
)
from .manifest import Manifest, find_manifest, load_manifest
from .secret import SecretRef

if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence
    from pathlib import Path

    from .client import SecretClient
    from .manifest import Entry
    from .secret import Secret

_log = logging.getLogger(__name__)
_CHUNK: Final = 20  # refs per get_many: AWS's BatchGetSecretValue takes 20 ids
_PARALLEL: Final = 4  # chunks in flight at once
_PROGRESS_FROM: Final = 20  # entries; fewer finish before a counter is worth showing


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """How one entry fared: its secret or error, its age, an unmet expectation."""

    entry: Entry
    backend: str
    secret: Secret | None = None
    age: timedelta | None = None
    error: SecretkitError | None = None
    unmet: str | None = None

    @property
    def status(self) -> str:
        """``ok``, ``missing``, ``denied``, ``unavailable``, ``failed`` or ``error``."""
        error = self.error
        if error is None:
            return "failed" if self.unmet else "ok"
        if isinstance(error, SecretNotFound):
            return "missing"
        if isinstance(error, (AccessDenied, CredentialError)):
            return "denied"
        if isinstance(error, BackendUnavailable):
            return "unavailable"
        return "error"

    @property
    def detail(self) -> str | None:
        """Why it is not ok, in one line without values; ``None`` when ok."""
        return self.error.message if self.error is not None else self.unmet


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--manifest`` and ``--timeout``, which every manifest command takes."""
    parser.add_argument(
        "--manifest",
        metavar="FILE",
        help="the manifest (default: [manifest] in the configuration file, "
        "else ./secretkit-manifest.toml)",
    )
    parser.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=seconds,
        default=60.0,
        help="how long fetching every secret may take (default: 60)",
    )


def load(args: argparse.Namespace) -> Manifest:
    """Read the manifest ``--manifest`` names, else the one next to the configuration.

    :raises ConfigurationError: none found, or every problem in it
    """
    if args.manifest is not None:
        return load_manifest(args.manifest)
    found = find_manifest(args.config)
    if found is None:
        return load_manifest(None)  # raises, saying where to put one
    manifest = load_manifest(found)
    _log.debug("manifest from %s: %d secrets", found, len(manifest.entries))
    return manifest


def check_backends(
    client: SecretClient, entries: Sequence[Entry], path: Path | None
) -> None:
    """Fail before fetching when an entry names a backend that is not there.

    :raises SecretkitError: one line per entry at fault, with file and line
    """
    problems: list[str] = []
    first: SecretkitError | None = None
    for entry in entries:
        try:
            client.backend(entry.ref.backend)
        except SecretkitError as exc:
            where = f"{path}:{entry.line}: " if path and entry.line else ""
            problems.append(f"{where}{entry.name}: {exc.message}")
            first = first or exc
    if first is not None:
        raise type(first)("; ".join(problems), ref=first.ref, backend=first.backend)


async def fetch(
    client: SecretClient,
    entries: Sequence[Entry],
    *,
    within: float,
    ages: bool = False,
    now: datetime | None = None,
) -> list[Outcome]:
    """Fetch every entry and check its expectations; one failure fails no other.

    :param within: seconds for the lot; entries not fetched by then come back
        ``unavailable``
    :param ages: learn each version's age, through ``describe()`` when the fetch
        did not tell (else only for entries with ``max_age``)
    :param now: the time ages are measured at (default: now)
    :return: an outcome per entry, in order
    """
    at = now or datetime.now(UTC)
    outcomes: dict[int, Outcome] = {}
    limiter = anyio.CapacityLimiter(_PARALLEL)
    progress = _Progress(len(entries))
    indexed = list(enumerate(entries))

    async def chunk(part: list[tuple[int, Entry]]) -> None:
        async with limiter:
            batch = await client.get_many([entry.ref for _, entry in part])
            async with anyio.create_task_group() as tg:
                for index, entry in part:
                    secret = batch.get(str(entry.ref))
                    error = batch.errors.get(str(entry.ref))
                    tg.start_soon(one, index, entry, secret, error)
        progress.advance(len(part))

    async def one(
        index: int, entry: Entry, secret: Secret | None, error: SecretkitError | None
    ) -> None:
        backend = entry.ref.backend or client.default
        if secret is None:
            outcomes[index] = Outcome(entry=entry, backend=backend, error=error)
            return
        created = secret.created
        if created is None and (ages or entry.expect.max_age is not None):
            created = await _described(client, entry.ref, backend)
        age = None
        if created is not None:
            age = at - (created if created.tzinfo else created.replace(tzinfo=UTC))
        outcomes[index] = Outcome(
            entry=entry,
            backend=backend,
            secret=secret,
            age=age,
            unmet=_unmet(entry, secret, age),
        )

    try:
        with anyio.move_on_after(within):
            async with anyio.create_task_group() as tg:
                for start in range(0, len(indexed), _CHUNK):
                    tg.start_soon(chunk, indexed[start : start + _CHUNK])
    finally:
        progress.close()
    late = BackendUnavailable(f"no answer within {within:g} seconds (--timeout)")
    return [
        outcomes.get(index)
        or Outcome(entry=entry, backend=entry.ref.backend or client.default, error=late)
        for index, entry in indexed
    ]


async def values(
    args: argparse.Namespace, entries: Sequence[Entry], path: Path | None
) -> list[tuple[Entry, str | bytes]] | int:
    """For ``run`` and ``export``: every entry's value, or the exit code of a failure.

    :param path: the manifest file, for errors that point into it
    :raises SecretkitError: a backend is missing, or a fetch failed (see
        :func:`require`)
    """
    async with open_client(args) as client:
        check_backends(client, entries, path)
        outcomes = await fetch(client, entries, within=args.timeout)
    code = require(outcomes)
    if code is not None:
        return code
    return [
        (outcome.entry, outcome.secret.reveal())
        for outcome in outcomes
        if outcome.secret is not None
    ]


def require(outcomes: Sequence[Outcome]) -> int | None:
    """For ``run`` and ``export``: ``None`` when every secret is ok, else stop.

    The first failure is reported: a fetch error is raised again, its entry named,
    for the command's exit code; an unmet expectation is printed, and 1 returned.

    :raises SecretkitError: the first entry's fetch error, of the same class
    """
    bad = [outcome for outcome in outcomes if outcome.status != "ok"]
    if not bad:
        return None
    first = bad[0]
    more = f" (and {len(bad) - 1} more; see secretkit verify)" if len(bad) > 1 else ""
    message = f"{first.entry.name}: {first.detail}{more}"
    error = first.error
    if error is not None:
        raise type(error)(message, ref=error.ref, backend=error.backend) from error
    error_line(message)
    return 1


def format_age(age: timedelta | None) -> str:
    """``45s``, ``30m``, ``12h``, ``90d``: the largest unit that loses little."""
    if age is None:
        return "-"
    seconds = max(0, int(age.total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size or (seconds >= size and seconds % size == 0):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


async def _described(
    client: SecretClient, ref: SecretRef, backend: str
) -> datetime | None:
    """When the current version was made, by ``describe()``; ``None`` if unknown."""
    plain = SecretRef(
        name=ref.name, backend=backend, version=ref.version, stage=ref.stage
    )
    try:
        # The command runs on asyncio, where every backend's SDK runs as is.
        info = await client.backend(backend).describe(plain)
    except NotSupported:
        return None
    except SecretkitError as exc:
        _log.debug("describing %r failed: %s", ref.name, type(exc).__name__)
        return None
    return info.updated or info.created


def _unmet(entry: Entry, secret: Secret, age: timedelta | None) -> str | None:
    """Every expectation the secret misses, in one line naming no value."""
    expect = entry.expect
    missed: list[str] = []
    for field in expect.fields:
        try:
            secret.field(field)
        except DecodeError as exc:
            missed.append(exc.message)
    if expect.min_length is not None and len(secret.reveal()) < expect.min_length:
        missed.append(f"shorter than min_length {expect.min_length}")
    if expect.max_age is not None:
        if age is None:
            missed.append(
                f"max_age {format_age(expect.max_age)}: the backend does not say "
                "how old the version is"
            )
        elif age > expect.max_age:
            missed.append(
                f"older than max_age {format_age(expect.max_age)} ({format_age(age)})"
            )
    return "; ".join(missed) or None


class _Progress:
    """``fetched 120/400`` on stderr while it is a terminal; nothing otherwise."""

    __slots__ = ("_done", "_shown", "_total")

    def __init__(self, total: int) -> None:
        self._total = total
        self._done = 0
        self._shown = total >= _PROGRESS_FROM and sys.stderr.isatty()

    def advance(self, count: int) -> None:
        self._done += count
        if self._shown:
            sys.stderr.write(f"\rsecretkit: fetched {self._done}/{self._total}")
            sys.stderr.flush()

    def close(self) -> None:
        if self._shown:
            sys.stderr.write("\r\x1b[K")  # leave the line as it was
            sys.stderr.flush()
