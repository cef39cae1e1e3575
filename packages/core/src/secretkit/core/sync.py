"""``SyncSecretClient``: the blocking, thread-safe facade of ``SecretClient``.

For sync code: MLflow's request path, Django views, scripts. A cache hit is served
on the calling thread without touching an event loop; misses go to one background
event-loop thread, started on first need, which runs the async client.
"""

from __future__ import annotations

__all__ = ("SyncSecretClient",)

import atexit
import threading
import weakref
from contextlib import suppress
from functools import partial
from typing import TYPE_CHECKING, Self, TypeVar

from ._loops import LoopThread
from .client import SecretClient

if TYPE_CHECKING:
    import os
    from collections.abc import Awaitable, Callable, Generator, Iterable, Mapping

    from .backend import Backend
    from .client import SecretBatch
    from .config import Settings
    from .plugins import Registry
    from .policy import CachePolicy, CacheStats
    from .secret import Secret, SecretRef

_T = TypeVar("_T")
# Clients whose loop thread runs; closed at exit so backends close their
# connections (the thread is a daemon, so an unclosed client never blocks exit).
_running: weakref.WeakSet[SyncSecretClient] = weakref.WeakSet()


@atexit.register
def _close_running() -> None:
    for client in list(_running):
        with suppress(Exception):  # exiting anyway: a failed close changes nothing
            client.close()


class SyncSecretClient:
    """The blocking facade of :class:`SecretClient`, for sync code; thread-safe.

    Takes the same arguments. A cache hit is served on the calling thread, touching
    no event loop; misses go to one background loop thread, started on first need
    (and anew in a forked child, which also gets fresh backend connections).
    Use it as a context manager, or call :meth:`close`.
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
        self._setup(
            SecretClient(
                default=default,
                backends=backends,
                cache=cache,
                ttl=ttl,
                max_threads=max_threads,
                clock=clock,
                plugins=plugins,
            )
        )

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        """Build from ``SECRETKIT_*`` variables, like :meth:`SecretClient.from_env`."""
        return cls._wrap(SecretClient.from_env(environ))

    @classmethod
    def from_config(cls, path: str | os.PathLike[str] | None = None) -> Self:
        """Build from a TOML file, like :meth:`SecretClient.from_config`."""
        return cls._wrap(SecretClient.from_config(path))

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        clock: Callable[[], float] | None = None,
        plugins: Registry | None = None,
    ) -> Self:
        """Build from checked settings, like :meth:`SecretClient.from_settings`."""
        return cls._wrap(
            SecretClient.from_settings(settings, clock=clock, plugins=plugins)
        )

    @classmethod
    def _wrap(cls, client: SecretClient) -> Self:
        sync = cls.__new__(cls)
        sync._setup(client)
        return sync

    def _setup(self, client: SecretClient) -> None:
        self._client = client
        self._reader = client._reader
        self._routes = client._reader.routes  # read by the hit path
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
                # A forked child keeps cached values, not the parent's loop thread,
                # task group or connections.
                self._reader.after_fork()
                self._entered = None
            if self._entered is None:
                cm = self._thread.portal().wrap_async_context_manager(self._client)
                cm.__enter__()
                self._entered = cm
                _running.add(self)
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
                    if self._reader.observers.active:
                        self._reader.hit(route, secret)
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
        self._run(partial(self._client.invalidate, ref))

    def clear(self) -> None:
        """Forget every cached secret."""
        self._run(self._client.clear)

    def stats(self) -> CacheStats:
        """Return the cache counters."""
        return self._reader.cache.stats()

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
            _running.discard(self)
            if entered is not None and not self._thread.forked:
                entered.__exit__(None, None, None)  # type: ignore[attr-defined]
            self._thread.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"SyncSecretClient({self._client!r})"
