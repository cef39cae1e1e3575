"""Calling a Key Vault backend directly from a test, under asyncio or trio.

The Azure aio SDK runs on asyncio only; under trio the core's bridge runs it on
its private asyncio loop, as ``SecretClient`` does for ``runs="asyncio"``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from secretkit.azure.backend import KeyVaultBackend
from secretkit.azure.config import read_settings
from secretkit.core._loops import on_asyncio, running_trio
from secretkit.core.options import Options

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

_T = TypeVar("_T")


async def run(func: Callable[..., Awaitable[_T]], *args: Any, **kwargs: Any) -> _T:
    """Await ``func(*args, **kwargs)`` on the loop the Azure SDK needs."""

    async def call() -> _T:
        return await func(*args, **kwargs)

    if running_trio():
        return await on_asyncio(call)
    return await call()


async def names(backend: KeyVaultBackend, prefix: str = "") -> list[str]:
    """Every name ``backend.list(prefix)`` yields."""

    async def collect() -> list[str]:
        return [name async for name in backend.list(prefix)]

    return await run(collect)


@asynccontextmanager
async def opened(
    options: dict[str, Any],
    *,
    clock: Callable[[], float] | None = None,
    plugins: Any = None,
    **more: Any,
) -> AsyncIterator[KeyVaultBackend]:
    """A backend with these options (and ``more``), closed after.

    ``clock`` and ``plugins`` go to the backend: token expiry, credential factories.
    """
    settings = read_settings(
        Options({**options, **more}, instance="azure", source="test")
    )
    backend = KeyVaultBackend(settings, clock=clock, plugins=plugins)
    try:
        yield backend
    finally:
        await run(backend.aclose)
