"""Calling a Secrets Manager backend directly from a test, under asyncio or trio.

aioboto3 runs on asyncio only; under trio the core's bridge runs it on its private
asyncio loop, exactly as ``SecretClient`` does for a backend that declares
``runs="asyncio"``.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from secretkit.aws.backend import SecretsManagerBackend
from secretkit.aws.config import AwsSettings
from secretkit.core._loops import on_asyncio, running_trio

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

_T = TypeVar("_T")


async def run(func: Callable[..., Awaitable[_T]], *args: Any, **kwargs: Any) -> _T:
    """Await ``func(*args, **kwargs)`` on the loop aioboto3 needs."""

    async def call() -> _T:
        return await func(*args, **kwargs)

    if running_trio():
        return await on_asyncio(call)
    return await call()


async def names(backend: SecretsManagerBackend, prefix: str = "") -> list[str]:
    """Every name ``backend.list(prefix)`` yields."""

    async def collect() -> list[str]:
        return [name async for name in backend.list(prefix)]

    return await run(collect)


@asynccontextmanager
async def opened(**settings: Any) -> AsyncIterator[SecretsManagerBackend]:
    """A backend with these settings (region us-east-1 unless given), closed after."""
    settings.setdefault("region", "us-east-1")
    backend = SecretsManagerBackend(AwsSettings(**settings))
    try:
        yield backend
    finally:
        await run(backend.aclose)
