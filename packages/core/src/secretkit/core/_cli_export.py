"""``secretkit export``: the manifest's secrets as a .env file, JSON or a k8s Secret.

Part of the ``secretkit`` command (:mod:`secretkit.core.cli`), not a public API.
Every secret is fetched and checked first; any failure writes nothing.

Formats, in manifest order:

* ``dotenv``: ``ENV='value'`` per entry, keyed by its ``env``. A value holding
  ``'``, ``\\`` or a line break is written ``ENV="..."`` with ``\\\\``, ``\\"``,
  ``\\n``, ``\\r`` and ``\\$`` escapes, so nothing in it is expanded. Text only.
* ``json``: one object, entry name to value. Text only.
* ``k8s-secret``: a ``v1`` ``Secret`` of type ``Opaque``, entry name to base64
  ``data`` (binary values too), as YAML; ``--name`` is required.

A binary value (not UTF-8) in a text format is an error. The output goes to
``-o FILE``, created with mode 0600 (an existing file is replaced, atomically and
0600, only with ``--force``), or to stdout when it is not a terminal or with
``--force``.

Exit codes: 0 written; 2 usage, manifest, configuration, a binary value in a
text format, or an output refused; before writing, 3 not found, 4 denied,
5 unavailable, 1 a failed expectation or another backend error.
"""

from __future__ import annotations

__all__ = ("add_parser", "export")

import argparse
import base64
import json
import logging
import os
import re
import sys
import tempfile
from contextlib import suppress
from typing import TYPE_CHECKING, Any, Final

import anyio

from . import _cli_manifest
from .errors import DecodeError, SecretkitError

if TYPE_CHECKING:
    from collections.abc import Callable

    from .manifest import Entry

_log = logging.getLogger(__name__)
_FORMATS: Final = ("dotenv", "json", "k8s-secret")
_DNS_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_K8S_NAME = re.compile(rf"{_DNS_LABEL}(\.{_DNS_LABEL})*")
_K8S_NAMESPACE = re.compile(_DNS_LABEL)
_PLAIN = re.compile(r"[^'\\\r\n]*")
_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "$": "\\$"}
_EPILOG: Final = """\
examples:
  secretkit export --format dotenv -o .env
  secretkit export --format json | jq .db_password
  secretkit export --format k8s-secret --name api-keys --namespace ml \\
      | kubectl apply -f -

dotenv writes ENV='value', or ENV="..." with \\\\ \\" \\n \\r \\$ escapes when the
value holds ' \\ or a line break; json maps each entry's name to its value;
k8s-secret writes a v1 Secret (type Opaque) with each entry's name as a key.

Values go to -o FILE (created 0600; replaced only with --force) or to stdout
when it is not a terminal (or with --force). Nothing is written unless every
secret was fetched and met its expectations.

exit codes:
  0    written
  1    a secret failed an expectation, or another backend error
  2    usage, manifest or configuration error; binary value in dotenv or json;
       output refused (a terminal, or FILE exists without --force)
  3    secret not found
  4    access denied, or no usable credentials
  5    backend unavailable"""


def add_parser(commands: argparse._SubParsersAction[Any]) -> None:
    """Add ``export`` to the ``secretkit`` parser."""
    parser = commands.add_parser(
        "export",
        help="write the secrets as .env, JSON or a Kubernetes Secret",
        description="Fetch every secret the manifest names and write them as a "
        ".env file, a JSON object or a Kubernetes Secret manifest.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--format", required=True, choices=_FORMATS)
    _cli_manifest.add_arguments(parser)
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write here (mode 0600), not stdout"
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="replace an existing FILE; write to stdout even if it is a terminal",
    )
    parser.add_argument(
        "--name",
        type=_checked(_K8S_NAME, 253, "a Secret name"),
        help="k8s-secret: the Secret's name (required)",
    )
    parser.add_argument(
        "--namespace",
        type=_checked(_K8S_NAMESPACE, 63, "a namespace"),
        help="k8s-secret: its namespace",
    )
    parser.set_defaults(command=export)


def export(args: argparse.Namespace) -> int:
    """Fetch, check and write every secret the manifest names.

    :return: 0 when written, 1 when a secret failed an expectation
    :raises SecretkitError: a usage, manifest, fetch or output problem; nothing
        was written
    """
    if args.format == "k8s-secret" and args.name is None:
        raise SecretkitError("--format k8s-secret needs --name NAME")
    if args.output is None and not args.force and sys.stdout.isatty():
        raise SecretkitError(
            "refusing to write secrets to a terminal: use -o FILE, a pipe, or --force"
        )
    if args.output is not None and not args.force and os.path.lexists(args.output):
        raise SecretkitError(f"{args.output} exists: pass --force to replace it")
    manifest = _cli_manifest.load(args)
    found = anyio.run(
        _cli_manifest.values, args, manifest.entries, manifest.path, backend="asyncio"
    )
    if isinstance(found, int):
        return found
    if args.format == "k8s-secret":
        document = _k8s_secret(found, args.name, args.namespace)
    elif args.format == "json":
        values = {entry.name: _text(entry, value, "json") for entry, value in found}
        document = json.dumps(values, indent=2, ensure_ascii=False) + "\n"
    else:
        document = "".join(
            f"{entry.env}={_dotenv(_text(entry, value, 'dotenv'))}\n"
            for entry, value in found
        )
    _write(document.encode(), args.output, replace=args.force)
    _log.debug("exported %d secrets as %s", len(found), args.format)
    return 0


def _text(entry: Entry, value: str | bytes, fmt: str) -> str:
    if isinstance(value, str):
        return value
    try:
        return value.decode()
    except UnicodeDecodeError:
        raise DecodeError(
            f"{entry.name}: the value is binary, which {fmt} cannot hold; "
            "use --format k8s-secret",
            ref=str(entry.ref),
        ) from None


def _dotenv(value: str) -> str:
    """Quote a value so dotenv readers and shells read it back unchanged."""
    if _PLAIN.fullmatch(value):
        return f"'{value}'"  # literal: no escapes, no expansion
    return '"' + "".join(_ESCAPES.get(char, char) for char in value) + '"'


def _k8s_secret(
    found: list[tuple[Entry, str | bytes]], name: str, namespace: str | None
) -> str:
    """A ``v1`` ``Secret`` as YAML; every scalar written as a JSON string is valid
    YAML, so no YAML library is needed."""
    lines = [
        "apiVersion: v1",
        "kind: Secret",
        "metadata:",
        f"  name: {json.dumps(name)}",
    ]
    if namespace is not None:
        lines.append(f"  namespace: {json.dumps(namespace)}")
    lines += ["type: Opaque", "data:" if found else "data: {}"]
    for entry, value in found:
        raw = value if isinstance(value, bytes) else value.encode()
        lines.append(f"  {json.dumps(entry.name)}: {base64.b64encode(raw).decode()}")
    return "\n".join(lines) + "\n"


def _write(document: bytes, output: str | None, *, replace: bool) -> None:
    if output is None:
        sys.stdout.flush()
        sys.stdout.buffer.write(document)
        sys.stdout.buffer.flush()
        return
    try:
        if not replace:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
            fd = os.open(output, flags, 0o600)
            path = output
        else:  # a new 0600 file beside it, renamed over it: never a half-written FILE
            fd, path = tempfile.mkstemp(
                dir=os.path.dirname(os.path.abspath(output)), prefix=".secretkit-"
            )
    except FileExistsError:
        raise SecretkitError(f"{output} exists: pass --force to replace it") from None
    except OSError as exc:
        raise SecretkitError(f"cannot write {output}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(document)
            out.flush()
            os.fsync(out.fileno())
        if path != output:
            os.replace(path, output)
    except BaseException as exc:
        with suppress(OSError):
            os.unlink(path)
        if isinstance(exc, OSError):
            raise SecretkitError(f"cannot write {output}: {exc.strerror}") from None
        raise


def _checked(pattern: re.Pattern[str], longest: int, what: str) -> Callable[[str], str]:
    def check(text: str) -> str:
        if len(text) > longest or not pattern.fullmatch(text):
            raise argparse.ArgumentTypeError(
                f"{what} is lowercase letters, digits, '-' (and '.' between parts), "
                f"at most {longest} characters; got {text!r}"
            )
        return text

    return check
