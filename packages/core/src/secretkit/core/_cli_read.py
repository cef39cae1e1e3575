"""``secretkit get`` and ``secretkit ls``, and the client every command builds.

Part of the ``secretkit`` command (:mod:`secretkit.core.cli`), not a public API. A
value reaches stdout only through ``get --reveal``.
"""

from __future__ import annotations

__all__ = (
    "error_line",
    "get",
    "load_settings",
    "ls",
    "open_client",
    "print_json",
    "seconds",
)

import base64
import json
import logging
import os
import sys
from contextlib import asynccontextmanager
from datetime import date, time
from typing import TYPE_CHECKING, Final

from . import config
from .client import SecretClient
from .plugins import registry
from .secret import SecretRef

if TYPE_CHECKING:
    import argparse
    from collections.abc import AsyncIterator

    from .secret import Secret

_log = logging.getLogger(__name__)
_MASK: Final = "****"


def error_line(message: str) -> None:
    """Print an error as every command does: one ``secretkit: error:`` line."""
    print(f"secretkit: error: {message}", file=sys.stderr)


def seconds(text: str) -> float:
    """An argparse type: a positive, finite number of seconds."""
    import argparse

    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def load_settings(path: str | None) -> config.Settings:
    """Read the configuration: the TOML file at ``path``, else the environment.

    :param path: ``--config``; ``None`` reads the ``SECRETKIT_*`` variables on top
        of the file ``config.find_config()`` finds (``SECRETKIT_CONFIG``,
        ``./secretkit.toml``, ``./pyproject.toml``), or the defaults
    :raises ConfigurationError: naming the key at fault and where it came from
    """
    if path is not None:
        settings = config.from_config(path)
    else:
        found = config.find_config()
        environ = dict(os.environ)
        if found is not None:
            environ["SECRETKIT_CONFIG"] = str(found)
        settings = config.from_env(
            environ, types=registry().names(), plugins=registry().plugin_names()
        )
    _log.debug("configuration from %s", settings.source)
    return settings


@asynccontextmanager
async def open_client(args: argparse.Namespace) -> AsyncIterator[SecretClient]:
    """Build the client the global options describe; close its backends after.

    :raises ConfigurationError: the configuration is invalid
    :raises BackendNotFound: a configured backend type is not installed
    """
    client = SecretClient.from_settings(load_settings(args.config))
    # Not entered with ``async with``: one command needs no background refreshes,
    # only its backends closed.
    try:
        yield client
    finally:
        await client.aclose()


async def get(args: argparse.Namespace) -> int:
    """Show one secret: reference, backend and version, the value only on request.

    :return: the exit code
    :raises InvalidReference: ``REF`` does not parse
    :raises SecretkitError: what the client raised (the caller maps it)
    """
    ref = SecretRef.parse(args.ref)
    async with open_client(args) as client:
        secret = await client.get(ref, field=args.field)
    shown = args.ref if args.field is None else f"{args.ref}#{args.field}"
    if args.json:
        print_json(_as_json(shown, secret, reveal=args.reveal))
    elif args.reveal:
        _write_value(secret.reveal())
    else:
        facts = [f"backend={secret.backend}", f"version={secret.version or '-'}"]
        if secret.stages:
            facts.append(f"stages={','.join(secret.stages)}")
        print(f"{shown}  {' '.join(facts)} value={_MASK}")
    return 0


async def ls(args: argparse.Namespace) -> int:
    """Print the names in one backend (default: the client's default), one a line.

    :return: the exit code
    :raises NotSupported: the backend cannot list
    """
    async with open_client(args) as client:
        backend = client.backend(args.backend)
        _log.debug("listing %r under %r", backend.name, args.prefix)
        async for name in backend.list(args.prefix):
            print(name)
    return 0


def _as_json(shown: str, secret: Secret, *, reveal: bool) -> dict[str, object]:
    document: dict[str, object] = {
        "ref": shown,
        "backend": secret.backend,
        "name": secret.name,
        "field": secret.field_path,
        "version": secret.version,
        "stages": list(secret.stages),
        "created": secret.created,
        "metadata": dict(secret.metadata),
        "value": _MASK,
    }
    if reveal:
        value = secret.reveal()
        if isinstance(value, bytes):
            document["value"] = base64.b64encode(value).decode("ascii")
            document["encoding"] = "base64"
        else:
            document["value"] = value
    return document


def print_json(document: object) -> None:
    """Print ``document`` as indented JSON; dates as ISO 8601, other objects as text."""
    print(json.dumps(document, indent=2, default=_as_text))


def _as_text(item: object) -> str:
    return item.isoformat() if isinstance(item, (date, time)) else str(item)


def _write_value(value: str | bytes) -> None:
    out = sys.stdout
    if isinstance(value, bytes):
        out.flush()
        out.buffer.write(value)
        out.buffer.flush()
        return
    out.write(value)
    if out.isatty() and not value.endswith("\n"):
        out.write("\n")  # keeps the shell prompt off the value's line
    out.flush()
