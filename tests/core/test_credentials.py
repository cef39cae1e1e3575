"""Credential chains: order, stickiness, renewal windows, single flight, no leaks."""

from __future__ import annotations

import copy
import logging
import pickle

import anyio
import pytest

from secretkit.core.credentials import (
    CredentialChain,
    CredentialProviderFactory,
    Credentials,
    StaticProvider,
    build_chain,
)
from secretkit.core.errors import (
    BackendUnavailable,
    ConfigurationError,
    CredentialError,
    NotSupported,
)
from secretkit.core.options import Options

CANARY = "CANARY-7f3a9c-do-not-print"
LIFETIME = 3600.0
ADVISORY = 600.0
MANDATORY = 120.0


class FakeClock:
    """A clock that moves only when the test says so."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class CountingProvider:
    """A provider that counts its loads and answers as the test sets it up."""

    def __init__(
        self,
        name: str,
        clock: FakeClock,
        *,
        lifetime: float | None = LIFETIME,
        declines: bool = False,
    ) -> None:
        self.name = name
        self.clock = clock
        self.lifetime = lifetime
        self.declines = declines
        self.error: Exception | None = None
        self.gate: anyio.Event | None = None
        self.calls = 0

    async def load(self) -> Credentials[str] | None:
        self.calls += 1
        call = self.calls
        if self.gate is not None:
            await self.gate.wait()
        if self.error is not None:
            raise self.error
        if self.declines:
            return None
        expires_at = None if self.lifetime is None else self.clock.now + self.lifetime
        return Credentials(
            value=f"{CANARY}-{self.name}-{call}",
            provider=self.name,
            expires_at=expires_at,
            metadata={"account": "123456789012"},
        )


@pytest.fixture
def clock() -> FakeClock:
    """A fresh controllable clock."""
    return FakeClock()


def make_chain(clock: FakeClock, *providers: CountingProvider) -> CredentialChain[str]:
    return CredentialChain(
        providers, kind="aws", advisory=ADVISORY, mandatory=MANDATORY, clock=clock
    )


async def primed(clock: FakeClock) -> tuple[CountingProvider, CredentialChain[str]]:
    """A chain that has loaded its first expiring credentials."""
    provider = CountingProvider("env", clock)
    chain = make_chain(clock, provider)
    first = await chain.get()
    assert first.value.endswith("env-1")
    return provider, chain


class TestResolution:
    async def test_first_answer_wins_in_order(self, clock: FakeClock) -> None:
        """Providers are asked in order and the first that answers wins."""
        a = CountingProvider("a", clock, declines=True)
        b = CountingProvider("b", clock)
        c = CountingProvider("c", clock)
        chain = make_chain(clock, a, b, c)
        before = chain.provider
        creds = await chain.get()
        assert before is None
        assert creds.provider == "b"
        assert chain.provider == "b"
        assert (a.calls, b.calls, c.calls) == (1, 1, 0)

    async def test_all_decline_names_every_provider(self, clock: FakeClock) -> None:
        """When every provider declines, the error lists their names in order."""
        names = ("env", "profile", "imds")
        chain = make_chain(
            clock, *(CountingProvider(n, clock, declines=True) for n in names)
        )
        with pytest.raises(CredentialError) as info:
            await chain.get()
        assert str(info.value) == "no aws credentials found; tried: env, profile, imds"
        assert chain.provider is None

    async def test_credential_error_stops_the_chain(self, clock: FakeClock) -> None:
        """A provider that is configured but broken stops the chain."""
        broken = CountingProvider("profile", clock)
        broken.error = CredentialError("profile 'dev' has no region")
        later = CountingProvider("imds", clock)
        with pytest.raises(CredentialError, match="profile 'dev'"):
            await make_chain(clock, broken, later).get()
        assert later.calls == 0

    async def test_other_errors_become_credential_errors(
        self, clock: FakeClock
    ) -> None:
        """Our other errors and foreign ones are wrapped, foreign messages unshown."""
        outage = CountingProvider("imds", clock)
        outage.error = BackendUnavailable("instance metadata timed out")
        with pytest.raises(CredentialError, match="timed out") as info:
            await make_chain(clock, outage).get()
        assert isinstance(info.value.__cause__, BackendUnavailable)

        buggy = CountingProvider("file", clock)
        buggy.error = KeyError(CANARY)
        with pytest.raises(CredentialError, match="KeyError") as info:
            await make_chain(clock, buggy).get()
        assert CANARY not in str(info.value)
        assert isinstance(info.value.__cause__, KeyError)

    async def test_expired_answer_is_an_error(self, clock: FakeClock) -> None:
        """Credentials that are already expired when loaded are refused."""
        stale = CountingProvider("web-identity", clock, lifetime=-1.0)
        with pytest.raises(CredentialError, match="expired"):
            await make_chain(clock, stale).get()

    async def test_static_provider_answers(self, clock: FakeClock) -> None:
        """A static provider hands out its fixed credentials."""
        static = StaticProvider("options", CANARY, metadata={"identity": "ci"})
        chain: CredentialChain[str] = CredentialChain([static], kind="vault")
        creds = await chain.get()
        assert creds.value == CANARY
        assert creds.provider == "options"
        assert creds.expires_at is None
        assert creds.metadata == {"identity": "ci"}

    def test_windows_are_checked(self) -> None:
        """A mandatory window wider than the advisory one is refused."""
        with pytest.raises(ConfigurationError, match="mandatory <= advisory"):
            CredentialChain([], kind="aws", advisory=60.0, mandatory=120.0)


class TestExpiry:
    async def test_non_expiring_credentials_never_reload(
        self, clock: FakeClock
    ) -> None:
        """Credentials without an expiry are loaded once and kept."""
        provider = CountingProvider("env", clock, lifetime=None)
        chain = make_chain(clock, provider)
        first = await chain.get()
        clock.advance(10 * 365 * 86400.0)
        for _ in range(5):
            assert await chain.get() is first
        assert provider.calls == 1

    async def test_fresh_credentials_cost_nothing(self, clock: FakeClock) -> None:
        """Before the advisory window the cached credentials are returned as is."""
        provider, chain = await primed(clock)
        first = await chain.get()
        clock.advance(LIFETIME - ADVISORY - 1.0)
        for _ in range(5):
            assert await chain.get() is first
        assert provider.calls == 1

    async def test_sticky_provider_is_asked_again(self, clock: FakeClock) -> None:
        """A renewal asks the provider that answered, not the ones before it."""
        skipped = CountingProvider("env", clock, declines=True)
        winner = CountingProvider("imds", clock)
        chain = make_chain(clock, skipped, winner)
        await chain.get()
        clock.advance(LIFETIME - MANDATORY)
        creds = await chain.get()
        assert creds.value.endswith("imds-2")
        assert (skipped.calls, winner.calls) == (1, 2)

    async def test_sticky_provider_declining_reruns_the_chain(
        self, clock: FakeClock
    ) -> None:
        """When the sticky provider stops answering, the whole chain runs again."""
        first = CountingProvider("env", clock)
        second = CountingProvider("imds", clock)
        chain = make_chain(clock, first, second)
        assert (await chain.get()).provider == "env"
        first.declines = True
        clock.advance(LIFETIME - MANDATORY)
        creds = await chain.get()
        assert creds.provider == "imds"
        assert chain.provider == "imds"
        assert (first.calls, second.calls) == (2, 1)

    async def test_invalidate_resolves_again(self, clock: FakeClock) -> None:
        """After invalidate() the next get runs the chain from the top."""
        provider, chain = await primed(clock)
        first = await chain.get()
        chain.invalidate()
        forgotten = chain.provider
        second = await chain.get()
        assert forgotten is None
        assert second is not first
        assert second.value.endswith("env-2")
        assert chain.provider == "env"
        assert provider.calls == 2

    async def test_invalidate_during_a_renewal(self, clock: FakeClock) -> None:
        """A renewal overtaken by invalidate() answers its caller but not the chain."""
        provider, chain = await primed(clock)
        clock.advance(LIFETIME - MANDATORY)
        first_gate = provider.gate = anyio.Event()
        results: dict[str, Credentials[str]] = {}

        async def grab(who: str) -> None:
            results[who] = await chain.get()

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(grab, "old")
                await anyio.wait_all_tasks_blocked()
                chain.invalidate()
                second_gate = provider.gate = anyio.Event()
                tg.start_soon(grab, "new")
                await anyio.wait_all_tasks_blocked()
                first_gate.set()
                await anyio.wait_all_tasks_blocked()
                tg.start_soon(grab, "late")
                await anyio.wait_all_tasks_blocked()
                assert provider.calls == 3  # "late" joined the second renewal
                second_gate.set()
        assert results["old"].value.endswith("env-2")
        assert results["new"] is results["late"]
        assert results["new"].value.endswith("env-3")
        assert await chain.get() is results["new"]


class TestAdvisoryWindow:
    async def test_one_refresh_and_nobody_waits(self, clock: FakeClock) -> None:
        """Fifty callers in the advisory window cause one load; all but one return."""
        provider, chain = await primed(clock)
        old = await chain.get()
        clock.advance(LIFETIME - ADVISORY + 1.0)
        provider.gate = anyio.Event()
        results: list[Credentials[str]] = []

        async def grab() -> None:
            results.append(await chain.get())

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for _ in range(50):
                    tg.start_soon(grab)
                await anyio.wait_all_tasks_blocked()
                # The refresher is held at the gate; everyone else is done.
                assert provider.calls == 2
                assert len(results) == 49
                assert all(r is old for r in results)
                provider.gate.set()
        assert len(results) == 50
        new = results[-1]
        assert new.value.endswith("env-2")
        assert await chain.get() is new
        assert provider.calls == 2

    async def test_failure_keeps_current_and_warns(
        self, clock: FakeClock, caplog: pytest.LogCaptureFixture
    ) -> None:
        """A failed early renewal logs a warning without the value and keeps going."""
        caplog.set_level(logging.DEBUG, logger="secretkit.core.credentials")
        provider, chain = await primed(clock)
        old = await chain.get()
        clock.advance(LIFETIME - ADVISORY + 1.0)
        provider.error = CredentialError("sts refused the session")
        assert await chain.get() is old
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "sts refused the session" in warnings[0].getMessage()
        assert CANARY not in caplog.text
        assert all(CANARY not in r.getMessage() for r in caplog.records)
        # The next call tries again, and succeeds once the provider recovers.
        provider.error = None
        new = await chain.get()
        assert new.value.endswith("env-3")
        assert provider.calls == 3


class TestMandatoryWindow:
    async def test_everyone_waits_for_one_load(self, clock: FakeClock) -> None:
        """A hundred callers in the mandatory window share one load and its result."""
        await self.check_shared_load(clock, LIFETIME - MANDATORY)

    async def test_expired_credentials_are_renewed_once(self, clock: FakeClock) -> None:
        """A hundred callers past expiry share one load and its result."""
        await self.check_shared_load(clock, LIFETIME + 60.0)

    @staticmethod
    async def check_shared_load(clock: FakeClock, into: float) -> None:
        provider, chain = await primed(clock)
        clock.advance(into)
        provider.gate = anyio.Event()
        results: list[Credentials[str]] = []

        async def grab() -> None:
            results.append(await chain.get())

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for _ in range(100):
                    tg.start_soon(grab)
                await anyio.wait_all_tasks_blocked()
                assert results == []
                assert provider.calls == 2
                provider.gate.set()
        assert len(results) == 100
        assert all(r is results[0] for r in results)
        assert results[0].value.endswith("env-2")
        assert provider.calls == 2

    async def test_failure_reaches_every_waiter(self, clock: FakeClock) -> None:
        """A failed renewal raises in every waiter; the next call tries again."""
        provider, chain = await primed(clock)
        clock.advance(LIFETIME - MANDATORY)
        provider.gate = anyio.Event()
        provider.error = CredentialError("role session expired; log in again")
        errors: list[CredentialError] = []

        async def grab() -> None:
            try:
                await chain.get()
            except CredentialError as exc:
                errors.append(exc)

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                for _ in range(100):
                    tg.start_soon(grab)
                await anyio.wait_all_tasks_blocked()
                provider.gate.set()
        assert len(errors) == 100
        assert all("log in again" in str(e) for e in errors)
        assert provider.calls == 2
        provider.gate = None
        provider.error = None
        assert (await chain.get()).value.endswith("env-3")

    async def test_cancelled_refresher_hands_over(self, clock: FakeClock) -> None:
        """Cancelling the renewing task wakes a waiter, which renews instead."""
        provider, chain = await primed(clock)
        clock.advance(LIFETIME - MANDATORY)
        provider.gate = anyio.Event()
        scope = anyio.CancelScope()
        results: list[Credentials[str]] = []

        async def refresher() -> None:
            with scope:
                await chain.get()

        async def grab() -> None:
            results.append(await chain.get())

        with anyio.fail_after(5):
            async with anyio.create_task_group() as tg:
                tg.start_soon(refresher)
                await anyio.wait_all_tasks_blocked()
                for _ in range(10):
                    tg.start_soon(grab)
                await anyio.wait_all_tasks_blocked()
                assert provider.calls == 2
                scope.cancel()
                await anyio.wait_all_tasks_blocked()
                assert provider.calls == 3  # one waiter took over
                provider.gate.set()
        assert scope.cancelled_caught
        assert len(results) == 10
        assert all(r is results[0] for r in results)
        assert results[0].value.endswith("env-3")
        assert await chain.get() is results[0]


class TestNoLeaks:
    async def test_repr_never_shows_the_value(self, clock: FakeClock) -> None:
        """Credentials, static providers and chains print without the value."""
        _, chain = await primed(clock)
        creds = await chain.get()
        static = StaticProvider("options", CANARY)
        shown = [repr(creds), str(creds), f"{creds}", repr(chain), repr(static)]
        assert all(CANARY not in text for text in shown)
        assert "env" in repr(chain)
        assert "123456789012" in repr(creds)  # metadata is not secret

    async def test_pickle_refuses_and_copy_is_identity(self, clock: FakeClock) -> None:
        """Credentials refuse pickling; copies are the same object."""
        _, chain = await primed(clock)
        creds = await chain.get()
        with pytest.raises(NotSupported):
            pickle.dumps(creds)
        with pytest.raises(NotSupported):
            pickle.dumps(StaticProvider("options", CANARY))
        assert copy.copy(creds) is creds
        assert copy.deepcopy(creds) is creds


class TestBuildChain:
    async def test_orders_filters_and_skips_inapplicable(
        self, clock: FakeClock
    ) -> None:
        """Factories of the kind are ordered; those that do not apply are left out."""
        seen: list[Options] = []

        def static(name: str) -> CredentialProviderFactory:
            def create(options: Options) -> StaticProvider[str]:
                seen.append(options)
                return StaticProvider(name, f"{CANARY}-{name}")

            return CredentialProviderFactory(kind="aws", name=name, create=create)

        factories = [
            CredentialProviderFactory(
                kind="aws", name="late", create=static("late").create, order=300
            ),
            CredentialProviderFactory(
                kind="aws", name="absent", create=lambda options: None, order=10
            ),
            CredentialProviderFactory(
                kind="vault", name="token", create=static("token").create, order=1
            ),
            CredentialProviderFactory(
                kind="aws", name="early", create=static("early").create, order=50
            ),
        ]
        options = Options({}, instance="aws", source="test")
        chain: CredentialChain[str] = build_chain(
            "aws", factories, options, clock=clock
        )
        assert "providers=('early', 'late')" in repr(chain)
        assert all(o is options for o in seen)
        assert len(seen) == 2
        creds = await chain.get()
        assert creds.provider == "early"
