"""The machinery behind :mod:`secretkit.core.transfer`: pairs, reads, writes.

``transfer`` is the public face and decides; this resolves the pairs it is given
and calls the backends for many secrets at once. Every call goes through the
instance, so an asyncio-only SDK is bridged under trio; reads use a backend's
batch API where it has one; a failure, or a backend's bug, becomes that secret's
outcome instead of failing the others.
"""

from __future__ import annotations

__all__ = (
    "describe",
    "guarded",
    "names",
    "put",
    "read",
    "resolve_pairs",
    "same_value",
    "split_prefix",
)

import hmac
import inspect
import json
import logging
import re
from functools import partial
from typing import TYPE_CHECKING, Final, TypeVar

import anyio

from .backend import SecretInfo
from .errors import (
    BackendError,
    ConfigurationError,
    InvalidReference,
    NotSupported,
    SecretkitError,
)
from .secret import SecretRef

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence

    from anyio.abc import TaskGroup

    from ._instances import Instance, Instances
    from .backend import SecretValue

_T = TypeVar("_T")
_log = logging.getLogger(__name__)
_PREFIX: Final = re.compile(r"(?:([A-Za-z][A-Za-z0-9+._-]*)://)?([^?#]*)")


def split_prefix(text: str, default: str) -> tuple[str, str]:
    """Split ``[backend://]prefix`` into the backend (else ``default``) and prefix.

    :raises InvalidReference: the prefix holds ``?`` or ``#``
    """
    match = _PREFIX.fullmatch(text)
    if match is None:
        raise InvalidReference(
            f"{text!r} is not a prefix: write [backend://]prefix, without ? or #",
            ref=text,
        )
    return match.group(1) or default, match.group(2)


def resolve_pairs(
    instances: Instances,
    default: str,
    pairs: Iterable[tuple[str | SecretRef, str | SecretRef]],
) -> list[tuple[SecretRef, SecretRef]]:
    """Parse the pairs and set their backends; refuse what cannot be copied.

    A pair given twice is copied once.

    :raises InvalidReference: a ``#field``, or a destination's version or stage
    :raises ConfigurationError: two sources for one destination; a secret onto
        itself
    :raises BackendNotFound: a backend is neither configured nor installed
    """
    sources_of: dict[SecretRef, SecretRef] = {}  # destination -> source, in order
    for source_text, target_text in pairs:
        source = _resolved(instances, default, source_text)
        target = _resolved(instances, default, target_text)
        if target.version is not None or target.stage is not None:
            raise InvalidReference(
                f"cannot copy to {str(target)!r}: a destination is a whole secret; "
                "drop ?version= and ?stage=",
                ref=str(target),
            )
        if (source.name, source.backend) == (target.name, target.backend):
            raise ConfigurationError(
                f"{source} would be copied onto itself; pick another destination",
                ref=str(source),
            )
        earlier = sources_of.setdefault(target, source)
        if earlier != source:
            raise ConfigurationError(
                f"{earlier} and {source} would both be copied to {target}; "
                "copy them to different names",
                ref=str(target),
            )
    return [(source, target) for target, source in sources_of.items()]


def _resolved(instances: Instances, default: str, ref: str | SecretRef) -> SecretRef:
    parsed = ref if isinstance(ref, SecretRef) else SecretRef.parse(ref)
    if parsed.field is not None:
        raise InvalidReference(
            f"copies move whole secrets: drop #{parsed.field} from {str(parsed)!r}",
            ref=str(parsed),
        )
    backend = parsed.backend or default
    instances.get(backend)  # BackendNotFound now, before any I/O
    return SecretRef(
        name=parsed.name, backend=backend, version=parsed.version, stage=parsed.stage
    )


def same_value(left: str | bytes, right: str | bytes) -> bool:
    """Whether two values are equal, compared in memory and never revealed.

    Equal is the same bytes of the same kind (text or binary), compared in constant
    time, or the same JSON object however spaced or ordered.
    """
    if type(left) is type(right) and hmac.compare_digest(_raw(left), _raw(right)):
        return True
    try:
        first, second = json.loads(left), json.loads(right)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        return False
    return isinstance(first, dict) and first == second


def _raw(value: str | bytes) -> bytes:
    return value.encode("utf-8", "surrogatepass") if isinstance(value, str) else value


async def read(
    instances: Instances, refs: Sequence[SecretRef], *, concurrency: int
) -> dict[SecretRef, SecretValue | SecretkitError]:
    """Fetch each ref (its ``backend`` set) from its backend; batched where possible.

    :param concurrency: fetches in flight at once where there is no batch API
    :return: every ref's value or error
    """
    by_backend: dict[str, list[SecretRef]] = {}
    for ref in dict.fromkeys(refs):
        by_backend.setdefault(ref.backend or "", []).append(ref)
    found: dict[SecretRef, SecretValue | SecretkitError] = {}
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(instance: Instance, ref: SecretRef) -> None:
        async with limiter:
            found[ref] = await guarded(_call, instance, instance.backend.fetch, ref)

    async def batch(name: str, group: list[SecretRef], tg: TaskGroup) -> None:
        instance = instances.get(name)
        answers = await guarded(_call, instance, instance.backend.fetch_many, group)
        if isinstance(answers, NotSupported):  # no batch API: one by one
            for ref in group:
                tg.start_soon(one, instance, ref)
            return
        for ref in group:
            answer = (
                answers if isinstance(answers, SecretkitError) else answers.get(ref)
            )
            found[ref] = answer or BackendError(
                f"backend {name!r} gave no answer for {ref.name!r}",
                ref=str(ref),
                backend=name,
            )

    async with anyio.create_task_group() as tg:
        for name, group in by_backend.items():
            tg.start_soon(batch, name, group, tg)
    return found


async def describe(
    instances: Instances, refs: Sequence[SecretRef], *, concurrency: int
) -> dict[SecretRef, SecretInfo]:
    """Describe each ref where its backend can; the others are left out."""
    infos: dict[SecretRef, SecretInfo] = {}
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(ref: SecretRef) -> None:
        instance = instances.get(ref.backend or "")
        async with limiter:
            info = await guarded(_call, instance, instance.backend.describe, ref)
        if isinstance(info, SecretInfo):
            infos[ref] = info
        elif not isinstance(info, NotSupported):
            _log.debug("no metadata for %s: %s", ref, type(info).__name__)

    async with anyio.create_task_group() as tg:
        for ref in dict.fromkeys(refs):
            tg.start_soon(one, ref)
    return infos


async def names(instance: Instance, prefix: str) -> list[str]:
    """Every name the instance's backend lists under ``prefix``.

    :raises SecretkitError: what the backend raised
    """

    async def collect() -> list[str]:
        return [name async for name in instance.backend.list(prefix)]

    return await _call(instance, collect)


async def put(
    instance: Instance,
    ref: SecretRef,
    value: str | bytes,
    *,
    create: bool,
    options: Mapping[str, object],
) -> tuple[SecretValue | SecretkitError, tuple[str, ...]]:
    """Store a value with ``options`` (description, tags, content type).

    Options the backend's ``put`` has no parameter for are not passed; when it
    refuses the rest (Vault keeps no tags), the value is written alone.

    :return: what was stored or the error, and the options left out
    """
    backend_put = instance.backend.put
    given = {key: value for key, value in options.items() if _accepts(backend_put, key)}
    dropped = tuple(key for key in options if key not in given)
    write = partial(backend_put, ref, value, create=create)
    stored = await guarded(_call, instance, partial(write, **given))
    if isinstance(stored, NotSupported) and given:
        # Raised before any write: the value matters more than its metadata.
        _log.debug("%s keeps no %s; writing the value alone", ref, ", ".join(given))
        dropped = tuple(options)
        stored = await guarded(_call, instance, write)
    return stored, dropped


async def guarded(
    func: Callable[..., Awaitable[_T]], *args: object
) -> _T | SecretkitError:
    """Return what ``func(*args)`` returns, or the error it raised, as one of ours."""
    try:
        return await func(*args)
    except SecretkitError as exc:
        return exc
    except Exception as exc:  # a backend's bug fails its secret, not the others
        _log.debug("a backend raised %s", type(exc).__name__)
        error = BackendError(f"unexpected {type(exc).__name__} from a backend")
        error.__cause__ = exc
        return error


def _accepts(func: Callable[..., object], keyword: str) -> bool:
    return any(
        parameter.name == keyword or parameter.kind is inspect.Parameter.VAR_KEYWORD
        for parameter in inspect.signature(func).parameters.values()
    )


async def _call(
    instance: Instance, func: Callable[..., Awaitable[_T]], *args: object
) -> _T:
    """Await a backend method on the loop its SDK needs (bridged under trio)."""
    return await instance.call(func, *args)  # type: ignore[return-value]
