"""Calling an asyncio-only backend directly from a test, under asyncio or trio.

aioboto3 and the Azure aio SDK run on asyncio only; under trio the core's bridge
runs them on its private asyncio loop, as ``SecretClient`` does for a backend
that declares ``runs="asyncio"``.
"""

from __future__ import annotations

__all__ = ("names", "run")

from typing import TYPE_CHECKING, Any, TypeVar

from secretkit.core._loops import on_asyncio, running_trio

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from secretkit.core.backend import Backend

_T = TypeVar("_T")


async def run(func: Callable[..., Awaitable[_T]], *args: Any, **kwargs: Any) -> _T:
    """Await ``func(*args, **kwargs)`` on an asyncio loop."""

    async def call() -> _T:
        return await func(*args, **kwargs)

    if running_trio():
        return await on_asyncio(call)
    return await call()


async def names(backend: Backend, prefix: str = "") -> list[str]:
    """Every name ``backend.list(prefix)`` yields."""

    async def collect() -> list[str]:
        return [name async for name in backend.list(prefix)]

    return await run(collect)
