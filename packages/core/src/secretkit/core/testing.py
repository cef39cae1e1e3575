"""Test helpers for applications that use secretkit: an in-memory client and a clock.

Enable the fixtures in your ``conftest.py``::

    pytest_plugins = ["secretkit.core.testing"]

    async def test_reads_token(secret_client, secrets_memory):
        secrets_memory.set("mlflow/auth", {"token": "t"})
        assert await secret_client.get_value("mlflow/auth", field="token") == "t"

``secret_client`` is an entered :class:`SecretClient` whose default backend is the
in-memory ``secrets_memory``; ``sync_secret_client`` is the blocking twin. Async
fixtures need an async test runner (the ``anyio`` pytest plugin, say).
"""

from __future__ import annotations

__all__ = (
    "FakeClock",
    "memory_client",
    "secret_client",
    "secrets_memory",
    "sync_secret_client",
)

from typing import TYPE_CHECKING

import pytest

from .backends.memory import MemoryBackend
from .client import SecretClient
from .sync import SyncSecretClient

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Iterator, Mapping

    from .policy import CachePolicy


class FakeClock:
    """A monotonic clock that moves only when told to.

    Pass it as ``SecretClient(clock=...)``; the cache subscribes, so jumping the
    clock wakes its expiry task.

    :param start: the starting reading, in seconds
    """

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self._listeners: list[Callable[[], None]] = []

    def __call__(self) -> float:
        return self.now

    def subscribe(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` after every :meth:`advance`."""
        self._listeners.append(callback)

    def advance(self, seconds: float) -> None:
        """Move the clock forward and tell the subscribers."""
        self.now += seconds
        for callback in self._listeners:
            callback()


def memory_client(
    secrets: Mapping[str, object] | None = None,
    *,
    cache: CachePolicy | None = None,
    clock: Callable[[], float] | None = None,
) -> SecretClient:
    """Build a client whose default backend is a fresh :class:`MemoryBackend`.

    :param secrets: initial secrets (dicts and lists are stored as JSON text)
    :return: the client; its backend is ``client.backend("memory")``
    """
    return SecretClient(
        default="memory",
        backends={"memory": MemoryBackend(secrets, name="memory")},
        cache=cache,
        clock=clock,
    )


@pytest.fixture
def secrets_memory() -> MemoryBackend:
    """An empty in-memory backend; ``set()`` secrets on it in your test."""
    return MemoryBackend(name="memory")


@pytest.fixture
async def secret_client(secrets_memory: MemoryBackend) -> AsyncIterator[SecretClient]:
    """An entered async client reading from ``secrets_memory`` by default."""
    async with SecretClient(
        default="memory", backends={"memory": secrets_memory}
    ) as client:
        yield client


@pytest.fixture
def sync_secret_client(secrets_memory: MemoryBackend) -> Iterator[SyncSecretClient]:
    """A blocking client reading from ``secrets_memory`` by default."""
    with SyncSecretClient(
        default="memory", backends={"memory": secrets_memory}
    ) as client:
        yield client
