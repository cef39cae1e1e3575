"""secretkit.core.testing: the fixtures and helpers our users' tests rely on."""

from __future__ import annotations

import anyio
import pytest

from secretkit.core import CachePolicy
from secretkit.core.testing import FakeClock, memory_client


def test_fixtures_in_a_users_test_suite(pytester: pytest.Pytester) -> None:
    """A user's conftest enables the fixtures; async and sync tests both use them."""
    pytester.makeconftest('pytest_plugins = ["secretkit.core.testing", "anyio"]')
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.anyio
        async def test_async(secret_client, secrets_memory):
            secrets_memory.set("mlflow/auth", {"token": "t"})
            assert await secret_client.get_value("mlflow/auth#token") == "t"

        def test_sync(sync_secret_client, secrets_memory):
            secrets_memory.set("db/main", "pw")
            assert sync_secret_client.get_value("db/main") == "pw"
            assert secrets_memory.calls == 1
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0
    assert outcomes.get("errors", 0) == 0
    result.stdout.fnmatch_lines(["*test_async* PASSED*", "*test_sync PASSED*"])


async def test_memory_client_with_a_fake_clock() -> None:
    """memory_client and FakeClock make expiry testable without sleeping."""
    clock = FakeClock()
    client = memory_client(
        {"a": "1"}, cache=CachePolicy(ttl=10, jitter=0, refresh_ahead=0), clock=clock
    )
    async with client:
        await client.get("a")
        clock.advance(11)
        await anyio.wait_all_tasks_blocked()
        await client.get("a")
        assert client.stats().backend_calls == 2


def test_fake_clock_notifies_subscribers() -> None:
    """advance() moves the reading and calls every subscriber."""
    clock = FakeClock(start=5)
    calls: list[float] = []
    clock.subscribe(lambda: calls.append(clock()))
    clock.advance(2.5)
    assert clock() == 7.5
    assert calls == [7.5]
