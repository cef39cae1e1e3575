"""Calling a Key Vault backend directly from a test, under asyncio or trio.

The Azure aio SDK runs on asyncio only; under trio the core's bridge runs it on
its private asyncio loop, as ``SecretClient`` does for ``runs="asyncio"``.
"""

from __future__ import annotations

__all__ = ("names", "opened", "run")

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from secretkit.azure.backend import KeyVaultBackend
from secretkit.azure.config import read_settings
from secretkit.core.options import Options
from tests.bridged import names, run

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable


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
