"""Credential chains: where a backend's credentials come from, and when to renew them.

A :class:`CredentialChain` asks its providers in order; each answers with
:class:`Credentials` or declines with ``None``, and the first answer wins and is
remembered: renewals ask it again, and only if it stops answering does the whole
chain run again. A provider raising ``CredentialError`` is configured but broken,
and stops the chain.

Expiring credentials are renewed as botocore renews them. Until the *advisory*
window (``advisory`` seconds before expiry) the cached ones are returned as they
are. Inside it, the first caller renews them while the others keep using the
current, still valid ones; a failure is logged and tolerated. Inside the
*mandatory* window (``mandatory`` seconds before expiry, or later) every caller
waits for the renewal and shares its outcome. A renewal runs exactly once for
all concurrent callers. Plugins add providers with :class:`CredentialProviderFactory`.
"""

from __future__ import annotations

__all__ = (
    "CredentialChain",
    "CredentialProvider",
    "CredentialProviderFactory",
    "Credentials",
    "StaticProvider",
    "build_chain",
)

import copy
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, NoReturn, Protocol, TypeVar, cast, final

import anyio

from .errors import ConfigurationError, CredentialError, NotSupported, SecretkitError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping

    from .options import Options

_T = TypeVar("_T")
_T_co = TypeVar("_T_co", covariant=True)
_log = logging.getLogger(__name__)


@final
@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class Credentials(Generic[_T_co]):
    """Credentials a provider produced. The value never shows in ``repr``.

    Pickling refuses and ``copy`` returns the same object, as for ``Secret``.

    :param value: the credentials themselves (keys, a token, an SDK credential)
    :param provider: the name of the provider that produced them
    :param expires_at: when they expire, in epoch seconds; ``None`` if never
    :param metadata: non-secret facts about them (account, identity, role)
    """

    value: _T_co = field(repr=False)
    provider: str
    expires_at: float | None = None
    metadata: Mapping[str, object] = field(default_factory=dict)

    def __copy__(self) -> Credentials[_T_co]:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Credentials[_T_co]:
        return self

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise NotSupported(
            f"refusing to pickle credentials from {self.provider!r}; "
            "pickle the options that build them instead"
        )


class CredentialProvider(Protocol[_T_co]):
    """One place credentials may come from: environment, a profile, a token file."""

    @property
    def name(self) -> str:
        """A short name for messages and logs (``env``, ``web-identity``)."""
        ...

    async def load(self) -> Credentials[_T_co] | None:
        """Return fresh credentials, or ``None`` when not configured here.

        Called for the first resolution and for every renewal; return new
        credentials each time, not a cached copy.

        :return: the credentials, or ``None`` to let the next provider try
        :raises CredentialError: configured here, but unusable; stops the chain
        """
        ...


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class CredentialProviderFactory:
    """How a plugin adds a credential provider to a backend's chain.

    Plugins return these from the ``secretkit_register_credential_providers``
    hook; each backend builds its chain from every factory of its ``kind`` with
    :func:`build_chain`. So a third party can insert a provider into, say, the
    AWS chain, ahead of the instance role::

        @hookimpl
        def secretkit_register_credential_providers():
            return [CredentialProviderFactory(kind="aws", name="sso-cache",
                                              create=SsoCacheProvider.from_options,
                                              order=45)]

    :param kind: the chain it joins: ``aws``, ``vault``, ``azure``
    :param name: the provider's name, shown when no provider answers
    :param create: builds the provider from the backend's options (read with
        ``options.get_*``), or returns ``None`` when it does not apply; no I/O
    :param order: position in the chain, lower first; ties keep registration order
    """

    kind: str
    name: str
    create: Callable[[Options], CredentialProvider[object] | None]
    order: int = 100


@final
class StaticProvider(Generic[_T]):
    """A provider with fixed credentials: explicit options, tests.

    :param name: the provider's name
    :param value: the credentials themselves; never shown
    :param expires_at: when they expire, in epoch seconds; ``None`` if never
    :param metadata: non-secret facts about them
    """

    __slots__ = ("_credentials", "name")

    def __init__(
        self,
        name: str,
        value: _T,
        *,
        expires_at: float | None = None,
        metadata: Mapping[str, object] | None = None,
    ) -> None:
        self.name = name
        self._credentials = Credentials(
            value=value, provider=name, expires_at=expires_at, metadata=metadata or {}
        )

    def __repr__(self) -> str:
        return f"StaticProvider({self.name!r})"

    async def load(self) -> Credentials[_T]:
        """Return the fixed credentials."""
        return self._credentials


@final
class _Flight(Generic[_T]):
    """One renewal in progress, shared by every caller that waits for it."""

    __slots__ = ("done", "error", "result")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.result: Credentials[_T] | None = None
        self.error: CredentialError | None = None


@final
class CredentialChain(Generic[_T]):
    """An ordered chain of providers with cached, renewed-once credentials.

    A chain belongs to one event loop; it works under asyncio and trio.

    :param providers: asked in this order; the first answer wins
    :param kind: what the credentials are for (``aws``), for messages
    :param advisory: seconds before expiry from which one caller renews them
        while the others keep using the current ones
    :param mandatory: seconds before expiry from which every caller waits for
        the renewal
    :param clock: returns the current time in epoch seconds
    :raises ConfigurationError: unless ``0 <= mandatory <= advisory``
    """

    __slots__ = (
        "_advisory",
        "_clock",
        "_current",
        "_flight",
        "_kind",
        "_mandatory",
        "_providers",
        "_sticky",
    )

    def __init__(
        self,
        providers: Iterable[CredentialProvider[_T]],
        *,
        kind: str,
        advisory: float = 600.0,
        mandatory: float = 120.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0 <= mandatory <= advisory:
            raise ConfigurationError(
                f"{kind} credential refresh windows need 0 <= mandatory <= advisory "
                f"(got mandatory={mandatory}, advisory={advisory})"
            )
        self._providers = tuple(providers)
        self._kind = kind
        self._advisory = advisory
        self._mandatory = mandatory
        self._clock = clock
        self._current: Credentials[_T] | None = None
        self._sticky: CredentialProvider[_T] | None = None
        # Created inside get(): anyio primitives need a running event loop.
        self._flight: _Flight[_T] | None = None

    def __repr__(self) -> str:
        names = tuple(p.name for p in self._providers)
        return (
            f"CredentialChain({self._kind!r}, providers={names!r}, "
            f"provider={self.provider!r})"
        )

    @property
    def provider(self) -> str | None:
        """The name of the provider that answered, or ``None`` before that."""
        return None if self._sticky is None else self._sticky.name

    def invalidate(self) -> None:
        """Forget the credentials and the winning provider.

        Call it when the backend rejects them; the next :meth:`get` runs the
        whole chain again. A renewal already running still answers its waiters
        but no longer updates the chain.
        """
        self._current = None
        self._sticky = None
        self._flight = None

    async def get(self) -> Credentials[_T]:
        """Return usable credentials, loading or renewing them when due.

        :return: the current credentials
        :raises CredentialError: no provider answered, one failed, or a renewal
            failed once the current credentials were inside the mandatory window
        """
        while True:
            current = self._current
            if current is not None and current.expires_at is not None:
                now = self._clock()
                if now < current.expires_at - self._advisory:
                    return current
                if now < current.expires_at - self._mandatory:
                    return await self._renew_early(current)
            elif current is not None:
                return current
            flight = self._flight
            if flight is None:
                return await self._refresh()
            await flight.done.wait()
            if flight.error is not None:
                # A copy per waiter: one shared instance would gather every
                # waiter's traceback.
                raise copy.copy(flight.error) from flight.error
            if flight.result is not None:
                return flight.result
            # The renewing task was cancelled: go round, and one of us takes over.

    async def _renew_early(self, current: Credentials[_T]) -> Credentials[_T]:
        if self._flight is not None:
            return current  # someone is already renewing; ours are still valid
        try:
            return await self._refresh()
        except CredentialError as exc:
            # The current ones are still valid: warn (no value), carry on.
            _log.warning("renewing %s credentials early failed: %s", self._kind, exc)
            return current

    async def _refresh(self) -> Credentials[_T]:
        flight: _Flight[_T] = _Flight()
        self._flight = flight
        try:
            provider, creds = await self._resolve()
            flight.result = creds
            if self._flight is flight:  # else invalidate() ran meanwhile
                self._current, self._sticky = creds, provider
            return creds
        except CredentialError as exc:
            flight.error = exc
            raise
        finally:
            # Also on cancellation: the waiters wake with no outcome and one retries.
            if self._flight is flight:
                self._flight = None
            flight.done.set()

    async def _resolve(self) -> tuple[CredentialProvider[_T], Credentials[_T]]:
        sticky = self._sticky
        if sticky is not None:
            creds = await self._ask(sticky)
            if creds is not None:
                return sticky, creds
            _log.info("%s provider %s stopped answering", self._kind, sticky.name)
            self._sticky = None
        for provider in self._providers:
            if provider is sticky:
                continue
            creds = await self._ask(provider)
            if creds is not None:
                _log.debug("using %s credentials from %s", self._kind, provider.name)
                return provider, creds
        names = ", ".join(p.name for p in self._providers) or "no providers"
        raise CredentialError(f"no {self._kind} credentials found; tried: {names}")

    async def _ask(self, provider: CredentialProvider[_T]) -> Credentials[_T] | None:
        where = f"{self._kind} credential provider {provider.name!r}"
        try:
            creds = await provider.load()
        except CredentialError:
            raise
        except SecretkitError as exc:
            raise CredentialError(
                f"{where} failed: {exc.message}", ref=exc.ref, backend=exc.backend
            ) from exc
        except Exception as exc:
            # Only the type: a foreign message may quote what it was parsing.
            raise CredentialError(
                f"{where} failed with {type(exc).__name__}; see the cause"
            ) from exc
        expires_at = None if creds is None else creds.expires_at
        if expires_at is not None and expires_at <= self._clock():
            raise CredentialError(
                f"{where} returned expired credentials; "
                "check the system clock and the session duration"
            )
        return creds


def build_chain(
    kind: str,
    factories: Iterable[CredentialProviderFactory],
    options: Options,
    *,
    advisory: float = 600.0,
    mandatory: float = 120.0,
    clock: Callable[[], float] = time.time,
) -> CredentialChain[_T]:
    """Build the chain of ``kind`` from registered factories, for these options.

    Annotate the result with the credentials type of ``kind``
    (``chain: CredentialChain[AwsKeys] = build_chain("aws", ...)``): the
    registry holds every kind, so only the caller knows the type.

    :param kind: the chain to build (``aws``)
    :param factories: every registered factory; other kinds are ignored
    :param options: the backend instance's options, given to each ``create``
    :param advisory: see :class:`CredentialChain`
    :param mandatory: see :class:`CredentialChain`
    :param clock: see :class:`CredentialChain`
    :return: a chain of the providers that apply, lowest ``order`` first
    :raises ConfigurationError: a factory found the options invalid
    """
    ordered = sorted((f for f in factories if f.kind == kind), key=lambda f: f.order)
    providers = [p for f in ordered if (p := f.create(options)) is not None]
    return CredentialChain(
        # Providers of one kind agree on its credentials type by contract.
        cast("list[CredentialProvider[_T]]", providers),
        kind=kind,
        advisory=advisory,
        mandatory=mandatory,
        clock=clock,
    )
