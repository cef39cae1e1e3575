"""``SecretClient``, the async API, and ``SyncSecretClient``, its blocking facade.

    backends = {"aws": {"region": "us-east-1"}}
    async with SecretClient(default="aws", backends=backends) as client:
        secret = await client.get("mlflow/auth")

Enter the client (``async with``) so fetches and refreshes run in its own task group:
then a cancelled caller never cancels a fetch others wait for, and refresh-ahead
runs in the background. A client used without ``async with`` still works: the
first caller fetches and refresh-ahead is off.
"""

from __future__ import annotations

__all__ = ("SecretBatch", "SecretClient", "SyncSecretClient")

import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from functools import partial
from typing import TYPE_CHECKING, Final, Self, TypeVar, cast, final

import anyio

from . import config
from ._loops import LoopThread, on_asyncio, running_trio
from .backend import Backend, SecretValue
from .cache import DEAD, Cache, CachePolicy, CacheStats
from .errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    ConfigurationError,
    CredentialError,
    SecretkitError,
    SecretNotFound,
)
from .hookspecs import FetchEvent
from .options import Options
from .plugins import Registry, registry
from .secret import Secret, SecretRef

if TYPE_CHECKING:
    from collections.abc import (
        AsyncGenerator,
        Awaitable,
        Callable,
        Coroutine,
        Generator,
        Iterable,
    )
    from types import TracebackType
    from typing import Any

    from anyio.abc import TaskGroup

    from .backend import Runs
    from .hookspecs import CacheResult, Outcome

    Key = tuple[str, str, str | None, str | None]

_T = TypeVar("_T")
_log = logging.getLogger(__name__)
_fetch_log = logging.getLogger("secretkit.fetch")
_MAX_ROUTES: Final = 100_000  # parsed references kept; a bound against unbounded input
_OUTCOMES: Final[tuple[tuple[type[Exception], Outcome], ...]] = (
    (SecretNotFound, "not_found"),
    (AccessDenied, "access_denied"),
    (CredentialError, "credential_error"),
    (BackendUnavailable, "unavailable"),
)


@final
class SecretBatch(Mapping[str, Secret]):
    """What ``get_many`` returns: the secrets fetched, by the reference asked for.

    :ivar errors: reference to the error for each one that failed
    """

    __slots__ = ("_found", "errors")

    def __init__(
        self, found: dict[str, Secret], errors: dict[str, SecretkitError]
    ) -> None:
        self._found = found
        self.errors = errors

    def __getitem__(self, ref: str) -> Secret:
        return self._found[ref]

    def __iter__(self) -> Iterator[str]:
        return iter(self._found)

    def __len__(self) -> int:
        return len(self._found)

    def __repr__(self) -> str:
        return f"SecretBatch(found={sorted(self._found)}, errors={sorted(self.errors)})"


@final
class _Route:
    """A parsed, resolved reference: cache key, field and the ref a backend sees."""

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
class _Instance:
    __slots__ = ("backend", "runs", "ttl")

    def __init__(self, backend: Backend, runs: Runs, ttl: float | None) -> None:
        self.backend = backend
        self.runs = runs
        self.ttl = ttl


def _outcome(exc: BaseException) -> Outcome:
    if isinstance(exc, anyio.get_cancelled_exc_class()):
        return "cancelled"
    return next((name for cls, name in _OUTCOMES if isinstance(exc, cls)), "error")


class SecretClient:
    """Read secrets from any configured backend, through one cache.

    :param default: the backend instance for references without ``backend://``;
        if not given: the only configured backend, else ``env``
    :param backends: instance name to options (``{"aws": {"region": ...}}``; a
        ``type`` key picks the backend type when the name is not one) or to a
        ready ``Backend`` object
    :param cache: the cache policy
    :param ttl: shortcut for ``cache=CachePolicy(ttl=...)``
    :param max_threads: worker threads for blocking SDKs
    :param clock: monotonic seconds for the cache (tests pass their own)
    :param plugins: the plugin registry (default: the installed entry points)
    :raises ConfigurationError: bad options, naming the key and where it came from
    :raises BackendNotFound: a configured backend type is not installed
    """

    def __init__(
        self,
        *,
        default: str | None = None,
        backends: Mapping[str, Mapping[str, object] | Backend] | None = None,
        cache: CachePolicy | None = None,
        ttl: float | None = None,
        max_threads: int = 8,
        clock: Callable[[], float] | None = None,
        plugins: Registry | None = None,
    ) -> None:
        settings = config.from_kwargs(
            default=default,
            backends=backends,
            cache=cache,
            ttl=ttl,
            max_threads=max_threads,
        )
        self._setup(settings, clock, plugins)

    @classmethod
    def from_settings(
        cls,
        settings: config.Settings,
        *,
        clock: Callable[[], float] | None = None,
        plugins: Registry | None = None,
    ) -> Self:
        """Build a client from validated settings (see ``secretkit.core.config``)."""
        client = cls.__new__(cls)
        client._setup(settings, clock, plugins)
        return client

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Build a client from ``SECRETKIT_*`` variables (and ``SECRETKIT_CONFIG``).

        :raises ConfigurationError: naming the variable at fault
        """
        return cls.from_settings(config.from_env(environ))

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None) -> Self:
        """Build a client from a TOML file or ``[tool.secretkit]`` in pyproject.toml.

        :param path: the file; ``None`` uses ``SECRETKIT_CONFIG``, ``./secretkit.toml``
            or ``./pyproject.toml``
        :raises ConfigurationError: naming the key at fault and the file
        """
        return cls.from_settings(config.from_config(path))

    def _setup(
        self,
        settings: config.Settings,
        clock: Callable[[], float] | None,
        plugins: Registry | None,
    ) -> None:
        self.settings = settings
        self._registry = plugins if plugins is not None else registry()
        self._clock = clock or time.monotonic
        self._cache: Cache[Key] = Cache(settings.cache, clock=self._clock)
        self._routes: dict[object, _Route] = {}
        self._limiter = anyio.CapacityLimiter(settings.max_threads)
        self._instances = {
            name: self._build(name, spec) for name, spec in settings.backends.items()
        }
        configured = tuple(self._instances)
        self.default = settings.default or (
            configured[0] if len(configured) == 1 else "env"
        )
        if self.default not in self._instances:
            self._registry.factory(self.default)  # raises BackendNotFound
        self._tg: TaskGroup | None = None
        self._closed = False
        self._pid = os.getpid()
        manager = self._registry.manager
        hidden = (
            [] if _fetch_log.isEnabledFor(logging.DEBUG) else [self._registry.fetch_log]
        )
        self._started = manager.subset_hook_caller("secretkit_fetch_started", hidden)
        self._finished = manager.subset_hook_caller("secretkit_fetch_finished", hidden)
        self._observed = bool(
            self._started.get_hookimpls() or self._finished.get_hookimpls()
        )

    def _build(self, name: str, spec: config.BackendSpec | Backend) -> _Instance:
        if isinstance(spec, Backend):
            return _Instance(spec, getattr(spec, "runs", "anyio"), None)
        factory = self._registry.factory(spec.type)
        options = Options(
            spec.options, instance=name, source=spec.source, from_text=spec.from_text
        )
        backend = factory.create(options)
        options.done()
        backend.name = name
        if factory.runs == "blocking":
            backend._limiter = self._limiter
        return _Instance(backend, factory.runs, spec.ttl)

    def backend(self, name: str | None = None) -> Backend:
        """Return the backend object of an instance (default: the default backend).

        :raises BackendNotFound: not configured and not an installed type
        """
        return self._instance(self.default if name is None else name).backend

    @property
    def backend_names(self) -> tuple[str, ...]:
        """The configured backend instance names."""
        return tuple(self.settings.backends)

    def _instance(self, name: str) -> _Instance:
        found = self._instances.get(name)
        if found is None:
            # An installed type used by name without configuration: env://X, file://...
            try:
                spec = config.BackendSpec(
                    name=name,
                    type=name,
                    options={},
                    source=f"{name}:// with no options",
                )
                found = self._instances[name] = self._build(name, spec)
            except (ConfigurationError, LookupError):
                raise self._registry.not_found(
                    name, configured=tuple(self._instances)
                ) from None
        return found

    def _route(self, ref: str | SecretRef) -> _Route:
        route = self._routes.get(ref)
        if route is None:
            parsed = ref if isinstance(ref, SecretRef) else SecretRef.parse(ref)
            instance = parsed.backend or self.default
            self._instance(instance)
            if len(self._routes) >= _MAX_ROUTES:
                self._routes.clear()
            route = self._routes[ref] = _Route(parsed, instance)
        return route

    # -- observation ---------------------------------------------------------

    def _emit(
        self,
        hook: str,
        route: _Route,
        version: str | None,
        outcome: Outcome,
        cache: CacheResult,
        duration: float,
        error: BaseException | None = None,
    ) -> None:
        event = FetchEvent(
            backend=route.instance,
            name=route.ref.name,
            version=version,
            outcome=outcome,
            cache=cache,
            duration=duration,
            error=type(error).__name__ if error is not None else None,
        )
        caller = self._started if hook == "started" else self._finished
        try:
            caller(event=event)
        except Exception:  # an observer's bug must not fail a lookup
            _log.exception("a secretkit_fetch_%s hook failed", hook)

    # -- lookups -------------------------------------------------------------

    async def get(
        self,
        ref: str | SecretRef,
        *,
        field: str | None = None,
        ttl: float | None = None,
    ) -> Secret:
        """Return a secret, from the cache when fresh.

        :param ref: ``[backend://]name[?version=..|stage=..][#field]`` or a SecretRef
        :param field: a JSON field (or ``/pointer``) of the value to return instead
        :param ttl: accept a cached value at most this old, and keep it this long
        :raises InvalidReference: the reference does not parse
        :raises BackendNotFound: its backend is not configured or installed
        :raises SecretNotFound: no such secret (remembered for ``negative_ttl``)
        :raises DecodeError: the field is missing or the value is not JSON
        :raises BackendError: what else the backend reported
        """
        # The hit path: no lock, no clock, no allocation (see cache.py's _Slot).
        route = self._routes.get(ref)
        if route is not None and ttl is None:
            slot = route.slot
            secret = slot.hot
            if secret is not None and (field is None or route.field is None):
                path = route.field if field is None else field
                if path is not None:
                    secret = slot.fields.get(path)
                if secret is not None:
                    slot.hits += 1
                    if self._observed:
                        self._emit("finished", route, secret.version, "ok", "hit", 0.0)
                    return secret
        return await self._get(ref, field, ttl)

    async def _get(
        self, ref: str | SecretRef, field: str | None, ttl: float | None
    ) -> Secret:
        if self._closed:
            raise SecretkitError("this SecretClient is closed", ref=str(ref))
        if self._pid != os.getpid():
            self._after_fork()
        route = self._route(ref)
        if field is not None and route.field is not None:
            raise SecretkitError(
                "a field is given both in the reference and as field=", ref=str(ref)
            )
        field = route.field if field is None else field
        if field is not None and not field:
            raise SecretkitError("empty field=", ref=str(ref))
        instance = self._instances[route.instance]
        life = ttl if ttl is not None else instance.ttl
        started = self._clock()
        negatives = self._cache.negative_hits
        try:
            secret, how = await self._cache.get(
                route.key,
                partial(self._load, route),
                ttl=life,
                max_age=ttl,
                spawn=self._spawn if self._tg is not None else None,
            )
            route.slot = self._cache.slot(route.key)
            if field is not None:
                secret = self._cache.field(route.key, secret, field)
        except BaseException as exc:
            if self._observed:
                negative = self._cache.negative_hits > negatives
                self._emit(
                    "finished",
                    route,
                    route.ref.version,
                    _outcome(exc),
                    "negative" if negative else "miss",
                    self._clock() - started,
                    exc,
                )
            raise
        if self._observed:
            self._emit(
                "finished",
                route,
                secret.version,
                "ok",
                how,
                self._clock() - started,
            )
        return secret

    async def _load(self, route: _Route, refresh: bool) -> tuple[Secret, float | None]:
        instance = self._instances[route.instance]
        backend = instance.backend
        if self._observed:
            self._emit(
                "started",
                route,
                route.ref.version,
                "ok",
                "refresh" if refresh else "miss",
                0.0,
            )
        started = self._clock()
        try:
            value = await self._call(instance, backend.fetch, route.ref)
            if not isinstance(value, SecretValue):
                raise BackendError(
                    f"backend {route.instance!r} returned {type(value).__name__}, "
                    "not a SecretValue",
                    ref=str(route.ref),
                    backend=route.instance,
                )
        except BaseException as exc:
            if refresh and self._observed:
                self._emit(
                    "finished",
                    route,
                    route.ref.version,
                    _outcome(exc),
                    "refresh",
                    self._clock() - started,
                    exc,
                )
            if isinstance(exc, Exception) and not isinstance(exc, SecretkitError):
                raise BackendError(
                    f"backend {route.instance!r} failed reading {route.ref.name!r}: "
                    f"{type(exc).__name__}",
                    ref=str(route.ref),
                    backend=route.instance,
                ) from exc
            raise
        secret = self._secret(route, value)
        if refresh and self._observed:
            self._emit(
                "finished",
                route,
                value.version,
                "ok",
                "refresh",
                self._clock() - started,
            )
        return secret, value.ttl

    async def _call(
        self, instance: _Instance, func: Callable[..., Awaitable[object]], *args: object
    ) -> object:
        if instance.runs == "asyncio" and running_trio():
            return await on_asyncio(lambda: func(*args))  # type: ignore[arg-type,return-value]
        return await func(*args)

    def _spawn(self, func: Callable[[], Coroutine[Any, Any, None]]) -> None:
        if self._tg is None or self._closed:
            raise SecretkitError("this SecretClient is closed")
        self._tg.start_soon(func)

    async def get_value(
        self,
        ref: str | SecretRef,
        *,
        field: str | None = None,
        ttl: float | None = None,
    ) -> str | bytes:
        """Return the revealed value (or one field of it): ``str``, or ``bytes``.

        Same errors as :meth:`get`.
        """
        return (await self.get(ref, field=field, ttl=ttl)).reveal()

    async def get_many(
        self, refs: Iterable[str | SecretRef], *, raise_on_error: bool = False
    ) -> SecretBatch:
        """Fetch several secrets concurrently; one failure never fails the others.

        :param refs: the references
        :param raise_on_error: raise the first failure (in ``refs`` order) instead
        :return: the secrets by reference text, and ``.errors`` for the failures
        """
        wanted = list(dict.fromkeys(refs))
        found: dict[str, Secret] = {}
        failed: dict[str, SecretkitError] = {}
        await self._prefetch(wanted)

        async def one(ref: str | SecretRef) -> None:
            try:
                found[str(ref)] = await self.get(ref)
            except SecretkitError as exc:
                failed[str(ref)] = exc

        async with anyio.create_task_group() as tg:
            for ref in wanted:
                tg.start_soon(one, ref)
        if raise_on_error:
            for ref in wanted:
                if str(ref) in failed:
                    raise failed[str(ref)]
        ordered = {str(ref): found[str(ref)] for ref in wanted if str(ref) in found}
        return SecretBatch(
            ordered, {str(r): failed[str(r)] for r in wanted if str(r) in failed}
        )

    async def _prefetch(self, refs: list[str | SecretRef]) -> None:
        """Start one batch call per backend that has a batch API (``fetch_many``)."""
        if self._closed:
            return
        groups: dict[str, dict[Key, _Route]] = {}
        for ref in refs:
            try:
                route = self._route(ref)
            except SecretkitError:
                continue  # get() raises it again, for this ref alone
            backend = self._instances[route.instance].backend
            if type(backend).fetch_many is not Backend.fetch_many:
                groups.setdefault(route.instance, {})[route.key] = route
        spawn = self._spawn if self._tg is not None else None
        for name, routes in groups.items():
            await self._cache.prefetch(
                routes,
                partial(self._load_many, self._instances[name], routes),
                ttl=self._instances[name].ttl,
                spawn=spawn,
            )

    async def _load_many(
        self, instance: _Instance, routes: dict[Key, _Route], keys: list[Key]
    ) -> dict[Key, tuple[Secret, float | None] | Exception]:
        by_ref = {routes[key].ref: key for key in keys}
        if self._observed:
            for key in keys:
                self._emit(
                    "started", routes[key], routes[key].ref.version, "ok", "miss", 0.0
                )
        try:
            values = await self._call(
                instance, instance.backend.fetch_many, list(by_ref)
            )
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
                outcomes[found] = (self._secret(routes[found], value), value.ttl)
            elif isinstance(value, SecretkitError):
                outcomes[found] = value
        return outcomes

    def _secret(self, route: _Route, value: SecretValue) -> Secret:
        return Secret(
            route.ref.name,
            value.value,
            version=value.version,
            stages=value.stages,
            created=value.created,
            backend=route.instance,
            metadata=value.metadata,
        )

    async def invalidate(self, ref: str | SecretRef) -> None:
        """Forget one secret (all its fields); the next get asks the backend."""
        route = self._route(ref)
        self._cache.invalidate(route.key)
        route.slot = DEAD

    async def clear(self) -> None:
        """Forget every cached secret."""
        self._cache.clear()

    def stats(self) -> CacheStats:
        """Return the cache counters: hits, misses, backend calls, errors, size..."""
        return self._cache.stats()

    async def watch(
        self, ref: str | SecretRef, *, interval: float | None = None
    ) -> AsyncGenerator[Secret, None]:
        """Yield the secret now, then again each time its version or value changes.

        Backends that can push (``Backend.watch``) wake the watcher; others are
        polled through the cache every ``interval`` seconds (default: the
        refresh-ahead share of the TTL, at least one second), so many watchers cost
        the backend no more than the cache's own refreshes. An outage
        (``BackendUnavailable``) is logged and waited out. Close it when done
        (``async with contextlib.aclosing(client.watch(ref)) as changes:``).

        :param interval: seconds between polls
        """
        route = self._route(ref)
        instance = self._instances[route.instance]
        policy = self._cache.policy
        life = instance.ttl if instance.ttl is not None else policy.ttl
        every = (
            interval
            if interval is not None
            else max(1.0, life * max(policy.refresh_ahead, 0.1))
        )
        try:  # subscribe before the first read, so no change falls in between
            if instance.runs == "asyncio" and running_trio():
                raise instance.backend._unsupported("watch across the trio bridge")
            changes = instance.backend.watch(route.ref)
        except SecretkitError:
            changes = None
        current = await self.get(ref)
        yield current
        try:
            while True:
                if changes is not None:
                    try:
                        await anext(changes)
                    except StopAsyncIteration:
                        changes = None
                        continue
                    await self.invalidate(ref)
                else:
                    await anyio.sleep(every)
                try:
                    latest = await self.get(ref)
                except BackendUnavailable as exc:
                    _log.warning("watching %s: %s; will retry", route.ref, exc)
                    continue
                if latest.version != current.version or latest != current:
                    current = latest
                    yield current
        finally:
            close = getattr(changes, "aclose", None)
            if close is not None:
                with anyio.CancelScope(shield=True):
                    await close()

    # -- lifetime ------------------------------------------------------------

    async def __aenter__(self) -> Self:
        if self._closed:
            raise SecretkitError("this SecretClient is closed")
        tg = anyio.create_task_group()
        await tg.__aenter__()
        tg.start_soon(self._cache.run_expiry)
        self._tg = tg
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tg, self._tg = self._tg, None
        try:
            if tg is not None:
                tg.cancel_scope.cancel()  # background refreshes are not worth a wait
                await tg.__aexit__(exc_type, exc, tb)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close every backend's connections. The client cannot be used afterwards."""
        if self._closed:
            return
        self._closed = True
        with anyio.CancelScope(shield=True):
            for instance in self._instances.values():
                try:
                    await self._call(instance, instance.backend.aclose)
                except Exception:
                    _log.exception("closing backend %r failed", instance.backend.name)

    def _after_fork(self) -> None:
        """In a forked child: new backend objects, no parent tasks or connections."""
        self._pid = os.getpid()
        self._tg = None
        for name, spec in self.settings.backends.items():
            if not isinstance(spec, Backend):
                self._instances[name] = self._build(name, spec)
        for name in list(self._instances):
            if name not in self.settings.backends:
                del self._instances[name]

    def __repr__(self) -> str:
        names = sorted(self._instances)
        return f"{type(self).__name__}(default={self.default!r}, backends={names})"


class SyncSecretClient:
    """The blocking facade of :class:`SecretClient`, for sync code; thread-safe.

    Takes the same arguments. A cache hit is served on the calling thread, touching
    no event loop; misses go to one background loop thread, started on first need
    (and anew in a forked child, which also gets fresh backend connections).
    Use it as a context manager, or call :meth:`close`.
    """

    def __init__(self, **kwargs: object) -> None:
        self._make: Callable[[], SecretClient] = partial(SecretClient, **kwargs)  # type: ignore[arg-type]
        self._setup(self._make())

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Build from ``SECRETKIT_*`` variables, like :meth:`SecretClient.from_env`."""
        return cls._wrap(partial(SecretClient.from_env, environ))

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None) -> Self:
        """Build from a TOML file, like :meth:`SecretClient.from_config`."""
        return cls._wrap(partial(SecretClient.from_config, path))

    @classmethod
    def _wrap(cls, make: Callable[[], SecretClient]) -> Self:
        sync = cls.__new__(cls)
        sync._make = make
        sync._setup(make())
        return sync

    def _setup(self, client: SecretClient) -> None:
        self._client = client
        self._cache = client._cache
        self._routes = client._routes
        self._thread = LoopThread()
        self._lock = threading.Lock()
        self._entered: object | None = None

    @property
    def client(self) -> SecretClient:
        """The async client underneath (lives on the background loop thread)."""
        return self._client

    def _run(self, func: Callable[..., Awaitable[_T]], *args: object) -> _T:
        with self._lock:
            if self._thread.forked:
                # A forked child: keep cached values, not the parent's loop or sockets.
                old = self._client
                self._client = self._make()
                self._client._cache = self._cache = old._cache
                self._client._routes = self._routes = old._routes
                self._entered = None
            if self._entered is None:
                cm = self._thread.portal().wrap_async_context_manager(self._client)
                cm.__enter__()
                self._entered = cm
        return self._thread.call(func, *args)

    def get(
        self,
        ref: str | SecretRef,
        *,
        field: str | None = None,
        ttl: float | None = None,
    ) -> Secret:
        """Return a secret, like :meth:`SecretClient.get`; hits stay on this thread."""
        # The same hit path as SecretClient.get, inlined: a call costs as much.
        route = self._routes.get(ref)
        if route is not None and ttl is None:
            slot = route.slot
            secret = slot.hot
            if secret is not None and (field is None or route.field is None):
                path = route.field if field is None else field
                if path is not None:
                    secret = slot.fields.get(path)
                if secret is not None:
                    slot.hits += 1
                    client = self._client
                    if client._observed:
                        client._emit(
                            "finished", route, secret.version, "ok", "hit", 0.0
                        )
                    return secret
        return self._run(partial(self._client.get, ref, field=field, ttl=ttl))

    def get_value(
        self,
        ref: str | SecretRef,
        *,
        field: str | None = None,
        ttl: float | None = None,
    ) -> str | bytes:
        """Return the revealed value, like :meth:`SecretClient.get_value`."""
        return self.get(ref, field=field, ttl=ttl).reveal()

    def get_many(
        self, refs: Iterable[str | SecretRef], *, raise_on_error: bool = False
    ) -> SecretBatch:
        """Fetch several secrets, like :meth:`SecretClient.get_many`."""
        return self._run(
            partial(self._client.get_many, list(refs), raise_on_error=raise_on_error)
        )

    def invalidate(self, ref: str | SecretRef) -> None:
        """Forget one secret, like :meth:`SecretClient.invalidate`."""
        self._cache.invalidate(self._client._route(ref).key)

    def clear(self) -> None:
        """Forget every cached secret."""
        self._cache.clear()

    def stats(self) -> CacheStats:
        """Return the cache counters."""
        return self._cache.stats()

    def watch(
        self, ref: str | SecretRef, *, interval: float | None = None
    ) -> Generator[Secret, None, None]:
        """Yield the secret now and on every change, blocking between changes."""
        changes = self._client.watch(ref, interval=interval)
        try:
            while True:
                try:
                    yield self._run(anext, changes)
                except StopAsyncIteration:
                    return
        finally:
            if self._entered is not None and not self._thread.forked:
                self._thread.call(changes.aclose)

    def close(self) -> None:
        """Close the backends and stop the loop thread."""
        with self._lock:
            entered, self._entered = self._entered, None
            if entered is not None and not self._thread.forked:
                entered.__exit__(None, None, None)  # type: ignore[attr-defined]
            self._thread.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SyncSecretClient({self._client!r})"
