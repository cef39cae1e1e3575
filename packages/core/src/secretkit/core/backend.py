"""What a backend author implements: ``Backend``, ``SecretValue``, ``BackendFactory``.

A backend is an async object with one required method, :meth:`Backend.fetch`. The
optional ones (``fetch_many``, ``put``, ``delete``, ``list``, ``check``, ``watch``)
raise ``NotSupported`` unless overridden. A plugin announces backends through the
``secretkit_register_backends`` hook, each as a :class:`BackendFactory` that builds
instances from checked :class:`~secretkit.core.options.Options`.

Backends never start threads or event loops: a blocking SDK calls
:meth:`Backend.run_blocking`, which uses the core's bounded worker threads, and an
asyncio-only SDK declares ``runs="asyncio"`` so the core bridges it under trio.
"""

from __future__ import annotations

__all__ = ("Backend", "BackendFactory", "Runs", "SecretInfo", "SecretValue")

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, NoReturn, TypeVar

from .errors import NotSupported

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping, Sequence
    from datetime import datetime

    from anyio import CapacityLimiter

    from .errors import SecretkitError
    from .options import Options
    from .secret import SecretRef

_T = TypeVar("_T")

Runs = Literal["anyio", "asyncio", "blocking"]


@dataclass(frozen=True, slots=True, kw_only=True, eq=False)
class SecretValue:
    """What a backend returns for one secret: the value and what it knows about it.

    The value never shows in ``repr``; pickling refuses.

    :param value: text, or bytes for a binary secret
    :param version: the backend's version id
    :param stages: stages or labels on this version (``AWSCURRENT``)
    :param created: when this version was created
    :param metadata: non-secret attributes: tags, content type, expiry, lease id
    :param ttl: seconds the value may be cached at most (a lease), if the backend knows
    """

    value: str | bytes = field(repr=False)
    version: str | None = None
    stages: tuple[str, ...] = ()
    created: datetime | None = None
    metadata: Mapping[str, object] = field(default_factory=dict)
    ttl: float | None = None

    def __copy__(self) -> SecretValue:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> SecretValue:
        return self

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise NotSupported("refusing to pickle a secret value")


@dataclass(frozen=True, slots=True, kw_only=True)
class SecretInfo:
    """What a backend knows about a secret, without its value (``describe``).

    :param name: the secret's name
    :param version: the current version id
    :param stages: the current version's stages or labels
    :param created: when the secret (or its current version) was created
    :param updated: when it last changed
    :param versions: every version id the backend reports, with its stages
    :param metadata: the rest: description, tags, rotation state, deletion date
    """

    name: str
    version: str | None = None
    stages: tuple[str, ...] = ()
    created: datetime | None = None
    updated: datetime | None = None
    versions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    metadata: Mapping[str, object] = field(default_factory=dict)


class Backend:
    """Base class of every backend. Override :meth:`fetch`, and what else you can do.

    :ivar name: the instance name this backend was configured under
    """

    name: str = "backend"
    _limiter: CapacityLimiter | None = None

    async def fetch(self, ref: SecretRef) -> SecretValue:
        """Return the secret ``ref`` names (its version or stage, if given).

        The core handles ``ref.field``; backends ignore it.

        :raises SecretNotFound: no such secret or version
        :raises AccessDenied: the identity may not read it
        :raises BackendUnavailable: the backend could not be reached
        """
        raise NotImplementedError

    async def fetch_many(
        self, refs: Sequence[SecretRef]
    ) -> Mapping[SecretRef, SecretValue | SecretkitError]:
        """Fetch several secrets in as few calls as the backend allows.

        Return an outcome for every ref: its value, or the error for that ref alone
        (any :class:`~secretkit.core.errors.SecretkitError`, such as a bad version).
        Backends without a batch API leave this alone; the core then fetches each
        ref concurrently.

        :raises NotSupported: the backend has no batch API
        """
        raise self._unsupported("fetch_many")

    async def put(
        self,
        ref: SecretRef,
        value: str | bytes,
        *,
        create: bool = True,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        stages: Sequence[str] = (),
    ) -> SecretValue:
        """Store a new value (a new version where the backend keeps versions).

        :param create: create the secret when it does not exist yet
        :param description: a description, where the backend keeps one
        :param tags: tags to set, where the backend keeps them
        :param stages: stages or labels for the new version, where supported
        :return: what was stored, with the new version id (its value too)
        :raises SecretNotFound: ``create=False`` and no such secret
        :raises NotSupported: the backend is read-only
        """
        raise self._unsupported("put")

    async def delete(self, ref: SecretRef, *, force: bool = False) -> None:
        """Delete a secret (backends with a recovery window keep it until then).

        :param force: skip the recovery window, where the backend has one
        :raises NotSupported: the backend is read-only
        """
        raise self._unsupported("delete")

    async def describe(self, ref: SecretRef) -> SecretInfo:
        """Return what the backend knows about a secret, never its value.

        :raises SecretNotFound: no such secret
        :raises NotSupported: the backend cannot describe
        """
        raise self._unsupported("describe")

    def list(self, prefix: str = "") -> AsyncIterator[str]:
        """Yield the names of the secrets under ``prefix``; never values.

        :raises NotSupported: the backend cannot list
        """
        raise self._unsupported("list")

    async def check(self) -> str:
        """Verify connectivity and credentials; return who we are talking as.

        Used by ``secretkit doctor``. Make one cheap, read-only call.

        :return: a one-line identity (an ARN, a token's display name, a path)
        :raises BackendError: what went wrong
        """
        raise self._unsupported("check")

    def watch(self, ref: SecretRef) -> AsyncIterator[None]:
        """Yield each time the secret may have changed (push notification).

        Backends that cannot push leave this alone; the client then polls.

        :raises NotSupported: the backend cannot push changes
        """
        raise self._unsupported("watch")

    async def aclose(self) -> None:
        """Release connections and sessions. Called once, when the client closes."""

    async def run_blocking(self, func: Callable[..., _T], *args: object) -> _T:
        """Run a blocking SDK call in one of the core's bounded worker threads.

        :param func: the blocking callable
        :param args: its positional arguments
        :return: what ``func`` returned
        """
        from anyio.to_thread import run_sync

        return await run_sync(func, *args, limiter=self._limiter)

    def _unsupported(self, what: str) -> NotSupported:
        return NotSupported(
            f"backend {self.name!r} ({type(self).__name__}) does not support {what}",
            backend=self.name,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendFactory:
    """How a plugin announces a backend type.

    :param type: the type name used in configuration (``aws``, ``vault``)
    :param create: builds an instance from its options; cheap, no I/O, no SDK
        import; calls ``options.done()`` so unknown keys fail at configuration time
    :param aliases: other names for the same type (``aws-secrets-manager``)
    :param runs: how the SDK runs: ``anyio`` (native), ``asyncio`` (asyncio-only:
        bridged under trio) or ``blocking`` (calls ``run_blocking``)
    :param description: one line for ``secretkit plugins``
    """

    type: str
    create: Callable[[Options], Backend]
    aliases: tuple[str, ...] = ()
    runs: Runs = "anyio"
    description: str = ""
