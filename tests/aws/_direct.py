"""Calling a Secrets Manager backend directly from a test, under asyncio or trio.

aioboto3 runs on asyncio only; under trio the core's bridge runs it on its private
asyncio loop, exactly as ``SecretClient`` does for a backend that declares
``runs="asyncio"``.
"""

from __future__ import annotations

__all__ = ("names", "opened", "run")

from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from secretkit.aws.backend import SecretsManagerBackend
from secretkit.aws.config import AwsSettings
from tests.bridged import names, run

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@asynccontextmanager
async def opened(**settings: Any) -> AsyncIterator[SecretsManagerBackend]:
    """A backend with these settings (region us-east-1 unless given), closed after."""
    settings.setdefault("region", "us-east-1")
    backend = SecretsManagerBackend(AwsSettings(**settings))
    try:
        yield backend
    finally:
        await run(backend.aclose)
