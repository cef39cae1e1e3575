"""The cache's records: slots (settled outcomes), flights (running fetches), expiry.

A ``Slot`` holds one cached outcome; routes keep a reference to it, so a hit needs
no key lookup. ``Slot.hot`` is the secret while fresh: ``Expiry`` sets it when a
value is stored and clears it at the slot's ``fresh_until``, so the hit path reads
no clock. While no ``Expiry`` runs (a client used without ``async with``), ``hot``
stays ``None`` and every lookup takes the clocked path.
"""

from __future__ import annotations

__all__ = ("DEAD", "Expiry", "Flight", "Slot")

import heapq
import itertools
import math
from typing import TYPE_CHECKING, Final, final

import anyio

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from .errors import SecretNotFound
    from .secret import Secret


@final
class Slot:
    """One cached outcome. Routes hold it, so a hit needs no key lookup.

    ``hot`` is the secret while fresh, cleared at ``fresh_until`` by the expiry
    task: the hit path reads it without a clock. Without the expiry task running,
    ``hot`` stays ``None`` and lookups take the clocked path.
    """

    __slots__ = (
        "error",
        "expires",
        "fetched",
        "fields",
        "fresh_until",
        "hits",
        "hot",
        "retry_at",
        "secret",
        "seen",
        "stale_until",
    )

    def __init__(self) -> None:
        self.hot: Secret | None = None
        self.secret: Secret | None = None
        self.error: SecretNotFound | None = None
        self.fields: dict[str, Secret] = {}
        self.fetched = self.fresh_until = self.expires = self.stale_until = 0.0
        self.retry_at = 0.0
        self.hits = self.seen = 0


DEAD: Final = Slot()  # what a route holds before its first fetch


@final
class Flight:
    """One backend call that any number of waiters share."""

    __slots__ = ("abandoned", "done", "error", "secret")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.secret: Secret | None = None
        self.error: Exception | None = None
        self.abandoned = False


@final
class Expiry:
    """Clears each armed slot's ``hot`` secret at its deadline.

    :param clock: monotonic seconds (the cache's clock)
    """

    __slots__ = ("_clock", "_heap", "_seq", "_wake", "running")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._heap: list[tuple[float, int, Slot]] = []
        self._seq = itertools.count()
        self._wake: anyio.Event | None = None
        self.running = False

    def arm(self, slot: Slot, now: float) -> None:
        """Make ``slot`` servable without a clock until its ``fresh_until``."""
        if not self.running or slot.secret is None or now >= slot.fresh_until:
            return
        entry = (slot.fresh_until, next(self._seq), slot)
        heapq.heappush(self._heap, entry)
        slot.hot = slot.secret
        if self._heap[0] is entry and self._wake is not None:
            self._wake.set()

    async def run(self, slots: Callable[[], Iterable[Slot]]) -> None:
        """Clear ``hot`` references at their deadlines, until cancelled.

        :param slots: the cache's current slots, armed when the timer starts
        """
        self.running = True
        now = self._clock()
        for slot in slots():
            self.arm(slot, now)
        heap = self._heap
        try:
            while True:
                self._wake = anyio.Event()
                now = self._clock()
                while heap and heap[0][0] <= now:
                    _, _, slot = heapq.heappop(heap)
                    if slot.fresh_until <= now:  # not re-armed for later since
                        slot.hot = None
                delay = heap[0][0] - now if heap else math.inf
                with anyio.move_on_after(delay):
                    await self._wake.wait()
        finally:
            self.stop(slots())

    def stop(self, slots: Iterable[Slot]) -> None:
        """Stop serving without a clock: clear every ``hot`` reference."""
        self.running = False
        self._wake = None
        self._heap.clear()
        for slot in slots:
            slot.hot = None

    def poke(self) -> None:
        """Look at the clock again now (a test clock jumped)."""
        if self._wake is not None:
            self._wake.set()
