"""``secretkit run``: start a command with the manifest's secrets in its environment.

Part of the ``secretkit`` command (:mod:`secretkit.core.cli`), not a public API.
Every secret is fetched and checked first; any failure means no child and a
one-line error. Each entry becomes the variable its ``env`` names. With
``--mount`` (or ``--files DIR``) each is also written, as Kubernetes mounts a
Secret, to ``<dir>/<file>``: a fresh private directory (0700, files 0600) whose
path the child finds in ``SECRETKIT_SECRETS_DIR``, made in ``/dev/shm`` when there
is one (memory, not disk), else in the temporary directory, or inside ``DIR``. It
is removed when the child ends, however it ends; only a ``SIGKILL`` to us leaves
it behind.

Environment variables hold text: a binary value (not UTF-8, or holding NUL) is an
error, unless mounting, when it goes to its file only. SIGTERM, SIGHUP, SIGUSR1
and SIGUSR2 are passed to the child; SIGINT and SIGQUIT too, unless we run in
the terminal's foreground, where the terminal sends them to the child itself.

Exit codes: the child's own; 128+N when signal N ended it; 126 when the command
cannot be run, 127 when it is not found; before the child starts, those of
``secretkit --help`` for a secret that cannot be fetched, and 1 for one that
fails an expectation. ``run`` prints nothing but errors.
"""

from __future__ import annotations

__all__ = ("add_parser", "run")

import argparse
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any, Final, final

import anyio

from . import _cli_manifest, _cli_read
from .errors import DecodeError, InvalidReference, SecretkitError
from .manifest import Entry
from .secret import SecretRef

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from types import FrameType

_log = logging.getLogger(__name__)
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_FORWARDED: Final = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
_FROM_TERMINAL: Final = (signal.SIGINT, signal.SIGQUIT)
_EPILOG: Final = """\
examples:
  secretkit run -- python app.py
  secretkit run --manifest deploy.toml --mount -- ./server --port 8080
  secretkit run --env OPENAI_API_KEY=aws://ml/api-keys#openai -- python train.py

Without --manifest, the manifest found next to the configuration is used,
unless only --env is given. With --mount, the child reads each secret from
$SECRETKIT_SECRETS_DIR/<file> too; the directory is removed when it ends.

exit codes: the child's (128+N when signal N ended it; 126 cannot run it, 127
not found); before it starts: 2 invalid manifest, configuration or binary
value for a variable, 3 not found, 4 denied, 5 unavailable, 1 an expectation
failed or another backend error."""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``run`` to the ``secretkit`` parser."""
    parser = commands.add_parser(
        "run",
        help="run a command with the secrets in its environment",
        description="Fetch every secret, then run CMD with them in its "
        "environment (and, with --mount, as files); exit with its code.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _cli_manifest.add_arguments(parser)
    parser.add_argument(
        "--env",
        metavar="NAME=REF",
        action="append",
        default=[],
        type=_assignment,
        help="also set NAME to the secret REF (repeatable)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--mount",
        action="store_true",
        help="also write each secret to a private directory, one file each",
    )
    where.add_argument(
        "--files",
        metavar="DIR",
        help="like --mount, with the private directory made inside DIR",
    )
    parser.add_argument(
        "argv", nargs=argparse.REMAINDER, metavar="-- CMD [ARGS]", help="the command"
    )
    parser.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    """Fetch the secrets, run the command with them, clean up; return its code.

    :raises SecretkitError: a secret could not be fetched, or is binary for a
        variable; nothing was started
    """
    argv = args.argv[1:] if args.argv[:1] == ["--"] else args.argv
    if not argv:
        raise SecretkitError("no command given: secretkit run [OPTIONS] -- CMD [ARGS]")
    found = anyio.run(_fetch, args, backend="asyncio")
    if isinstance(found, int):
        return found
    mount = args.mount or args.files is not None
    env = dict(os.environ)
    for entry, value in found:
        text = _text(value)
        if text is not None:
            env[entry.env] = text
        elif not mount:
            raise DecodeError(
                f"{entry.name}: the value is binary, and a variable holds text; "
                "use --mount to get it as a file",
                ref=str(entry.ref),
            )
    with _forwarding() as child:
        directory = _write(found, args.files) if mount else None
        try:
            if directory is not None:
                env["SECRETKIT_SECRETS_DIR"] = directory
            return child.run(argv, env)
        finally:
            if directory is not None:
                shutil.rmtree(directory, ignore_errors=True)
                _log.debug("removed the secrets directory")


async def _fetch(args: argparse.Namespace) -> list[tuple[Entry, str | bytes]] | int:
    manifest = (
        _cli_manifest.load(args) if args.manifest is not None or not args.env else None
    )
    entries = [
        *(manifest.entries if manifest is not None else ()),
        *(
            Entry(name=name, ref=ref, line=0, env=name, file=name)
            for name, ref in args.env
        ),
    ]
    _check_unique(entries)
    path = manifest.path if manifest is not None else None
    return await _cli_manifest.values(args, entries, path)


def _check_unique(entries: Sequence[Entry]) -> None:
    seen: dict[str, str] = {}
    for entry in entries:
        other = seen.setdefault(entry.env, entry.name)
        if other != entry.name:
            raise SecretkitError(
                f"two secrets set {entry.env}: {other} and {entry.name}; "
                "rename one --env"
            )


def _assignment(text: str) -> tuple[str, SecretRef]:
    name, equals, ref = text.partition("=")
    if not equals or not _ENV.fullmatch(name):
        raise argparse.ArgumentTypeError(
            f"expected NAME=REF with NAME a variable name, got {name!r}"
        )
    try:
        return name, SecretRef.parse(ref)
    except InvalidReference as exc:
        raise argparse.ArgumentTypeError(f"{name}: {exc.message}") from None


def _text(value: str | bytes) -> str | None:
    """The value as a variable can hold it, or ``None`` when it cannot."""
    if isinstance(value, bytes):
        try:
            value = value.decode()
        except UnicodeDecodeError:
            return None
    return None if "\0" in value else value


def _write(found: list[tuple[Entry, str | bytes]], inside: str | None) -> str:
    """Write each secret to a new private directory; return its path."""
    base = inside
    if base is None and os.access("/dev/shm", os.W_OK | os.X_OK):
        base = "/dev/shm"  # memory: a value never reaches a disk
    try:
        directory = tempfile.mkdtemp(prefix="secretkit-", dir=base)
    except OSError as exc:
        raise SecretkitError(
            f"cannot make the secrets directory in {base}: {exc.strerror}"
        ) from None
    try:
        for entry, value in found:
            path = os.path.join(directory, *entry.file.split("/"))
            os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            with os.fdopen(os.open(path, flags, 0o600), "wb") as out:
                out.write(value if isinstance(value, bytes) else value.encode())
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    _log.debug("wrote %d secrets to a private directory", len(found))
    return directory


@final
class _Child:
    """The command we run, and the signals to pass on to it."""

    __slots__ = ("pending", "process", "terminal")

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.pending: list[int] = []  # signals that came before the start
        self.terminal = _in_foreground()

    def forward(self, signum: int, frame: FrameType | None) -> None:
        if signum in _FROM_TERMINAL and self.terminal and self.process is not None:
            return  # the terminal sent it to the child's process group (ours) too
        if self.process is None:
            self.pending.append(signum)  # start nothing
        elif self.process.returncode is None:
            self.process.send_signal(signum)

    def run(self, argv: list[str], env: dict[str, str]) -> int:
        if self.pending:
            return 128 + self.pending[0]
        try:
            self.process = subprocess.Popen(argv, env=env)
        except FileNotFoundError:
            _cli_read.error_line(f"command not found: {argv[0]}")
            return 127
        except OSError as exc:
            _cli_read.error_line(f"cannot run {argv[0]}: {exc.strerror}")
            return 126
        for signum in self.pending:  # they came while the child was starting
            self.process.send_signal(signum)
        code = self.process.wait()
        return 128 - code if code < 0 else code


@contextmanager
def _forwarding() -> Iterator[_Child]:
    """Pass signals to the child while the block runs; restore the handlers after."""
    child = _Child()
    previous: dict[int, Any] = {}
    with suppress(ValueError):  # not the main thread: leave signals alone
        for signum in (*_FORWARDED, *_FROM_TERMINAL):
            previous[signum] = signal.signal(signum, child.forward)
    try:
        yield child
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _in_foreground() -> bool:
    """Whether our process group is the controlling terminal's foreground one."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)
