"""What a client's cache keeps and for how long: ``CachePolicy``, and ``CacheStats``."""

from __future__ import annotations

__all__ = ("CachePolicy", "CacheStats")

from dataclasses import dataclass

from .errors import ConfigurationError


@dataclass(frozen=True, slots=True, kw_only=True)
class CachePolicy:
    """How long secrets are kept and what happens around expiry.

    :param ttl: seconds a fetched value is served without asking the backend again
        (0 disables caching; concurrent misses still share one call)
    :param max_stale: seconds past expiry a value may still be served while the
        backend is unavailable (0: never serve stale)
    :param refresh_ahead: fraction of the TTL, at its end, in which a background
        refresh runs while the current value is served (0: no refresh-ahead)
    :param negative_ttl: seconds a ``SecretNotFound`` is remembered, and the least
        time between retries while serving stale
    :param max_entries: the most secrets kept; least recently used go first
    :param jitter: each TTL is shortened by a random fraction up to this
    """

    ttl: float = 300.0
    max_stale: float = 0.0
    refresh_ahead: float = 0.1
    negative_ttl: float = 5.0
    max_entries: int = 10_000
    jitter: float = 0.1

    def __post_init__(self) -> None:
        for name in ("ttl", "max_stale", "negative_ttl"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigurationError(
                    f"cache.{name} must be a number of seconds", key=f"cache.{name}"
                )
            if value < 0:
                raise ConfigurationError(
                    f"cache.{name} must not be negative", key=f"cache.{name}"
                )
        for name in ("refresh_ahead", "jitter"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigurationError(
                    f"cache.{name} must be a fraction", key=f"cache.{name}"
                )
            if not 0 <= value < 1:
                raise ConfigurationError(
                    f"cache.{name} must be at least 0 and below 1", key=f"cache.{name}"
                )
        if (
            isinstance(self.max_entries, bool)
            or not isinstance(self.max_entries, int)
            or self.max_entries < 1
        ):
            raise ConfigurationError(
                "cache.max_entries must be a whole number of at least 1",
                key="cache.max_entries",
            )


@dataclass(frozen=True, slots=True, kw_only=True)
class CacheStats:
    """Counters since the client started (or since ``clear()`` for ``size``).

    :param hits: lookups served from the cache (fresh, or during refresh-ahead)
    :param misses: lookups that had to wait for the backend
    :param backend_calls: calls made to backends (shared by concurrent misses)
    :param errors: backend calls that failed
    :param stale: lookups served a stale value through an outage
    :param negative_hits: lookups answered by a remembered ``SecretNotFound``
    :param refreshes: background refresh-ahead calls started
    :param evictions: entries dropped to stay within ``max_entries``
    :param size: entries held now
    """

    hits: int
    misses: int
    backend_calls: int
    errors: int
    stale: int
    negative_hits: int
    refreshes: int
    evictions: int
    size: int
