"""Who watches lookups: the ``secretkit_fetch_*`` hook callers of one client.

Decided once, when a client is built: with no hook implementations and the
``secretkit.fetch`` logger below DEBUG, there is nobody to tell and the hit path
builds no event at all.
"""

from __future__ import annotations

__all__ = ("Observers", "outcome")

import logging
from typing import TYPE_CHECKING, Final, final

import anyio

from .errors import AccessDenied, BackendUnavailable, CredentialError, SecretNotFound
from .hookspecs import FetchEvent

if TYPE_CHECKING:
    from .hookspecs import CacheResult, Outcome
    from .plugins import Registry

_log = logging.getLogger(__name__)
_OUTCOMES: Final[tuple[tuple[type[Exception], Outcome], ...]] = (
    (SecretNotFound, "not_found"),
    (AccessDenied, "access_denied"),
    (CredentialError, "credential_error"),
    (BackendUnavailable, "unavailable"),
)


def outcome(exc: BaseException) -> Outcome:
    """The event outcome for an exception a lookup ended with."""
    if isinstance(exc, anyio.get_cancelled_exc_class()):
        return "cancelled"
    return next((name for cls, name in _OUTCOMES if isinstance(exc, cls)), "error")


@final
class Observers:
    """The fetch hooks of one client; ``active`` is false when nobody listens.

    :param plugins: the registry whose hook implementations observe
    """

    __slots__ = ("_finished", "_started", "active")

    def __init__(self, plugins: Registry) -> None:
        debug = logging.getLogger("secretkit.fetch").isEnabledFor(logging.DEBUG)
        hidden = [] if debug else [plugins.fetch_log]
        manager = plugins.manager
        self._started = manager.subset_hook_caller("secretkit_fetch_started", hidden)
        self._finished = manager.subset_hook_caller("secretkit_fetch_finished", hidden)
        self.active = bool(
            self._started.get_hookimpls() or self._finished.get_hookimpls()
        )

    def started(
        self, backend: str, name: str, version: str | None, cache: CacheResult
    ) -> None:
        """Tell observers a backend call starts."""
        self._emit(
            self._started,
            FetchEvent(
                backend=backend,
                name=name,
                version=version,
                outcome="ok",
                cache=cache,
                duration=0.0,
            ),
        )

    def finished(
        self,
        backend: str,
        name: str,
        version: str | None,
        cache: CacheResult,
        duration: float,
        error: BaseException | None = None,
    ) -> None:
        """Tell observers how a lookup ended."""
        self._emit(
            self._finished,
            FetchEvent(
                backend=backend,
                name=name,
                version=version,
                outcome="ok" if error is None else outcome(error),
                cache=cache,
                duration=duration,
                error=None if error is None else type(error).__name__,
            ),
        )

    @staticmethod
    def _emit(caller: object, event: FetchEvent) -> None:
        try:
            caller(event=event)  # type: ignore[operator]  # a pluggy HookCaller
        except Exception:  # an observer's bug must not fail a lookup
            _log.exception("a secretkit fetch hook failed")
