"""The hooks a secretkit plugin can implement, and the markers to implement them.

A plugin is a module (or object) named by an entry point in the ``secretkit`` group::

    [project.entry-points.secretkit]
    mybackend = "mypackage.plugin"

whose functions are marked with :data:`hookimpl`. Our own backends register exactly
this way.
"""

from __future__ import annotations

__all__ = ("CacheResult", "FetchEvent", "Outcome", "hookimpl", "hookspec")

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import pluggy

if TYPE_CHECKING:
    from .backend import BackendFactory
    from .commands import Command
    from .credentials import CredentialProviderFactory

hookspec = pluggy.HookspecMarker("secretkit")
hookimpl = pluggy.HookimplMarker("secretkit")

Outcome = Literal[
    "ok",
    "not_found",
    "access_denied",
    "credential_error",
    "unavailable",
    "error",
    "cancelled",
]
CacheResult = Literal["hit", "miss", "stale", "negative", "refresh", "bypass"]


@dataclass(frozen=True, slots=True, kw_only=True)
class FetchEvent:
    """One lookup through a client, as observers see it. Never holds a value.

    :param backend: the backend instance name
    :param name: the secret name
    :param version: the version asked for, or the one returned when finished
    :param outcome: how it ended (``ok`` on start)
    :param cache: ``hit`` (fresh), ``miss`` (fetched), ``stale`` (served through an
        outage), ``negative`` (remembered not-found), ``refresh`` (background
        refresh-ahead), ``bypass`` (no cache involved)
    :param duration: seconds from start to finish (``0.0`` on start)
    :param error: the error class name when the outcome is not ``ok``
    """

    backend: str
    name: str
    version: str | None
    outcome: Outcome
    cache: CacheResult
    duration: float
    error: str | None = None


@hookspec
def secretkit_register_backends() -> list[BackendFactory]:  # type: ignore[empty-body]
    """Return the backend types this plugin provides.

    Called once per process, when the first client is built. Keep it cheap: import
    no SDK here; factories import theirs on first use.

    :return: one factory per backend type
    """


@hookspec
def secretkit_register_credential_providers() -> list[CredentialProviderFactory]:  # type: ignore[empty-body]
    """Return credential providers to add to a backend's chain.

    Each factory names the chain it joins (``aws``, ``vault``, ``azure``) and its
    place in it; backends build their chain from everything registered.

    :return: one factory per provider
    """


@hookspec
def secretkit_register_commands() -> list[Command]:  # type: ignore[empty-body]
    """Return subcommands to add to the ``secretkit`` command line.

    Called when the command line is built, never by clients. Import nothing heavy
    here: a command's handler imports what it needs when it runs.

    :return: one :class:`~secretkit.core.commands.Command` per subcommand
    """


@hookspec
def secretkit_fetch_started(event: FetchEvent) -> None:
    """Called before a client asks a backend for a secret (cache misses and refreshes).

    Never given a value.

    :param event: backend, name and version asked for; ``cache`` says why
    """


@hookspec
def secretkit_fetch_finished(event: FetchEvent) -> None:
    """Called after every lookup through a client, hit or miss, on the caller's task.

    Never given a value. Keep it cheap: it runs on the cache-hit path.

    :param event: backend, name, version, outcome, duration and cache result
    """
