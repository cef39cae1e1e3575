"""The cache behind every client: single flight, TTLs, refresh-ahead, stale, LRU."""

from __future__ import annotations

import anyio
import pytest

from secretkit.core import CachePolicy, SecretClient
from secretkit.core.cache import Cache
from secretkit.core.errors import (
    BackendUnavailable,
    ConfigurationError,
    SecretNotFound,
)
from secretkit.core.secret import Secret
from secretkit.core.testing import FakeClock

from .fakes import Boom, CountingBackend


def _client(
    backend: CountingBackend, clock: FakeClock, **policy: float
) -> SecretClient:
    return SecretClient(
        default="t",
        backends={"t": backend},
        cache=CachePolicy(jitter=0.0, **policy),  # type: ignore[arg-type]
        clock=clock,
    )


class TestSingleFlight:
    async def test_concurrent_misses_share_one_fetch(self, counting, clock) -> None:
        """A thousand concurrent gets of a cold key cost the backend one call."""
        async with _client(counting, clock) as client:
            results: list[Secret] = []

            async def one() -> None:
                results.append(await client.get("db/main"))

            async with anyio.create_task_group() as tg:
                for _ in range(1000):
                    tg.start_soon(one)
        assert counting.calls == 1
        assert len(results) == 1000
        assert all(secret is results[0] for secret in results)

    async def test_cancelled_waiter_does_not_cancel_the_fetch(
        self, counting, clock
    ) -> None:
        """Cancelling the first caller leaves the shared fetch running for the rest."""
        counting.gate = anyio.Event()
        async with _client(counting, clock) as client:
            got: list[Secret] = []

            async def other() -> None:
                got.append(await client.get("db/main"))

            async with anyio.create_task_group() as tg:
                with anyio.CancelScope() as first:
                    tg.start_soon(other)
                    await anyio.wait_all_tasks_blocked()
                    first.cancel()
                    await client.get("db/main")  # cancelled while waiting
                await anyio.wait_all_tasks_blocked()
                counting.gate.set()
        assert first.cancelled_caught
        assert counting.calls == 1
        assert len(got) == 1

    async def test_unentered_client_survives_a_cancelled_leader(
        self, counting, clock
    ) -> None:
        """Without a task group, a cancelled first caller hands over to a waiter."""
        counting.gate = anyio.Event()
        client = _client(counting, clock)
        got: list[Secret] = []

        async def other() -> None:
            got.append(await client.get("db/main"))

        leader = anyio.CancelScope()

        async def lead() -> None:
            with leader:
                await client.get("db/main")

        async with anyio.create_task_group() as tg:
            tg.start_soon(lead)
            await anyio.wait_all_tasks_blocked()  # lead fetches, held by the gate
            tg.start_soon(other)
            await anyio.wait_all_tasks_blocked()  # other waits on lead's flight
            leader.cancel()
            await anyio.wait_all_tasks_blocked()  # other takes over the fetch
            counting.gate.set()
        assert leader.cancelled_caught
        assert len(got) == 1
        assert counting.calls == 2  # the leader's call was abandoned, a waiter retried
        await client.aclose()

    async def test_failure_fails_every_waiter_once_then_retries(
        self, counting, clock
    ) -> None:
        """A failed fetch raises in all its waiters; the next call asks again."""
        counting.fail = Boom("backend exploded", backend="t")
        counting.gate = anyio.Event()
        errors: list[BaseException] = []
        async with _client(counting, clock) as client:

            async def one() -> None:
                try:
                    await client.get("db/main")
                except Boom as exc:
                    errors.append(exc)

            async with anyio.create_task_group() as tg:
                for _ in range(50):
                    tg.start_soon(one)
                await anyio.wait_all_tasks_blocked()
                counting.gate.set()
            assert len(errors) == 50
            assert counting.calls == 1
            counting.fail = None
            assert (await client.get("db/main")).version == "1"
            assert counting.calls == 2


class TestExpiry:
    async def test_hit_within_ttl_and_refetch_after(self, counting, clock) -> None:
        """A value is served from the cache until its TTL passes, then fetched again."""
        async with _client(counting, clock, ttl=60, refresh_ahead=0) as client:
            first = await client.get("db/main")
            clock.advance(59)
            assert await client.get("db/main") is first
            assert counting.calls == 1
            counting.version = 2
            clock.advance(2)
            await anyio.wait_all_tasks_blocked()
            assert (await client.get("db/main")).version == "2"
            assert counting.calls == 2

    async def test_unentered_client_expires_by_clock(self, counting, clock) -> None:
        """Without the expiry task, lookups read the clock and still expire."""
        client = _client(counting, clock, ttl=60, refresh_ahead=0)
        await client.get("db/main")
        await client.get("db/main")
        clock.advance(61)
        await client.get("db/main")
        assert counting.calls == 2
        await client.aclose()

    async def test_jitter_only_shortens(self, counting) -> None:
        """Jitter shortens a TTL by at most its fraction, never lengthens it."""
        clock = FakeClock()
        cache: Cache[str] = Cache(
            CachePolicy(ttl=100, jitter=0.5), clock=clock, rand=lambda: 0.999
        )
        secret = Secret("x", "v")

        async def load(refresh: bool) -> tuple[Secret, float | None]:
            return secret, None

        await cache.get("k", load)
        assert 50.0 <= cache.slot("k").expires - clock.now <= 51.0

    async def test_lease_ttl_caps_the_policy(self, counting, clock) -> None:
        """A backend lease shorter than the TTL decides when the value expires."""
        counting.lease = 10
        async with _client(counting, clock, ttl=300, refresh_ahead=0) as client:
            await client.get("db/main")
            clock.advance(11)
            await anyio.wait_all_tasks_blocked()
            await client.get("db/main")
        assert counting.calls == 2

    async def test_per_call_ttl(self, counting, clock) -> None:
        """get(ttl=) accepts a cached value only that old."""
        async with _client(counting, clock, ttl=300) as client:
            await client.get("db/main")
            clock.advance(5)
            await client.get("db/main", ttl=10)
            assert counting.calls == 1
            await client.get("db/main", ttl=3)
            assert counting.calls == 2

    async def test_per_backend_ttl(self, clock) -> None:
        """A backend instance's ttl option replaces the policy's TTL."""
        from secretkit.core.backends.memory import MemoryBackend

        async with SecretClient(
            default="m",
            backends={"m": {"type": "memory", "ttl": 5, "secrets": {"a": "1"}}},
            cache=CachePolicy(ttl=300, jitter=0, refresh_ahead=0),
            clock=clock,
        ) as client:
            await client.get("a")
            clock.advance(6)
            await anyio.wait_all_tasks_blocked()
            await client.get("a")
            backend = client.backend("m")
            assert isinstance(backend, MemoryBackend)
            assert backend.calls == 2


class TestRefreshAhead:
    async def test_refresh_runs_in_background_while_serving(
        self, counting, clock
    ) -> None:
        """Near expiry the old value is served at once while one refresh runs."""
        async with _client(counting, clock, ttl=100, refresh_ahead=0.2) as client:
            first = await client.get("db/main")
            counting.version = 2
            counting.gate = anyio.Event()
            clock.advance(85)
            await anyio.wait_all_tasks_blocked()
            for _ in range(20):
                assert await client.get("db/main") is first
            await anyio.wait_all_tasks_blocked()
            assert counting.calls == 2  # one refresh for twenty gets
            counting.gate.set()
            await anyio.wait_all_tasks_blocked()
            assert (await client.get("db/main")).version == "2"
            assert client.stats().refreshes == 1


class TestStaleIfError:
    async def test_serves_stale_through_an_outage(self, counting, clock) -> None:
        """BackendUnavailable after expiry serves the old value up to max_stale."""
        async with _client(
            counting, clock, ttl=60, refresh_ahead=0, max_stale=600, negative_ttl=5
        ) as client:
            first = await client.get("db/main")
            counting.fail = BackendUnavailable("network down", backend="t")
            clock.advance(61)
            await anyio.wait_all_tasks_blocked()
            assert await client.get("db/main") is first
            calls = counting.calls
            assert await client.get("db/main") is first  # within negative_ttl: no call
            assert counting.calls == calls
            clock.advance(600)
            await anyio.wait_all_tasks_blocked()
            with pytest.raises(BackendUnavailable):
                await client.get("db/main")
            assert client.stats().stale == 2

    async def test_other_errors_are_not_masked_by_stale(self, counting, clock) -> None:
        """Only an outage serves stale: access errors after expiry are raised."""
        async with _client(
            counting, clock, ttl=60, refresh_ahead=0, max_stale=600
        ) as client:
            await client.get("db/main")
            counting.fail = Boom("denied", backend="t")
            clock.advance(61)
            await anyio.wait_all_tasks_blocked()
            with pytest.raises(Boom):
                await client.get("db/main")

    async def test_no_stale_when_max_stale_is_zero(self, counting, clock) -> None:
        """The default policy never serves an expired value."""
        async with _client(counting, clock, ttl=60, refresh_ahead=0) as client:
            await client.get("db/main")
            counting.fail = BackendUnavailable("down", backend="t")
            clock.advance(61)
            await anyio.wait_all_tasks_blocked()
            with pytest.raises(BackendUnavailable):
                await client.get("db/main")


class TestNegative:
    async def test_not_found_is_remembered_briefly(self, counting, clock) -> None:
        """SecretNotFound is cached for negative_ttl, then asked again."""
        counting.missing.add("nope")
        async with _client(counting, clock, negative_ttl=5) as client:
            for _ in range(3):
                with pytest.raises(SecretNotFound):
                    await client.get("nope")
            assert counting.calls == 1
            clock.advance(6)
            counting.missing.clear()
            assert (await client.get("nope")).version == "1"
            assert counting.calls == 2
            assert client.stats().negative_hits == 2

    async def test_remembered_error_does_not_grow_its_traceback(
        self, counting, clock
    ) -> None:
        """Re-raising a remembered error starts a fresh traceback each time."""
        counting.missing.add("nope")
        async with _client(counting, clock) as client:
            depths = []
            for _ in range(5):
                try:
                    await client.get("nope")
                except SecretNotFound as exc:
                    tb, depth = exc.__traceback__, 0
                    while tb is not None:
                        tb, depth = tb.tb_next, depth + 1
                    depths.append(depth)
        assert depths[1] == depths[-1]


class TestBounds:
    async def test_least_recently_used_is_evicted(self, counting, clock) -> None:
        """Past max_entries the entry not used since the last sweep goes first."""
        async with _client(counting, clock, max_entries=2) as client:
            await client.get("a")
            await client.get("b")
            await client.get("a")  # a used again
            await client.get("c")  # evicts b
            calls = counting.calls
            await client.get("a")
            await client.get("c")
            assert counting.calls == calls
            await client.get("b")
            assert counting.calls == calls + 1
            assert client.stats().evictions >= 1
            assert client.stats().size == 2

    async def test_invalidate_and_clear(self, counting, clock) -> None:
        """invalidate() forgets one secret, clear() all; both refetch next time."""
        async with _client(counting, clock) as client:
            await client.get("a")
            await client.get("b#user")
            await client.invalidate("a")
            await client.get("a")
            assert counting.calls == 3
            await client.get("b#user")
            assert counting.calls == 3
            await client.clear()
            await client.get("b#user")
            assert counting.calls == 4
            assert client.stats().size == 1

    async def test_invalidate_during_fetch_does_not_store_old_value(
        self, counting, clock
    ) -> None:
        """A fetch that was running when the key was invalidated is not cached."""
        counting.gate = anyio.Event()
        async with _client(counting, clock) as client:
            async with anyio.create_task_group() as tg:
                tg.start_soon(client.get, "a")
                await anyio.wait_all_tasks_blocked()
                await client.invalidate("a")
                counting.gate.set()
            assert client.stats().size == 0

    async def test_stats_count_hits_misses_and_calls(self, counting, clock) -> None:
        """stats() reports hits, misses, backend calls and size."""
        async with _client(counting, clock) as client:
            for _ in range(5):
                await client.get("a")
            await client.get("a#user")
            stats = client.stats()
        assert (stats.misses, stats.backend_calls, stats.size) == (1, 1, 1)
        assert stats.hits == 5


class TestPolicy:
    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("ttl", -1),
            ("refresh_ahead", 1.0),
            ("jitter", -0.1),
            ("max_entries", 0),
            ("max_stale", "x"),
            ("ttl", True),
        ],
    )
    def test_bad_values_are_configuration_errors(
        self, field: str, value: object
    ) -> None:
        """A bad policy value raises ConfigurationError naming the field."""
        with pytest.raises(ConfigurationError, match=f"cache.{field}"):
            CachePolicy(**{field: value})  # type: ignore[arg-type]

    async def test_ttl_zero_disables_caching(self, counting, clock) -> None:
        """With ttl=0 every get asks the backend."""
        async with _client(counting, clock, ttl=0) as client:
            await client.get("a")
            await client.get("a")
        assert counting.calls == 2
