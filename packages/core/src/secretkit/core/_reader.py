"""How a client turns references into secrets: routes, cache, backends, observers.

``SecretClient`` is the public face and owns the lifetime; this is the machinery
behind a miss. Its ``routes`` and ``cache`` are read directly by the hit paths of
``SecretClient.get`` and ``SyncSecretClient.get``.
"""

from __future__ import annotations

__all__ = ("Reader", "Route")

import time
from functools import partial
from typing import TYPE_CHECKING, Final, cast, final

import anyio

from ._instances import Instance, Instances
from ._observe import Observers
from ._slots import DEAD, Flight
from .backend import Backend, SecretValue
from .cache import Cache
from .errors import (
    BackendError,
    BackendUnavailable,
    InvalidReference,
    SecretkitError,
)
from .plugins import Registry, registry
from .secret import Secret, SecretRef

if TYPE_CHECKING:
    from collections.abc import Callable, Coroutine, Mapping
    from typing import Any

    from anyio.abc import TaskGroup

    from .config import Settings
    from .hookspecs import CacheResult

    Key = tuple[str, str, str | None, str | None]

_MAX_ROUTES: Final = 100_000  # parsed references kept; a bound against unbounded input


@final
class Route:
    """A parsed, resolved reference: its slot, cache key, field, and backend ref."""

    __slots__ = ("field", "instance", "key", "ref", "slot")

    def __init__(self, ref: SecretRef, instance: str) -> None:
        self.slot = DEAD
        self.ref = SecretRef(
            name=ref.name, backend=instance, version=ref.version, stage=ref.stage
        )
        self.instance = instance
        self.field = ref.field
        self.key: Key = (instance, ref.name, ref.version, ref.stage)


@final
class Reader:
    """The machinery of one client, shared with its sync facade.

    :raises ConfigurationError: a backend rejected its options
    :raises BackendNotFound: the default or a configured type is not installed
    """

    def __init__(
        self,
        settings: Settings,
        clock: Callable[[], float] | None,
        plugins: Registry | None,
    ) -> None:
        plugins = plugins if plugins is not None else registry()
        self.clock = clock or time.monotonic
        self.cache: Cache[Key] = Cache(settings.cache, clock=self.clock)
        self.routes: dict[object, Route] = {}
        self.instances = Instances(settings, plugins)
        configured = self.instances.names()
        self.default = settings.default or (
            configured[0] if len(configured) == 1 else "env"
        )
        self.instances.get(self.default)  # BackendNotFound now, not at first use
        self.observers = Observers(plugins)
        self.tg: TaskGroup | None = None  # the client's, while it is entered
        self.closed = False

    def after_fork(self) -> None:
        """In a forked child: fresh backends; the parent's task group is not here."""
        self.instances.after_fork()
        self.tg = None

    def route(self, ref: str | SecretRef) -> Route:
        route = self.routes.get(ref)
        if route is None:
            parsed = ref if isinstance(ref, SecretRef) else SecretRef.parse(ref)
            instance = parsed.backend or self.default
            self.instances.get(instance)
            if len(self.routes) >= _MAX_ROUTES:
                self.routes.clear()
            route = self.routes[ref] = Route(parsed, instance)
        return route

    def hit(self, route: Route, secret: Secret) -> None:
        self.observers.finished(
            route.instance, route.ref.name, secret.version, "hit", 0.0
        )

    async def get(
        self, ref: str | SecretRef, field: str | None, ttl: float | None
    ) -> Secret:
        if self.closed:
            raise SecretkitError("this SecretClient is closed", ref=str(ref))
        if self.instances.forked:
            self.after_fork()
        route = self.route(ref)
        if field is not None and route.field is not None:
            raise InvalidReference(
                "a field is given both in the reference and as field=", ref=str(ref)
            )
        field = route.field if field is None else field
        if field is not None and not field:
            raise InvalidReference("empty field=", ref=str(ref))
        observers = self.observers
        started = self.clock()
        negatives = self.cache.negative_hits
        try:
            secret, how = await self.cache.get(
                route.key,
                partial(self.load, route),
                ttl=ttl if ttl is not None else self.instances.get(route.instance).ttl,
                max_age=ttl,
                spawn=self.spawn if self.tg is not None else None,
            )
            route.slot = self.cache.slot(route.key)
            if field is not None:
                secret = self.cache.field(route.key, secret, field)
        except BaseException as exc:
            if observers.active:
                how = "negative" if self.cache.negative_hits > negatives else "miss"
                self._finished(route, route.ref.version, how, started, exc)
            raise
        if observers.active:
            self._finished(route, secret.version, how, started)
        return secret

    def _finished(
        self,
        route: Route,
        version: str | None,
        how: CacheResult,
        started: float,
        error: BaseException | None = None,
    ) -> None:
        self.observers.finished(
            route.instance,
            route.ref.name,
            version,
            how,
            self.clock() - started,
            error,
        )

    async def load(self, route: Route, refresh: bool) -> tuple[Secret, float | None]:
        """Fetch one secret from its backend: what the cache calls on a miss."""
        instance = self.instances.get(route.instance)
        observers = self.observers
        how: CacheResult = "refresh" if refresh else "miss"
        if observers.active:
            observers.started(route.instance, route.ref.name, route.ref.version, how)
        started = self.clock()
        try:
            value = await instance.call(instance.backend.fetch, route.ref)
            if not isinstance(value, SecretValue):
                raise BackendError(
                    f"backend {route.instance!r} returned {type(value).__name__}, "
                    "not a SecretValue",
                    ref=str(route.ref),
                    backend=route.instance,
                )
        except BaseException as exc:
            if refresh and observers.active:  # no caller is there to report it
                self._finished(route, route.ref.version, how, started, exc)
            if isinstance(exc, Exception) and not isinstance(exc, SecretkitError):
                raise BackendError(
                    f"backend {route.instance!r} failed reading {route.ref.name!r}: "
                    f"{type(exc).__name__}",
                    ref=str(route.ref),
                    backend=route.instance,
                ) from exc
            raise
        if refresh and observers.active:
            self._finished(route, value.version, how, started)
        return self.secret(route, value), value.ttl

    def secret(self, route: Route, value: SecretValue) -> Secret:
        return Secret(
            route.ref.name,
            value.value,
            version=value.version,
            stages=value.stages,
            created=value.created,
            backend=route.instance,
            metadata=value.metadata,
        )

    def spawn(self, func: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self.tg is None or self.closed:
            raise SecretkitError("this SecretClient is closed")
        self.tg.start_soon(func)

    async def prefetch(
        self, refs: list[str | SecretRef]
    ) -> dict[str | SecretRef, Flight | None]:
        """Start one batch call per backend that has a batch API (``fetch_many``).

        :return: the references such a backend serves, with the flight that
            fetches each (``None``: cached already); their gets only wait, in turn
        """
        covered: dict[str | SecretRef, Flight | None] = {}
        if self.closed:
            return covered
        groups: dict[str, dict[Key, Route]] = {}
        for ref in refs:
            try:
                route = self.route(ref)
            except SecretkitError:
                continue  # get() raises it again, for this ref alone
            backend = self.instances.get(route.instance).backend
            if type(backend).fetch_many is not Backend.fetch_many:
                groups.setdefault(route.instance, {})[route.key] = route
                covered[ref] = None
        for name, routes in groups.items():
            instance = self.instances.get(name)
            flights = await self.cache.prefetch(
                routes,
                partial(self.load_many, instance, routes),
                ttl=instance.ttl,
                spawn=self.spawn if self.tg is not None else None,
            )
            for ref in covered:
                key = self.route(ref).key
                if key in flights:
                    covered[ref] = flights[key]
        return covered

    def settled(self, ref: str | SecretRef, flight: Flight) -> SecretkitError | None:
        """The error a batch ended with for ``ref``, when asking again is no help.

        ``None`` means read it as usual: it is cached now (or stale is servable, or
        the batch was abandoned and a single read should retry).
        """
        error = flight.error
        if flight.abandoned or not isinstance(error, SecretkitError):
            if flight.secret is not None:  # cached: its get() takes the hit path
                route = self.route(ref)
                route.slot = self.cache.slot(route.key)
            return None
        route = self.route(ref)
        if isinstance(error, BackendUnavailable) and self.cache.stale_value(route.key):
            return None  # get() serves the stale value, without another call
        if self.observers.active:
            self._finished(route, route.ref.version, "miss", self.clock(), error)
        return error

    async def load_many(
        self, instance: Instance, routes: dict[Key, Route], keys: list[Key]
    ) -> dict[Key, tuple[Secret, float | None] | Exception]:
        """Fetch several secrets in one backend call: what the cache's batch calls."""
        by_ref = {routes[key].ref: key for key in keys}
        if self.observers.active:
            for key in keys:
                ref = routes[key].ref
                self.observers.started(
                    instance.backend.name, ref.name, ref.version, "miss"
                )
        try:
            values = await instance.call(instance.backend.fetch_many, list(by_ref))
        except (SecretkitError, anyio.get_cancelled_exc_class()):
            raise
        except Exception as exc:
            raise BackendError(
                f"backend {instance.backend.name!r} failed a batch read: "
                f"{type(exc).__name__}",
                backend=instance.backend.name,
            ) from exc
        outcomes: dict[Key, tuple[Secret, float | None] | Exception] = {}
        for ref, value in cast("Mapping[SecretRef, object]", values).items():
            found = by_ref.get(ref)
            if found is None:
                continue
            if isinstance(value, SecretValue):
                outcomes[found] = (self.secret(routes[found], value), value.ttl)
            elif isinstance(value, SecretkitError):
                outcomes[found] = value
        return outcomes
