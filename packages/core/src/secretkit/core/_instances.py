"""The backend instances of one client: built from settings, called on the right loop.

Instances are built when the client is (so bad options fail early) but connect on
first use. An installed type used by name without configuration (``env://X``) gets
an instance with default options on first use. Calls to an asyncio-only backend
made under trio go to the private asyncio loop thread; blocking backends share one
bounded thread limiter.
"""

from __future__ import annotations

__all__ = ("Instance", "Instances")

import logging
import os
from typing import TYPE_CHECKING, final

import anyio

from ._loops import on_asyncio, running_trio
from .backend import Backend
from .config import BackendSpec
from .errors import ConfigurationError
from .options import Options

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .backend import Runs
    from .config import Settings
    from .plugins import Registry

_log = logging.getLogger(__name__)


def _seconds(text: str, where: str, name: str) -> float:
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not seconds >= 0:
        raise ConfigurationError(
            f"backends.{name}.ttl ({where}): expected seconds, got {text!r}",
            key=f"backends.{name}.ttl",
            source=where,
            backend=name,
        )
    return seconds


@final
class Instance:
    """One backend instance: the object, how its SDK runs, its own TTL."""

    __slots__ = ("backend", "runs", "ttl")

    def __init__(self, backend: Backend, runs: Runs, ttl: float | None) -> None:
        self.backend = backend
        self.runs = runs
        self.ttl = ttl

    async def call(
        self, func: Callable[..., Awaitable[object]], *args: object
    ) -> object:
        """Await one of the backend's methods on the loop its SDK needs."""
        if self.runs == "asyncio" and running_trio():
            return await on_asyncio(lambda: func(*args))  # type: ignore[arg-type,return-value]
        return await func(*args)


@final
class Instances:
    """Every backend instance of one client, by name.

    :raises ConfigurationError: a backend rejected its options
    :raises BackendNotFound: a configured type is not installed
    """

    def __init__(self, settings: Settings, plugins: Registry) -> None:
        self._settings = settings
        self._plugins = plugins
        self._limiter = anyio.CapacityLimiter(settings.max_threads)
        self._pid = os.getpid()
        self._built = {
            name: self._build(name, spec) for name, spec in settings.backends.items()
        }

    def _build(self, name: str, spec: BackendSpec | Backend) -> Instance:
        if isinstance(spec, Backend):
            return Instance(spec, getattr(spec, "runs", "anyio"), None)
        factory = self._plugins.factory(spec.type)
        canonical = self._plugins.canonical(spec.type)
        shared: dict[str, str] = {}  # SECRETKIT_<TYPE>_<OPTION>, under the instance's
        origins: dict[str, str] = {}
        for type_name, values in self._settings.type_options.items():
            if self._plugins.canonical(type_name) == canonical:
                prefix = "SECRETKIT_" + type_name.upper().replace("-", "_")
                for option, value in values.items():
                    shared[option] = value
                    origins[option] = f"environment {prefix}_{option.upper()}"
        ttl = spec.ttl
        if ttl is None and "ttl" in shared:
            ttl = _seconds(shared.pop("ttl"), origins["ttl"], name)
        own = {key for key in spec.options if key in shared}
        options = Options(
            {**shared, **spec.options},
            instance=name,
            source=spec.source,
            from_text=spec.from_text or bool(shared),
            origins={key: where for key, where in origins.items() if key not in own},
        )
        backend = factory.create(options)
        options.done()  # even when a factory forgets: unknown keys always fail
        backend.name = name
        if factory.runs == "blocking":
            backend._limiter = self._limiter
        return Instance(backend, factory.runs, ttl)

    def names(self) -> tuple[str, ...]:
        """The instances built so far, configured ones first."""
        return tuple(self._built)

    def get(self, name: str) -> Instance:
        """Return an instance, building one for an installed type on first use.

        :raises BackendNotFound: neither configured nor an installed type
        :raises ConfigurationError: the type needs options (``file`` needs a path)
        """
        found = self._built.get(name)
        if found is None:
            try:
                self._plugins.factory(name)
            except LookupError:
                raise self._plugins.not_found(
                    name, configured=tuple(self._settings.backends)
                ) from None
            spec = BackendSpec(
                name=name, type=name, options={}, source=f"{name}:// with no options"
            )
            found = self._built[name] = self._build(name, spec)
        return found

    def after_fork(self) -> None:
        """In a forked child: new backend objects, so no parent connection is reused.

        Ready ``Backend`` objects given by the caller are kept: we cannot rebuild them.
        """
        if self._pid == os.getpid():
            return
        self._pid = os.getpid()
        self._built = {
            name: self._build(name, spec)
            for name, spec in self._settings.backends.items()
        }

    @property
    def forked(self) -> bool:
        """True in a forked child until :meth:`after_fork` ran."""
        return self._pid != os.getpid()

    async def aclose(self) -> None:
        """Close every backend; one failing does not keep the others open."""
        with anyio.CancelScope(shield=True):
            for instance in self._built.values():
                try:
                    await instance.call(instance.backend.aclose)
                except Exception:
                    _log.exception("closing backend %r failed", instance.backend.name)
