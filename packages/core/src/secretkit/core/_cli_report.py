"""``secretkit info``, ``doctor`` and ``plugins``: what is installed, and does it work.

Part of the ``secretkit`` command (:mod:`secretkit.core.cli`), not a public API.
Configuration is shown through ``Settings.describe()``, which masks every
sensitive-looking option.
"""

from __future__ import annotations

__all__ = ("doctor", "info", "plugins", "version")

import json
import logging
import os
import platform
import sys
from typing import TYPE_CHECKING

import anyio

from ._cli_read import load_settings, open_client, print_json
from .client import SecretClient
from .errors import NotSupported, SecretkitError
from .plugins import PluginInfo, registry

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator, Mapping

_log = logging.getLogger(__name__)


def version() -> str:
    """Return the installed version of the ``secretkit`` distribution."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("secretkit")
    except PackageNotFoundError:  # running from a source tree
        return "unknown"


async def info(args: argparse.Namespace) -> int:
    """Print versions, plugins, backend types and the effective configuration.

    :return: the exit code
    :raises ConfigurationError: the configuration is invalid
    """
    async with open_client(args) as client:
        settings, default = client.settings, client.default
    found = registry()
    configuration = settings.describe()
    configuration["default"] = default  # the effective one, also when implicit
    source = settings.source
    if args.config is None and not any(
        name.startswith("SECRETKIT_") for name in os.environ
    ):
        source = "defaults (no --config, SECRETKIT_CONFIG or SECRETKIT_* variables)"
    report: dict[str, object] = {
        "versions": {"python": platform.python_version(), "secretkit": version()},
        "plugins": [_plugin_json(plugin) for plugin in found.plugins],
        "backend_types": {
            name: found.factory(name).description for name in found.types()
        },
        "source": source,
        "configuration": configuration,
    }
    if args.json:
        print_json(report)
        return 0
    print(
        f"secretkit {version()}, Python {platform.python_version()} "
        f"({platform.python_implementation()}, {sys.executable})"
    )
    print("plugins:")
    for line in _plugin_lines(found.plugins):
        print(f"  {line}")
    print("backend types:")
    width = max(map(len, found.types()), default=0)
    for name in found.types():
        print(f"  {name:<{width}}  {found.factory(name).description}".rstrip())
    print(f"configuration (from {source}):")
    for key, value in _flatten(configuration, "", settings.source):
        print(f"  {key} = {json.dumps(value, default=str)}")
    return 0


async def doctor(args: argparse.Namespace) -> int:
    """Check plugins, configuration and each backend; print one line for each.

    A backend that cannot check (``NotSupported``) is skipped, not failed.

    :return: 0 when nothing failed, 2 for an invalid configuration, else 1
    """
    failures = 0
    for plugin in registry().plugins:
        if plugin.error is not None:
            _report(
                "plugin",
                "FAILED",
                f"{plugin.name} ({plugin.distribution}): {plugin.error}",
            )
            failures += 1
    try:
        client = SecretClient.from_settings(load_settings(args.config))
    except SecretkitError as exc:
        _report("config", "FAILED", exc.message)
        return 2
    _report(
        "config", "ok", f"{client.settings.source}; default backend {client.default}"
    )
    try:
        for name in dict.fromkeys([*client.backend_names, client.default]):
            status, detail = "FAILED", f"no answer within {args.timeout:g} seconds"
            with anyio.move_on_after(args.timeout):
                status, detail = await _check(client, name)
            _report("backend", status, f"{name}: {detail}")
            failures += status == "FAILED"
    finally:
        await client.aclose()
    if failures:
        print(f"secretkit: doctor: {failures} check(s) failed", file=sys.stderr)
        return 1
    return 0


async def plugins(args: argparse.Namespace) -> int:
    """Print each plugin: entry point, distribution, backend types or load error.

    :return: the exit code (0, also when a plugin failed to load)
    """
    lines = _plugin_lines(registry().plugins)
    for line in lines or ["no secretkit plugins installed"]:
        print(line)
    return 0


async def _check(client: SecretClient, name: str) -> tuple[str, str]:
    _log.debug("checking backend %r", name)
    try:
        return "ok", await client.backend(name).check()
    except NotSupported as exc:
        return "skipped", exc.message
    except SecretkitError as exc:
        return "FAILED", exc.message
    except Exception as exc:  # a backend's bug fails its line, not the others
        _log.debug("checking backend %r raised", name, exc_info=True)
        return (
            "FAILED",
            f"unexpected {type(exc).__name__}; run with -v for the traceback",
        )


def _report(kind: str, status: str, detail: str) -> None:
    print(f"{kind:<8} {status:<8} {detail}")


def _plugin_lines(found: list[PluginInfo]) -> list[str]:
    name_width = max((len(plugin.name) for plugin in found), default=0)
    dist_width = max((len(plugin.distribution) for plugin in found), default=0)
    return [
        f"{plugin.name:<{name_width}}  {plugin.distribution:<{dist_width}}  "
        + (
            f"FAILED: {plugin.error}"
            if plugin.error is not None
            else ", ".join(plugin.backends) or "(no backend types)"
        )
        for plugin in found
    ]


def _plugin_json(plugin: PluginInfo) -> dict[str, object]:
    return {
        "name": plugin.name,
        "distribution": plugin.distribution,
        "backends": list(plugin.backends),
        "error": plugin.error,
    }


def _flatten(
    tree: Mapping[str, object], prefix: str, source: str
) -> Iterator[tuple[str, object]]:
    """Yield ``(dotted key, leaf)``; a backend's ``(source)`` only where it differs."""
    for key, value in tree.items():
        if key == "(source)" and (not prefix or value == source):
            continue
        if isinstance(value, dict) and value:
            yield from _flatten(value, f"{prefix}{key}.", source)
        else:
            yield f"{prefix}{key}", value
