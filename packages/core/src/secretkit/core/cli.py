"""The ``secretkit`` command: read secrets and check a setup from the shell.

    secretkit [--config PATH] [-v] [--version] COMMAND [ARGS]

Commands: ``get`` shows a secret (masked unless ``--reveal``), ``ls`` lists names
(never values), ``info`` shows versions, backend types and the effective
configuration (sensitive options masked), ``doctor`` checks the configuration and
every backend, and ``plugins`` lists the installed plugins. For deployments:
``verify``, ``run`` and ``export`` work from a manifest (docs/manifest.md);
``copy``, ``sync`` and ``put`` write secrets (docs/migrate.md). Plugins may add
more (``secretkit mlflow``).

Without ``--config`` the configuration comes from the ``SECRETKIT_*`` variables on
top of the first file found of ``SECRETKIT_CONFIG``, ``./secretkit.toml`` and
``[tool.secretkit]`` in ``./pyproject.toml``; with none, bare names go to ``env``.

Exit codes:

=== ===========================================================================
0   success
1   a backend error not listed below; a failed ``doctor`` check; a bug
2   usage error, invalid reference or configuration, unknown backend,
    unsupported operation, a value or field that cannot be decoded
3   secret not found
4   access denied, or no usable credentials
5   backend unavailable (network, throttling, timeouts, missing file)
6   ``copy``/``sync``: conflicts only, nothing overwritten (use ``--overwrite``)
130 interrupted
=== ===========================================================================

argparse echoes the arguments it rejects; ours says how many instead, since a
mistyped command line may hold a value (``put REF --value=hunter2``).

An error is one line on stderr, ``secretkit: error: <message>``; messages never
hold a secret value. ``-v`` logs at DEBUG on the ``secretkit`` loggers only: SDK
loggers stay quiet, since some print whole responses at DEBUG.
"""

from __future__ import annotations

__all__ = ("main",)

import argparse
import inspect
import logging
import os
import sys
import traceback
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Final, NoReturn, cast

import anyio

from . import (
    _cli_copy,
    _cli_export,
    _cli_put,
    _cli_read,
    _cli_report,
    _cli_run,
    _cli_verify,
)
from ._cli_read import error_line
from .errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    CredentialError,
    SecretkitError,
    SecretNotFound,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

    from .commands import Handler

_log = logging.getLogger(__name__)

# The first match wins, so subclasses come before their bases.
_EXIT_CODES: Final[tuple[tuple[type[SecretkitError], int], ...]] = (
    (SecretNotFound, 3),
    (AccessDenied, 4),
    (CredentialError, 4),
    (BackendUnavailable, 5),
    (BackendError, 1),
    (SecretkitError, 2),
)
_INTERRUPTED: Final = 130
_EPILOG: Final = """\
exit codes:
  0    success
  1    a backend error not listed below; a failed doctor check; a bug
  2    usage error, invalid reference or configuration, unknown backend,
       unsupported operation, a value or field that cannot be decoded
  3    secret not found
  4    access denied, or no usable credentials
  5    backend unavailable (network, throttling, timeouts, missing file)
  6    copy/sync: conflicts only, nothing overwritten (use --overwrite)
  130  interrupted

Without --config, the configuration comes from the SECRETKIT_* variables on top
of the first of SECRETKIT_CONFIG, ./secretkit.toml and [tool.secretkit] in
./pyproject.toml; with none, bare names read environment variables.
Values are shown only with get --reveal."""


def main(argv: list[str] | None = None) -> int:
    """Run the ``secretkit`` command and return its exit code.

    :param argv: the arguments after the program name (default: ``sys.argv[1:]``)
    :return: the exit code, listed in this module's docstring
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version and usage errors
        code = exc.code
        return code if isinstance(code, int) else (0 if code is None else 2)
    with _logging(verbose=args.verbose):
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    command: Handler = args.command
    try:
        if inspect.iscoroutinefunction(command):
            return cast("int", anyio.run(command, args, backend="asyncio"))
        return cast("int", command(args))
    except KeyboardInterrupt:
        error_line("interrupted")
        return _INTERRUPTED
    except SecretkitError as exc:
        cause = exc.__cause__
        if cause is not None:  # the type only: an SDK's message may quote a value
            _log.debug("%s caused by %s", type(exc).__name__, type(cause).__name__)
        error_line(exc.message)
        return _exit_code(exc)
    except BrokenPipeError:
        # The reader went away (``secretkit ls | head``): stop quietly, and keep
        # the interpreter from complaining when it flushes stdout at exit.
        with suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:
        if args.verbose:
            traceback.print_exc(file=sys.stderr)
            error_line(
                f"unexpected {type(exc).__name__} (a bug; the traceback is above)"
            )
        else:
            error_line(
                f"unexpected {type(exc).__name__}; run with -v for the traceback"
            )
        return 1


def _exit_code(exc: SecretkitError) -> int:
    """Return the exit code for an error, by the table in the module docstring."""
    return next(code for cls, code in _EXIT_CODES if isinstance(exc, cls))


@contextmanager
def _logging(*, verbose: bool) -> Iterator[None]:
    """Send ``secretkit`` log records to stderr: DEBUG with ``-v``, else WARNING."""
    logger = logging.getLogger("secretkit")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s: %(message)s"
            if verbose
            else "secretkit: %(levelname)s: %(message)s"
        )
    )
    saved = logger.level, logger.propagate
    logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
    logger.propagate = False
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


class _Parser(argparse.ArgumentParser):
    """An argument parser that never repeats the arguments it rejects."""

    def error(self, message: str) -> NoReturn:
        """Print the usage and a one-line error, without rejected arguments."""
        if message.startswith("unrecognized arguments: "):
            count = len(message.split(": ", 1)[1].split())
            message = f"{count} unrecognized argument(s), not repeated here"
        super().error(message)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="secretkit",
        description="Read secrets and check a secretkit setup.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--config",
        metavar="PATH",
        help="a TOML file (secretkit.toml, or a pyproject.toml with "
        "[tool.secretkit]); SECRETKIT_* variables are then ignored",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="log at DEBUG to stderr (never values)",
    )
    parser.add_argument(
        "--version", action="version", version=f"secretkit {_cli_report.version()}"
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND", required=True)

    get = commands.add_parser(
        "get",
        help="show a secret: masked unless --reveal",
        description="Show a secret's reference, backend and version; the value "
        "only with --reveal.",
    )
    get.add_argument(
        "ref", metavar="REF", help="[backend://]name[?version=ID|stage=LABEL][#field]"
    )
    get.add_argument(
        "--field",
        metavar="F",
        help="a top-level JSON key of the value, or a JSON pointer (/a/0)",
    )
    get.add_argument(
        "--reveal",
        action="store_true",
        help="print the value itself: text as is, binary as raw bytes",
    )
    get.add_argument(
        "--json",
        action="store_true",
        help="print a JSON object; its value is **** unless --reveal "
        "(binary values as base64)",
    )
    get.set_defaults(command=_cli_read.get)

    ls = commands.add_parser(
        "ls",
        help="list secret names (never values)",
        description="List the names of the secrets in a backend, sorted as the "
        "backend gives them. Never values.",
    )
    ls.add_argument(
        "backend",
        metavar="BACKEND",
        nargs="?",
        help="a backend instance name (default: the default backend)",
    )
    ls.add_argument("--prefix", metavar="P", default="", help="only names under P")
    ls.set_defaults(command=_cli_read.ls)

    info = commands.add_parser(
        "info",
        help="versions, backend types and the effective configuration",
        description="Show versions, installed backend types and the effective "
        "configuration with sensitive options masked, and where it came from.",
    )
    info.add_argument("--json", action="store_true", help="print a JSON object")
    info.set_defaults(command=_cli_report.info)

    doctor = commands.add_parser(
        "doctor",
        help="check the configuration, the plugins and every backend",
        description="Load the configuration, then ask each backend to check its "
        "connection and credentials. Exits 0 when nothing failed, 2 when the "
        "configuration is invalid, else 1.",
    )
    doctor.add_argument(
        "--timeout",
        metavar="SECONDS",
        type=_cli_read.seconds,
        default=10.0,
        help="how long each backend check may take (default: 10)",
    )
    doctor.set_defaults(command=_cli_report.doctor)

    plugins = commands.add_parser(
        "plugins",
        help="list the installed plugins and their backend types",
        description="List each plugin: entry point, distribution and version, "
        "and the backend types it provides, or why it failed to load.",
    )
    plugins.set_defaults(command=_cli_report.plugins)
    for family in (_cli_verify, _cli_copy, _cli_put, _cli_run, _cli_export):
        family.add_parser(commands)
    _plugin_commands(commands)
    return parser


def _plugin_commands(commands: argparse._SubParsersAction[Any]) -> None:
    """Add the subcommands plugins register; a name already taken is skipped."""
    from .plugins import registry

    for command in registry().commands():
        if command.name in commands.choices:
            _log.warning(
                "a plugin's command %r clashes with another one; skipped", command.name
            )
            continue
        parser = commands.add_parser(
            command.name,
            help=command.help,
            description=command.description or command.help,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.configure(parser)
