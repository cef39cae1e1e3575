"""Finding plugins: the ``secretkit`` entry-point group, the backend registry.

Plugins load once per process, on first need (never at import). A plugin that fails
to import is reported by ``secretkit plugins`` and ``doctor`` instead of breaking
every client.
"""

from __future__ import annotations

__all__ = ("FetchLog", "PluginInfo", "Registry", "registry")

import logging
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, cast

import pluggy

from . import hookspecs
from .errors import BackendNotFound
from .hookspecs import FetchEvent, hookimpl

if TYPE_CHECKING:
    from .backend import BackendFactory
    from .commands import Command
    from .credentials import CredentialProviderFactory

_log = logging.getLogger(__name__)
_fetch_log = logging.getLogger("secretkit.fetch")

GROUP: Final = "secretkit"
# Where the backends we know of come from, for a helpful BackendNotFound.
_INSTALL_HINTS: Final = {
    "aws": "secretkit[aws]",
    "aws-secrets-manager": "secretkit[aws]",
    "aws-ssm": "secretkit[aws]",
    "azure": "secretkit[azure]",
    "azure-key-vault": "secretkit[azure]",
    "vault": "secretkit[vault]",
    "openbao": "secretkit[vault]",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class PluginInfo:
    """One loaded (or broken) plugin, as ``secretkit plugins`` lists it.

    :param name: the entry-point name
    :param distribution: the distribution that ships it, with its version
    :param backends: backend types it registers
    :param error: why it failed to load, if it did
    """

    name: str
    distribution: str
    backends: tuple[str, ...] = ()
    error: str | None = None


class FetchLog:
    """A ready plugin that logs every fetch event at DEBUG on ``secretkit.fetch``.

    Clients include it when that logger is enabled for DEBUG at their creation.
    """

    @hookimpl
    def secretkit_fetch_started(self, event: FetchEvent) -> None:
        """Log that a backend call starts."""
        _fetch_log.debug(
            "fetch %s://%s version=%s cache=%s started",
            event.backend,
            event.name,
            event.version,
            event.cache,
        )

    @hookimpl
    def secretkit_fetch_finished(self, event: FetchEvent) -> None:
        """Log how a lookup ended."""
        _fetch_log.debug(
            "fetch %s://%s version=%s cache=%s outcome=%s%s in %.3f ms",
            event.backend,
            event.name,
            event.version,
            event.cache,
            event.outcome,
            f" ({event.error})" if event.error else "",
            event.duration * 1000,
        )


@dataclass(slots=True)
class Registry:
    """The plugin manager and the backend types its plugins registered.

    :param manager: the pluggy plugin manager (project ``secretkit``)
    """

    manager: pluggy.PluginManager
    plugins: list[PluginInfo] = field(default_factory=list)
    _factories: dict[str, BackendFactory] = field(default_factory=dict)
    _types: dict[str, str] = field(default_factory=dict)
    fetch_log: FetchLog = field(default_factory=FetchLog)

    @classmethod
    def load(cls, *, entry_points: bool = True) -> Registry:
        """Build a registry from the installed ``secretkit`` entry points."""
        manager = pluggy.PluginManager(GROUP)
        manager.add_hookspecs(hookspecs)
        registry = cls(manager)
        manager.register(registry.fetch_log, name="secretkit.fetch-log")
        if entry_points:
            registry._load_entry_points()
        registry._collect()
        return registry

    def _load_entry_points(self) -> None:
        from importlib.metadata import entry_points

        for ep in sorted(entry_points(group=GROUP), key=lambda ep: ep.name):
            dist = f"{ep.dist.name} {ep.dist.version}" if ep.dist else "unknown"
            if self.manager.has_plugin(ep.name):
                continue
            try:
                plugin = ep.load()
                self.manager.register(plugin, name=ep.name)
            except Exception as exc:  # a broken plugin must not break every client
                _log.warning("secretkit plugin %r failed to load: %s", ep.name, exc)
                self.plugins.append(
                    PluginInfo(name=ep.name, distribution=dist, error=str(exc))
                )
                continue
            self.plugins.append(PluginInfo(name=ep.name, distribution=dist))

    def register(self, plugin: object, *, name: str | None = None) -> None:
        """Register a plugin object by hand (tests, applications) and its backends."""
        self.manager.register(plugin, name=name)
        self.plugins.append(
            PluginInfo(name=name or type(plugin).__name__, distribution="(registered)")
        )
        self._collect()

    def _collect(self) -> None:
        self._factories.clear()
        self._types.clear()
        provided: dict[str, list[str]] = {}
        for impl in reversed(
            self.manager.hook.secretkit_register_backends.get_hookimpls()
        ):
            factories = cast("list[BackendFactory]", impl.function() or [])
            for factory in factories:
                for type_name in (factory.type, *factory.aliases):
                    self._factories.setdefault(type_name, factory)
                    self._types.setdefault(type_name, factory.type)
                provided.setdefault(impl.plugin_name, []).append(factory.type)
        self.plugins[:] = [
            PluginInfo(
                name=info.name,
                distribution=info.distribution,
                backends=tuple(provided.get(info.name, ())),
                error=info.error,
            )
            for info in self.plugins
        ]

    def factory(self, type_name: str) -> BackendFactory:
        """Return the factory for a backend type or alias.

        :raises BackendNotFound: naming the installed types and what to install
        """
        found = self._factories.get(type_name)
        if found is None:
            raise self.not_found(type_name)
        return found

    def not_found(
        self, name: str, *, configured: tuple[str, ...] = ()
    ) -> BackendNotFound:
        """The error for a backend name neither configured nor installed."""
        installed = self.types()
        hint = _INSTALL_HINTS.get(name)
        todo = (
            f"install it with: pip install '{hint}'"
            if hint
            else "configure it under backends= or install a plugin that provides it"
        )
        where = f"configured: {', '.join(configured)}; " if configured else ""
        return BackendNotFound(
            f"no backend {name!r} ({where}installed: {', '.join(installed)}); {todo}",
            installed=installed,
            backend=name,
        )

    def types(self) -> tuple[str, ...]:
        """The installed backend types (not aliases), sorted."""
        return tuple(sorted(set(self._types.values())))

    def names(self) -> tuple[str, ...]:
        """Every installed type name and alias, sorted."""
        return tuple(sorted(self._factories))

    def plugin_names(self) -> tuple[str, ...]:
        """The loaded plugins' names: ``SECRETKIT_<NAME>_*`` variables are theirs."""
        return tuple(info.name for info in self.plugins if info.error is None)

    def canonical(self, type_name: str) -> str:
        """The type name an alias stands for."""
        return self._types.get(type_name, type_name)

    def commands(self) -> list[Command]:
        """The subcommands plugins add to the command line, first plugin first."""
        found: dict[str, Command] = {}
        for impl in reversed(
            self.manager.hook.secretkit_register_commands.get_hookimpls()
        ):
            for command in cast("list[Command]", impl.function() or []):
                found.setdefault(command.name, command)
        return list(found.values())

    def credential_factories(self, kind: str) -> list[CredentialProviderFactory]:
        """Credential providers registered for chains of ``kind``, in chain order."""
        found = [
            factory
            for batch in self.manager.hook.secretkit_register_credential_providers()
            for factory in batch
            if factory.kind == kind
        ]
        return sorted(found, key=lambda factory: factory.order)


_lock = threading.Lock()
_registry: Registry | None = None


def registry() -> Registry:
    """Return the process-wide registry, loading entry points on first call."""
    global _registry
    if _registry is None:
        with _lock:
            if _registry is None:
                _registry = Registry.load()
    return _registry
