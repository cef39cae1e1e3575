"""The one owner of threads and event loops in secretkit.

Three jobs live here and nowhere else:

* the trio bridge: an asyncio-only SDK (aioboto3, Azure aio) called from trio runs
  on one private asyncio loop thread per process, transparently;
* the sync portal: ``SyncSecretClient`` sends cache misses to one background loop
  thread of its own;
* fork safety: both are tied to the process that started them, so a forked child
  (gunicorn preload) starts its own instead of reusing the parent's.
"""

from __future__ import annotations

__all__ = (
    "LoopThread",
    "on_asyncio",
    "reset_in_child",
    "running_trio",
)

import contextlib
import contextvars
import os
import sys
import threading
import weakref
from typing import TYPE_CHECKING, Protocol, TypeVar

if TYPE_CHECKING:
    import asyncio
    from collections.abc import Awaitable, Callable, Coroutine

    from anyio.from_thread import BlockingPortal

_T = TypeVar("_T")


class _Forkable(Protocol):
    def after_fork_in_child(self) -> None: ...


_in_child: weakref.WeakSet[_Forkable] = weakref.WeakSet()


def reset_in_child(obj: _Forkable) -> None:
    """Call ``obj.after_fork_in_child()`` in every forked child, while ``obj`` lives.

    For state tied to the parent's tasks and threads, which the child does not have.
    """
    _in_child.add(obj)


def _after_fork() -> None:
    for obj in list(_in_child):
        obj.after_fork_in_child()


os.register_at_fork(after_in_child=_after_fork)


def running_trio() -> bool:
    """Say whether the calling task runs under trio (cheap: no import if unused)."""
    trio = sys.modules.get("trio")
    if trio is None:
        return False
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        return False
    return True


class _AsyncioThread:
    """A private asyncio loop on a daemon thread, started on first use per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = 0

    def loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is not None and self._pid == os.getpid():
            return self._loop
        import asyncio  # only trio programs with asyncio-only backends get here

        with self._lock:
            if self._loop is None or self._pid != os.getpid():
                # In a forked child the parent's loop thread does not exist: start anew.
                loop = asyncio.new_event_loop()
                thread = threading.Thread(
                    target=loop.run_forever, name="secretkit-asyncio", daemon=True
                )
                thread.start()
                self._loop, self._pid = loop, os.getpid()
            return self._loop


_bridge = _AsyncioThread()


async def on_asyncio(func: Callable[[], Coroutine[object, object, _T]]) -> _T:
    """Await ``func()`` on the private asyncio loop thread, from trio.

    Cancelling the caller cancels the asyncio task.

    :param func: builds the coroutine; called on the asyncio thread
    :return: the coroutine's result
    """
    import asyncio

    import trio

    loop = _bridge.loop()
    token = trio.lowlevel.current_trio_token()
    done = trio.Event()

    def wake(_: object) -> None:
        # The trio run may have ended first; then nobody is waiting.
        with contextlib.suppress(trio.RunFinishedError):
            token.run_sync_soon(done.set)

    async def start() -> _T:
        return await func()

    # A fresh context: the task must not inherit trio's (sniffio would then tell
    # anyio, on the asyncio thread, that it runs under trio).
    future = contextvars.Context().run(asyncio.run_coroutine_threadsafe, start(), loop)
    future.add_done_callback(wake)
    try:
        await done.wait()
    except BaseException:
        future.cancel()
        raise
    return future.result()


_abandoned: list[object] = []  # a forked child's inherited portals, kept from GC


class LoopThread:
    """One background event-loop thread for blocking callers, via anyio's portal.

    Started lazily; after ``fork()`` the child's first call starts a fresh thread.
    The thread is a daemon: a client nobody closed must not keep the interpreter
    from exiting (``threading`` joins every other thread before ``atexit`` runs).
    """

    def __init__(self, backend: str = "asyncio") -> None:
        self._backend = backend
        self._lock = threading.Lock()
        self._portal: BlockingPortal | None = None
        self._thread: threading.Thread | None = None
        self._pid = 0

    @property
    def forked(self) -> bool:
        """True when the thread was started by another process (we are a child)."""
        return self._portal is not None and self._pid != os.getpid()

    def portal(self) -> BlockingPortal:
        """Return the running portal, starting its thread if needed."""
        portal = self._portal
        if portal is not None and self._pid == os.getpid():
            return portal
        with self._lock:
            if self._portal is None or self._pid != os.getpid():
                if self._portal is not None:
                    # The parent's portal: stopping it here would wait forever on a
                    # thread the child does not have, so it is never stopped.
                    _abandoned.append(self._portal)
                self._portal, self._thread = self._start()
                self._pid = os.getpid()
            return self._portal

    def _start(self) -> tuple[BlockingPortal, threading.Thread]:
        import anyio
        from anyio.from_thread import BlockingPortal

        started: list[BlockingPortal | BaseException] = []
        ready = threading.Event()

        async def serve() -> None:
            async with BlockingPortal() as portal:
                started.append(portal)
                ready.set()
                await portal.sleep_until_stopped()

        def run() -> None:
            try:
                anyio.run(serve, backend=self._backend)
            except BaseException as exc:  # reported to the caller waiting below
                if not ready.is_set():
                    started.append(exc)
                    ready.set()

        thread = threading.Thread(target=run, name="secretkit-loop", daemon=True)
        thread.start()
        ready.wait()
        if isinstance(started[0], BaseException):
            raise started[0]
        return started[0], thread

    def call(self, func: Callable[..., Awaitable[_T]], *args: object) -> _T:
        """Run ``await func(*args)`` on the loop thread and wait for the result."""
        return self.portal().call(func, *args)

    def close(self) -> None:
        """Stop the loop thread (a no-op in a forked child or when never started)."""
        with self._lock:
            portal, self._portal = self._portal, None
            thread, self._thread = self._thread, None
            if portal is not None and thread is not None and self._pid == os.getpid():
                portal.call(portal.stop)
                thread.join()
