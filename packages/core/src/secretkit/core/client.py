"""``SecretClient``: read secrets from any configured backend, through one cache.

    backends = {"aws": {"region": "us-east-1"}}
    async with SecretClient(default="aws", backends=backends) as client:
        secret = await client.get("mlflow/auth")

Enter the client (``async with``) so fetches and refreshes run in its own task group:
then a cancelled caller never cancels a fetch others wait for, refresh-ahead runs in
the background and hits need no clock. A client used without ``async with`` still
works: the first caller fetches, refresh-ahead is off, hits read the clock.
"""

from __future__ import annotations

__all__ = ("SecretBatch", "SecretClient")

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Final, Self, final

import anyio

from . import config
from ._loops import running_trio
from ._reader import Reader
from ._slots import DEAD
from .errors import BackendUnavailable, SecretkitError
from .plugins import registry
from .secret import Secret, SecretRef

if TYPE_CHECKING:
    import os
    from collections.abc import (
        AsyncGenerator,
        AsyncIterator,
        Callable,
        Iterable,
    )
    from types import TracebackType

    from .backend import Backend
    from .plugins import Registry
    from .policy import CachePolicy, CacheStats

    Key = tuple[str, str, str | None, str | None]

_MAX_ROUTES: Final = 100_000  # parsed references kept; a bound against unbounded input


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
        return cls.from_settings(
            config.from_env(
                environ, types=registry().names(), plugins=registry().plugin_names()
            )
        )

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
        self._reader = reader = Reader(settings, clock, plugins)
        self._routes = reader.routes  # read by the hit path
        self.default = reader.default

    def backend(self, name: str | None = None) -> Backend:
        """Return the backend object of an instance (default: the default backend).

        :raises BackendNotFound: not configured and not an installed type
        """
        return self._reader.instances.get(
            self.default if name is None else name
        ).backend

    @property
    def backend_names(self) -> tuple[str, ...]:
        """The configured backend instance names."""
        return tuple(self.settings.backends)

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
        # The hit path: no lock, no clock, no allocation (see _slots.py).
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
                    if self._reader.observers.active:
                        self._reader.hit(route, secret)
                    return secret
        return await self._reader.get(ref, field, ttl)

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

        Misses on a backend with a batch API cost it one call in all.

        :param refs: the references
        :param raise_on_error: raise the first failure (in ``refs`` order) instead
        :return: the secrets by reference text, and ``.errors`` for the failures
        """
        wanted = list(dict.fromkeys(refs))
        outcomes: dict[str, Secret | SecretkitError] = {}
        reader = self._reader
        covered = await reader.prefetch(wanted)

        async def one(ref: str | SecretRef) -> None:
            try:
                outcomes[str(ref)] = await self.get(ref)
            except SecretkitError as exc:
                outcomes[str(ref)] = exc

        async with anyio.create_task_group() as tg:
            for ref in wanted:
                if ref not in covered:  # no batch API: fetch these concurrently
                    tg.start_soon(one, ref)
            for ref in wanted:
                if ref not in covered:
                    continue
                # A batch fetches these: waiting in turn is enough, and a failure
                # it reported is kept rather than asked again one by one.
                flight = covered[ref]
                if flight is not None:
                    if not flight.done.is_set():  # a batch settles all at once
                        await flight.done.wait()
                    error = reader.settled(ref, flight)
                    if error is not None:
                        outcomes[str(ref)] = error
                        continue
                await one(ref)
        ordered = [(str(ref), outcomes[str(ref)]) for ref in wanted]
        errors = {r: o for r, o in ordered if isinstance(o, SecretkitError)}
        if raise_on_error and errors:
            raise next(iter(errors.values()))
        found = {r: o for r, o in ordered if isinstance(o, Secret)}
        return SecretBatch(found, errors)

    async def invalidate(self, ref: str | SecretRef) -> None:
        """Forget one secret (all its fields); the next get asks the backend."""
        route = self._reader.route(ref)
        self._reader.cache.invalidate(route.key)
        route.slot = DEAD

    async def clear(self) -> None:
        """Forget every cached secret."""
        self._reader.cache.clear()

    def stats(self) -> CacheStats:
        """Return the cache counters: hits, misses, backend calls, errors, size..."""
        return self._reader.cache.stats()

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
        route = self._reader.route(ref)
        instance = self._reader.instances.get(route.instance)
        policy = self._reader.cache.policy
        life = instance.ttl if instance.ttl is not None else policy.ttl
        every = interval or max(1.0, life * max(policy.refresh_ahead, 0.1))
        changes: AsyncIterator[None] | None = None
        try:  # subscribe before the first read, so no change falls in between
            if not (instance.runs == "asyncio" and running_trio()):  # no bridge
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
                except BackendUnavailable:
                    continue  # the cache logged it; poll again
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
        reader = self._reader
        if reader.closed:
            raise SecretkitError("this SecretClient is closed")
        tg = anyio.create_task_group()
        await tg.__aenter__()
        tg.start_soon(reader.cache.run_expiry)
        reader.tg = tg
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        tg, self._reader.tg = self._reader.tg, None
        try:
            if tg is not None:
                # Our tasks are background work, not worth a wait; and the caller's
                # exception is theirs to see as is, not wrapped in an ExceptionGroup.
                tg.cancel_scope.cancel()
                await tg.__aexit__(None, None, None)
        finally:
            await self.aclose()

    async def aclose(self) -> None:
        """Close every backend's connections. The client cannot be used afterwards."""
        reader = self._reader
        if not reader.closed:
            reader.closed = True
            await reader.instances.aclose()

    def __repr__(self) -> str:
        names = sorted(self._reader.instances.names())
        return f"{type(self).__name__}(default={self.default!r}, backends={names})"
