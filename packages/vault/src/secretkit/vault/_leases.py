"""The leases a Vault backend handed out: renewed rather than read anew; revoked.

A generic read with a ``lease_id`` (dynamic credentials) is remembered by name
with its value, duration and expiry on the backend's clock. The core fetches a
secret again only when its cached copy nears expiry while callers still use it
(refresh-ahead) or after it expired; that next fetch renews the remembered lease
(``sys/leases/renew``, asking for the lease's first duration again) and returns
the same value with the new duration. A fresh read replaces it when the lease is
not renewable, already expired, refused by the server, or renewed for less than
half its first duration (``max_ttl`` is near). With ``revoke_leases``,
``aclose()`` revokes every lease handed out that has not expired yet.

Lease ids are not secret, but they are not logged either; values never are.
"""

from __future__ import annotations

__all__ = ("Lease", "Leases", "renew", "revoke")

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, final

if TYPE_CHECKING:
    from collections.abc import Callable

    from secretkit.core.backend import SecretValue


@dataclass(frozen=True, slots=True, kw_only=True)
class Lease:
    """One lease handed out with a value.

    :param lease_id: the server's lease id
    :param renewable: whether the server allows renewing it
    :param duration: the duration the first read granted, in seconds (asked for
        again on renewal)
    :param expires: when it expires, on the backend's monotonic clock
    :param value: the value handed out under it
    """

    lease_id: str
    renewable: bool
    duration: int
    expires: float
    value: SecretValue


@final
class Leases:
    """The leases one backend handed out, by secret name; plain sync bookkeeping.

    :param clock: monotonic seconds (tests pass their own)
    """

    __slots__ = ("_clock", "_current", "_issued")

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._current: dict[str, Lease] = {}
        self._issued: dict[str, float] = {}  # every lease id handed out: its expiry

    def now(self) -> float:
        """The backend's clock."""
        return self._clock()

    def remember(self, name: str, value: SecretValue, *, since: float) -> None:
        """Remember the lease ``value`` carries (if any) as the one for ``name``.

        :param since: the clock when the read was sent (the lease counts from then)
        """
        lease_id = value.metadata.get("lease_id")
        duration = int(value.ttl or 0)
        if not isinstance(lease_id, str) or duration <= 0:
            return
        lease = Lease(
            lease_id=lease_id,
            renewable=bool(value.metadata.get("renewable")),
            duration=duration,
            expires=since + duration,
            value=value,
        )
        self._current[name] = lease
        self._prune(since)
        self._issued[lease_id] = lease.expires

    def renewable(self, name: str) -> Lease | None:
        """The live, renewable lease handed out for ``name``, if there is one."""
        lease = self._current.get(name)
        if lease is None or not lease.renewable or self._clock() >= lease.expires:
            return None
        return lease

    def renewed(
        self, name: str, lease: Lease, duration: int, *, since: float
    ) -> SecretValue | None:
        """Record a renewal; the same value with its new duration, or ``None``.

        ``None`` (read anew) when the server granted less than half the first
        duration: the lease is near its ``max_ttl``.
        """
        if duration * 2 < lease.duration:
            return None
        metadata = {**lease.value.metadata, "lease_duration": duration}
        value = dataclasses.replace(lease.value, ttl=float(duration), metadata=metadata)
        expires = since + duration
        self._current[name] = dataclasses.replace(lease, expires=expires, value=value)
        self._issued[lease.lease_id] = expires
        return value

    def forget(self, name: str) -> None:
        """Stop renewing ``name``'s lease (it is still revoked on close)."""
        self._current.pop(name, None)

    def take_live(self) -> list[str]:
        """Every lease id handed out that has not expired; forget them all."""
        now = self._clock()
        live = [lease_id for lease_id, ends in self._issued.items() if ends > now]
        self._issued.clear()
        self._current.clear()
        return live

    def _prune(self, now: float) -> None:
        for lease_id in [key for key, ends in self._issued.items() if ends <= now]:
            del self._issued[lease_id]


def renew(client: Any, lease_id: str, increment: int) -> int:
    """Renew a lease (``sys/leases/renew``); the duration the server granted."""
    answer = client.sys.renew_lease(lease_id=lease_id, increment=increment)
    return int((answer or {}).get("lease_duration") or 0)


def revoke(client: Any, lease_id: str) -> None:
    """Revoke a lease (``sys/leases/revoke``) at once."""
    client.sys.revoke_lease(lease_id=lease_id)
