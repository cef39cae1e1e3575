"""``secretkit put``: store a new value of a secret, from a file, stdin or a prompt.

Part of the ``secretkit`` command (:mod:`secretkit.core.cli`), not a public API.
The value never comes from the command line, where shell history and ``ps`` would
keep it: it is the bytes of ``--from-file``, else all of stdin when stdin is not a
terminal, else typed at a prompt without echo, twice. Bytes that are UTF-8 are
stored as text, others as binary. Putting a secret that exists adds a new version,
which becomes the current one: that is what put is for.

Exit codes are those of :mod:`secretkit.core.cli`; 2 also covers a value given
as an argument, an unreadable ``--from-file``, an empty value, and two prompted
entries that differ.
"""

from __future__ import annotations

__all__ = ("add_parser", "put")

import argparse
import getpass
import logging
import sys
from typing import TYPE_CHECKING, Any, Final

import anyio

from ._cli_read import open_client
from .errors import InvalidReference, SecretkitError
from .secret import SecretRef

if TYPE_CHECKING:
    from pathlib import Path

_log = logging.getLogger(__name__)
_EPILOG: Final = """\
examples:
  secretkit put aws://app/db < db.json             # the value from stdin
  secretkit put vault://secret/app/api --from-file api.json
  secretkit put azure://app-key --tag team=ml --description "ML API key"
      (at a terminal: asks for the value twice, without echo)

The value is never an argument: shell history and ps would keep it. Stdin and
--from-file are taken byte for byte (a trailing newline included); UTF-8 is
stored as text, other bytes as binary. Putting an existing secret stores a new
version and makes it the current one; --no-create refuses to create one."""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``put`` to the ``secretkit`` parser."""
    parser = commands.add_parser(
        "put",
        help="store a new version of a secret (value from stdin, a file or a prompt)",
        description="Store a new value of a secret: a new version where the "
        "backend keeps\nversions, which becomes the current one. The value comes "
        "from --from-file,\nstdin, or a prompt; never from the command line.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ref", metavar="REF", help="[backend://]name")
    # Caught so a value typed as an argument is refused without being echoed.
    parser.add_argument("refused", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument(
        "--from-file",
        metavar="PATH",
        type=_path,
        help="read the value from PATH, byte for byte",
    )
    parser.add_argument(
        "--description", metavar="TEXT", help="the secret's description"
    )
    parser.add_argument(
        "--tag",
        metavar="KEY=VALUE",
        action="append",
        type=_tag,
        default=[],
        help="set a tag (repeat for more)",
    )
    parser.add_argument(
        "--create",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="create the secret if it does not exist (default: --create)",
    )
    parser.set_defaults(command=put)


def put(args: argparse.Namespace) -> int:
    """Read the value on the main thread, then store it.

    Sync, so a prompt (``getpass``) owns the terminal and restores its echo on
    Ctrl-C; the store runs on an asyncio loop afterwards.

    :return: the exit code
    :raises SecretkitError: a value argument, an unreadable file, an empty value
        or prompts that differ (2); what the backend raised
    """
    if args.refused:
        raise SecretkitError(
            "put takes no value on the command line (shell history and ps keep "
            "it): pipe it on stdin, use --from-file, or type it at the prompt"
        )
    ref = SecretRef.parse(args.ref)
    if ref.field is not None:
        raise InvalidReference(
            f"put stores whole secrets: drop #{ref.field} from {args.ref!r}",
            ref=args.ref,
        )
    value = _value(args)
    return anyio.run(_store, args, ref, value, backend="asyncio")


async def _store(args: argparse.Namespace, ref: SecretRef, value: str | bytes) -> int:
    async with open_client(args) as client:
        name = ref.backend or client.default
        backend = client.backend(name)
        _log.debug("putting %r in %r (create=%s)", ref.name, name, args.create)
        stored = await backend.put(
            SecretRef(
                name=ref.name, backend=name, version=ref.version, stage=ref.stage
            ),
            value,
            create=args.create,
            description=args.description,
            tags=dict(args.tag) or None,
        )
    kind = "binary" if isinstance(value, bytes) else "text"
    print(f"stored {ref.name} in {name}: version {stored.version or '-'} ({kind})")
    return 0


def _value(args: argparse.Namespace) -> str | bytes:
    """The value: from the file, stdin, or the prompt; UTF-8 becomes text."""
    raw: bytes
    if args.from_file is not None:
        try:
            raw = args.from_file.read_bytes()
        except OSError as exc:
            raise SecretkitError(
                f"cannot read --from-file {str(args.from_file)!r}: "
                f"{exc.strerror or type(exc).__name__}"
            ) from None
        where = f"--from-file {str(args.from_file)!r}"
    elif not sys.stdin.isatty():
        raw = sys.stdin.buffer.read()
        where = "stdin"
    else:
        return _prompted(args.ref)
    if not raw:
        raise SecretkitError(f"{where} is empty: nothing to put")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw


def _prompted(shown: str) -> str:
    first = getpass.getpass(f"value for {shown}: ")
    if not first:
        raise SecretkitError("empty value: nothing to put")
    if getpass.getpass("again, to confirm: ") != first:
        raise SecretkitError("the two entries differ; nothing was stored")
    return first


def _path(text: str) -> Path:
    from pathlib import Path

    return Path(text)


def _tag(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    return key, value
