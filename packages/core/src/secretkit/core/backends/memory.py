"""The ``memory`` backend: an in-process store with versions, for tests and examples.

Every put adds a version (``"1"``, ``"2"``, ...); the newest carries the stage
``current``. Watchers are woken by each put or delete of their name. A memory
backend lives on one event loop: its sync helpers are for code on that loop's
thread (or before it starts), not for other threads.
"""

from __future__ import annotations

__all__ = ("MemoryBackend",)

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, final

import anyio

from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import NotSupported, SecretNotFound

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence

    from secretkit.core.errors import BackendError
    from secretkit.core.secret import SecretRef

_CURRENT: Final = "current"
_VERSION = re.compile(r"[1-9][0-9]*")


@dataclass(frozen=True, slots=True)
class _Version:
    value: str | bytes = field(repr=False)
    created: datetime


def _encode(name: str, value: object) -> str | bytes:
    if isinstance(value, (str, bytes)):
        return value
    if isinstance(value, (dict, list)):
        try:
            return json.dumps(value, separators=(",", ":"))
        except (TypeError, ValueError):
            raise NotSupported(
                f"secret {name!r} holds something JSON cannot express", ref=name
            ) from None
    raise NotSupported(
        f"secret {name!r} must be str, bytes, a dict or a list, "
        f"not {type(value).__name__}",
        ref=name,
    )


def _index(version: str, count: int) -> int | None:
    # Version "N" is list index N-1; compare lengths first so int() stays cheap.
    if _VERSION.fullmatch(version) and len(version) <= len(str(count)):
        number = int(version)
        if number <= count:
            return number - 1
    return None


@final
class MemoryBackend(Backend):
    """Secrets in a dict, with version history and push notifications.

    Dicts and lists are stored as compact JSON text, so ``#field`` works on them.

    :param secrets: initial secrets, name to ``str``, ``bytes``, dict or list; each
        becomes version ``"1"``
    :param name: the instance name this backend is configured under
    :ivar calls: how many times :meth:`fetch` was called
    :ivar fail_with: when set, every :meth:`fetch` raises it (simulate an outage
        with ``BackendUnavailable``)
    :raises NotSupported: a value of another type
    """

    calls: int
    fail_with: BackendError | None

    def __init__(
        self, secrets: Mapping[str, object] | None = None, *, name: str = "memory"
    ) -> None:
        self.name = name
        self.calls = 0
        self.fail_with = None
        self._history: dict[str, list[_Version]] = {}
        self._changed: dict[str, anyio.Event] = {}
        self._generations: dict[str, int] = {}  # changes per name, for watchers
        for key, value in (secrets or {}).items():
            self.set(key, value)

    def __repr__(self) -> str:
        return f"MemoryBackend({self.name!r}, {len(self._history)} secrets)"

    def set(self, name: str, value: object) -> SecretValue:
        """Store a new version of ``name`` right away: :meth:`put` for sync code.

        :param name: the secret name; created when missing
        :param value: ``str``, ``bytes``, or a dict or list (stored as JSON text)
        :return: what was stored, with its new version
        :raises NotSupported: a value of another type
        """
        return self._store(name, value, create=True)

    async def fetch(self, ref: SecretRef) -> SecretValue:
        """Return the newest version, or the one ``?version=N`` or ``?stage=`` names.

        :param ref: the secret reference
        :return: the value; the newest version has stages ``("current",)``
        :raises SecretNotFound: no such secret, version or stage
        :raises BackendError: whatever :attr:`fail_with` holds
        """
        self.calls += 1
        if self.fail_with is not None:
            # A fresh traceback each time: re-raising one instance would grow it.
            raise self.fail_with.with_traceback(None)
        versions = self._history.get(ref.name)
        if not versions:
            raise self._missing(ref.name)
        index = len(versions) - 1
        if ref.version is not None:
            found = _index(ref.version, len(versions))
            if found is None:
                raise SecretNotFound(
                    f"secret {ref.name!r} has no version {ref.version!r} "
                    f"(versions 1 to {len(versions)})",
                    ref=ref.name,
                    backend=self.name,
                )
            index = found
        if ref.stage is not None and (
            ref.stage != _CURRENT or index != len(versions) - 1
        ):
            raise SecretNotFound(
                f"secret {ref.name!r} has no such version at stage {ref.stage!r} "
                f"(the newest is at {_CURRENT!r})",
                ref=ref.name,
                backend=self.name,
            )
        return self._value(versions, index)

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
        """Store ``value`` as the new newest version of ``ref.name``; wake watchers.

        The reference's version and stage are ignored, and so are description,
        tags and stages: memory keeps none of them.

        :param ref: names the secret
        :param value: text or bytes
        :param create: create the secret when it does not exist yet
        :return: what was stored, with its new version
        :raises SecretNotFound: the secret is missing and ``create`` is false
        :raises NotSupported: a value that is not ``str`` or ``bytes``
        """
        return self._store(ref.name, value, create=create)

    async def delete(self, ref: SecretRef, *, force: bool = False) -> None:
        """Delete the secret and all its versions; wake watchers.

        A later put starts again at version ``"1"``.

        :raises SecretNotFound: no such secret
        """
        if self._history.pop(ref.name, None) is None:
            raise self._missing(ref.name)
        self._notify(ref.name)

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        """Yield, sorted, the names that start with ``prefix``.

        :param prefix: a name prefix; empty for all
        """
        for name in sorted(self._history):
            if name.startswith(prefix):
                yield name

    async def check(self) -> str:
        """Return ``memory (N secrets)``; it cannot fail."""
        return f"memory ({len(self._history)} secrets)"

    def watch(self, ref: SecretRef) -> AsyncGenerator[None]:
        """Yield once per put or delete of ``ref.name`` made after this call.

        Changes made while the consumer is busy are coalesced into one wake-up.

        :param ref: names the secret to watch
        """
        return self._changes(ref.name, self._generations.get(ref.name, 0))

    async def _changes(self, name: str, seen: int) -> AsyncGenerator[None]:
        while True:
            while self._generations.get(name, 0) == seen:
                await self._event(name).wait()
            seen = self._generations[name]
            yield None

    def _store(self, name: str, value: object, *, create: bool) -> SecretValue:
        stored = _Version(value=_encode(name, value), created=datetime.now(UTC))
        versions = self._history.get(name)
        if versions is None:
            if not create:
                raise SecretNotFound(
                    f"secret {name!r} does not exist; put it with create=True",
                    ref=name,
                    backend=self.name,
                )
            versions = self._history[name] = []
        versions.append(stored)
        self._notify(name)
        return self._value(versions, len(versions) - 1)

    def _value(self, versions: Sequence[_Version], index: int) -> SecretValue:
        stored = versions[index]
        return SecretValue(
            value=stored.value,
            version=str(index + 1),
            stages=(_CURRENT,) if index == len(versions) - 1 else (),
            created=stored.created,
        )

    def _missing(self, name: str) -> SecretNotFound:
        return SecretNotFound(
            f"secret {name!r} not found in memory backend {self.name!r}",
            ref=name,
            backend=self.name,
        )

    def _event(self, name: str) -> anyio.Event:
        event = self._changed.get(name)
        if event is None:
            event = self._changed[name] = anyio.Event()
        return event

    def _notify(self, name: str) -> None:
        self._generations[name] = self._generations.get(name, 0) + 1
        event = self._changed.pop(name, None)
        if event is not None:
            event.set()
