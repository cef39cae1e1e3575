"""The async TTL cache behind every client (its policy is in ``policy.py``).

* **Hits** are plain sync code in the client, reading a slot's ``hot`` secret: no
  clock, no lock, no copy, no allocation (see ``_slots.py``).
* **Single flight**: concurrent misses on a key share one backend call, run in the
  client's task group so a cancelled waiter does not cancel it for the others; a
  failure fails every waiter once, and the next call retries.
* **Refresh-ahead**: in the last ``refresh_ahead`` of its TTL an entry is served
  while one background call refreshes it.
* **Stale-if-error**: through ``BackendUnavailable`` the old value is served up to
  ``max_stale`` past expiry, asking again at most every ``negative_ttl`` seconds.
* **Negative caching**: ``SecretNotFound`` is remembered for ``negative_ttl``.
* **Bounds**: at most ``max_entries`` entries, evicted least-recently-used first
  (the second-chance approximation, so hits only set a flag); TTLs are shortened
  by up to ``jitter`` so a fleet does not refresh in lockstep.
"""

from __future__ import annotations

__all__ = ("Cache",)

import logging
import time
from typing import TYPE_CHECKING, Generic, TypeVar, final

from ._loops import reset_in_child
from ._slots import DEAD, Expiry, Flight, Slot
from .errors import (
    BackendError,
    BackendUnavailable,
    NotSupported,
    SecretkitError,
    SecretNotFound,
)
from .policy import CachePolicy, CacheStats

_K = TypeVar("_K", bound="Hashable")

if TYPE_CHECKING:
    from collections.abc import (
        Awaitable,
        Callable,
        Coroutine,
        Hashable,
        Iterable,
        Mapping,
    )
    from typing import Any

    from .hookspecs import CacheResult
    from .secret import Secret

    # Called with True for a background refresh-ahead, False for a miss.
    Loader = Callable[[bool], Awaitable[tuple[Secret, float | None]]]
    # How one fetch ended: the secret and its lease TTL, or the error.
    Outcome = tuple[Secret, float | None] | Exception
    # Fetches several keys at once: an outcome per key.
    BatchLoader = Callable[[list[_K]], Awaitable[Mapping[_K, Outcome]]]
    Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]]], None]

_log = logging.getLogger(__name__)


@final
class Cache(Generic[_K]):
    """The cache of one client. Keys are hashable; values are ``Secret`` objects.

    :param policy: TTLs and bounds
    :param clock: monotonic seconds; a test clock may offer ``subscribe(callback)``
        to wake the expiry task when it jumps
    :param rand: a ``[0, 1)`` source for jitter
    """

    __slots__ = (
        "__weakref__",
        "_clock",
        "_expiry",
        "_flights",
        "_rand",
        "_retired_hits",
        "_slots",
        "backend_calls",
        "errors",
        "evictions",
        "misses",
        "negative_hits",
        "policy",
        "refreshes",
        "stale",
    )

    def __init__(
        self,
        policy: CachePolicy,
        *,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] | None = None,
    ) -> None:
        if rand is None:
            from random import random

            rand = random
        self.policy = policy
        self._clock = clock
        self._rand = rand
        self._slots: dict[_K, Slot] = {}
        self._flights: dict[_K, Flight] = {}
        self._expiry = Expiry(clock)
        self._retired_hits = 0
        self.misses = self.backend_calls = self.errors = self.stale = 0
        self.negative_hits = self.refreshes = self.evictions = 0
        subscribe = getattr(clock, "subscribe", None)
        if callable(subscribe):
            subscribe(self._expiry.poke)
        reset_in_child(self)

    def slot(self, key: _K) -> Slot:
        """The slot a route should hold for ``key`` (``DEAD`` when none)."""
        return self._slots.get(key, DEAD)

    def field(self, key: _K, secret: Secret, path: str) -> Secret:
        """Return ``secret.field(path)``, memoized while the slot holds ``secret``.

        :raises DecodeError: not JSON, or no such field
        """
        slot = self._slots.get(key)
        if slot is not None and slot.secret is secret:
            derived = slot.fields.get(path)
            if derived is None:
                derived = slot.fields[path] = secret.field(path)
            return derived
        return secret.field(path)

    async def get(
        self,
        key: _K,
        load: Loader,
        *,
        ttl: float | None = None,
        max_age: float | None = None,
        spawn: Spawn | None = None,
    ) -> tuple[Secret, CacheResult]:
        """Return the secret for ``key``, fetching it with ``load`` when needed.

        :param load: fetches the secret; returns it with the backend's lease TTL
        :param ttl: this entry's TTL instead of the policy's
        :param max_age: accept a cached value at most this old (a per-call TTL)
        :param spawn: starts a task in the client's task group; without it, the
            first waiter runs the fetch itself and refresh-ahead is off
        :return: the secret and how it was served: ``hit``, ``miss`` or ``stale``
        :raises SecretkitError: what the backend raised, shared by all waiters
        """
        now = self._clock()
        slot = self._slots.get(key)
        if slot is not None and (max_age is None or now - slot.fetched < max_age):
            secret = slot.secret
            if secret is None:
                if now < slot.fresh_until and slot.error is not None:
                    self.negative_hits += 1
                    raise slot.error.with_traceback(None)
            elif now < slot.fresh_until:
                slot.hits += 1
                return secret, "hit"
            elif now < slot.expires and spawn is not None:
                if key not in self._flights:
                    self.refreshes += 1
                    self._start(key, load, ttl, spawn, refresh=True)
                slot.hits += 1
                return secret, "hit"
            elif now < slot.retry_at and now < slot.stale_until:
                self.stale += 1
                return secret, "stale"
        self.misses += 1
        while True:
            flight = self._flights.get(key)
            if flight is None:
                flight = self._start(key, load, ttl, spawn)
                if spawn is None:
                    await self._run(key, flight, load, ttl)
            await flight.done.wait()
            if not flight.abandoned:
                break
        if flight.secret is not None:
            return flight.secret, "miss"
        error = flight.error
        assert error is not None  # a finished, kept flight has one or the other
        if isinstance(error, BackendUnavailable):
            slot = self._slots.get(key)
            stale = slot is not None and slot.secret is not None
            if stale and self._clock() < slot.stale_until:  # type: ignore[union-attr]
                self.stale += 1
                _log.warning(
                    "serving a stale value: %s (%s)", error, type(error).__name__
                )
                return slot.secret, "stale"  # type: ignore[union-attr,return-value]
        raise error

    def _start(
        self,
        key: _K,
        load: Loader,
        ttl: float | None,
        spawn: Spawn | None,
        *,
        refresh: bool = False,
    ) -> Flight:
        flight = Flight()
        if spawn is not None:  # may raise when the client is closing: register after
            spawn(lambda: self._run(key, flight, load, ttl, refresh=refresh))
        self._flights[key] = flight
        return flight

    async def _run(
        self,
        key: _K,
        flight: Flight,
        load: Loader,
        ttl: float | None,
        *,
        refresh: bool = False,
    ) -> None:
        self.backend_calls += 1
        outcome: Outcome | None = None  # None: abandoned (cancelled), waiters retry
        try:
            outcome = await load(refresh)
        except Exception as exc:  # a backend bug too: fail every waiter, once
            self.errors += 1
            outcome = exc
        finally:
            self._settle(key, flight, outcome, ttl)

    async def prefetch(
        self,
        keys: Iterable[_K],
        load_many: BatchLoader[_K],
        *,
        ttl: float | None = None,
        spawn: Spawn | None = None,
    ) -> dict[_K, Flight]:
        """Fetch the keys that need it in one batch call, as flights others join.

        Fresh, remembered-missing and in-flight keys are left alone. Callers then
        ``get()`` each key as usual, sharing the batch's flights or results.

        :param load_many: fetches several keys in one call; an outcome per key
        :return: the running flights of the keys asked for (the batch's and others)
        """
        now = self._clock()
        wanted = []
        for key in dict.fromkeys(keys):
            slot = self._slots.get(key)
            if key not in self._flights and (slot is None or now >= slot.fresh_until):
                wanted.append(key)
        running = {key: self._flights[key] for key in keys if key in self._flights}
        if len(wanted) < 2:  # one key gains nothing over a plain get()
            return running
        flights = {key: Flight() for key in wanted}
        if spawn is not None:
            spawn(lambda: self._run_batch(flights, load_many, ttl))
        self._flights.update(flights)
        if spawn is None:
            await self._run_batch(flights, load_many, ttl)
        return {**running, **flights}

    def stale_value(self, key: _K) -> Secret | None:
        """The value to serve through an outage, if ``max_stale`` still allows it."""
        slot = self._slots.get(key)
        if slot is None or slot.secret is None or self._clock() >= slot.stale_until:
            return None
        self.stale += 1
        return slot.secret

    async def _run_batch(
        self,
        flights: dict[_K, Flight],
        load_many: BatchLoader[_K],
        ttl: float | None,
    ) -> None:
        self.backend_calls += 1
        outcomes: Mapping[_K, Outcome] | None = None
        try:
            outcomes = await load_many(list(flights))
        except NotSupported:
            pass  # no batch API after all: the waiters, abandoned, fetch alone
        except Exception as exc:
            self.errors += 1
            outcomes = dict.fromkeys(flights, exc)
        finally:
            for key, flight in flights.items():
                outcome = None if outcomes is None else outcomes.get(key)
                if outcome is None and outcomes is not None:
                    outcome = BackendError("the batch returned nothing for this secret")
                self._settle(key, flight, outcome, ttl)

    def _settle(
        self, key: _K, flight: Flight, outcome: Outcome | None, ttl: float | None
    ) -> None:
        """Record how a flight ended (unless invalidated since); wake its waiters."""
        kept = self._flights.get(key) is flight
        if kept:
            del self._flights[key]
        if outcome is None:
            flight.abandoned = True
        elif isinstance(outcome, Exception):
            flight.error = outcome
            if kept and isinstance(outcome, SecretkitError):
                self._failed(key, outcome)
        else:
            secret, lease = outcome
            flight.secret = secret
            if kept:
                life = self.policy.ttl if ttl is None else ttl
                self._store(key, secret, life if lease is None else min(life, lease))
        flight.done.set()

    def _renew(self, key: _K) -> Slot:
        """The slot for ``key``, cleared for new contents, as the most recently used."""
        slot = self._slots.pop(key, None)
        if slot is None:
            slot = Slot()
            self._evict(self.policy.max_entries - 1)  # room, before it joins
        slot.hot = None  # first: a reader on another thread must not see a mix
        slot.fields = {}
        slot.retry_at = 0.0
        self._slots[key] = slot
        return slot

    def _store(self, key: _K, secret: Secret, ttl: float) -> None:
        policy = self.policy
        now = self._clock()
        life = ttl * (1.0 - policy.jitter * self._rand())
        slot = self._renew(key)
        slot.secret, slot.error, slot.fetched = secret, None, now
        slot.fresh_until = now + life * (1.0 - policy.refresh_ahead)
        slot.expires = now + life
        slot.stale_until = slot.expires + policy.max_stale
        self._expiry.arm(slot, now)

    def _failed(self, key: _K, error: SecretkitError) -> None:
        now = self._clock()
        if isinstance(error, SecretNotFound):
            slot = self._renew(key)
            slot.secret, slot.error, slot.fetched = None, error, now
            slot.fresh_until = slot.expires = slot.stale_until = (
                now + self.policy.negative_ttl
            )
            return
        kept = self._slots.get(key)
        if kept is not None and kept.secret is not None:
            # Keep serving what we have without asking again for a while;
            # past expiry only an outage (BackendUnavailable) may serve stale.
            retry_at = now + self.policy.negative_ttl
            if isinstance(error, BackendUnavailable):
                kept.retry_at = retry_at
            if now < kept.expires:
                kept.fresh_until = min(kept.expires, retry_at)
                self._expiry.arm(kept, now)

    def _retire(self, slot: Slot) -> None:
        slot.hot = None
        self._retired_hits += slot.hits
        slot.hits = slot.seen = 0

    def _evict(self, keep: int) -> None:
        slots = self._slots
        while len(slots) > keep:
            key = next(iter(slots))
            slot = slots.pop(key)
            if slot.hits != slot.seen:  # used since the last sweep: second chance
                slot.seen = slot.hits
                slots[key] = slot
            else:
                self._retire(slot)
                self.evictions += 1

    async def run_expiry(self) -> None:
        """Run the expiry timer (in the client's task group) until cancelled."""
        await self._expiry.run(self._slots.values)

    def after_fork_in_child(self) -> None:
        """Forget the parent's tasks: running fetches and the expiry timer."""
        self._flights = {}
        self._expiry.stop(self._slots.values())

    def invalidate(self, key: _K) -> None:
        """Forget ``key``; a fetch already running for it will not be stored."""
        slot = self._slots.pop(key, None)
        if slot is not None:
            self._retire(slot)
        self._flights.pop(key, None)

    def clear(self) -> None:
        """Forget everything; fetches already running will not be stored."""
        for slot in self._slots.values():
            self._retire(slot)
        self._slots.clear()
        self._flights.clear()

    def stats(self) -> CacheStats:
        """Return a snapshot of the counters."""
        slots = list(self._slots.values())
        return CacheStats(
            hits=self._retired_hits + sum(slot.hits for slot in slots),
            misses=self.misses,
            backend_calls=self.backend_calls,
            errors=self.errors,
            stale=self.stale,
            negative_hits=self.negative_hits,
            refreshes=self.refreshes,
            evictions=self.evictions,
            size=len(slots),
        )
