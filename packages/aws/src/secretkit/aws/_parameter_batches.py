"""Batched SSM reads: GetParameters, ten names per call, the calls concurrent.

Every request ends in its own outcome. A name SSM lists as invalid is a
``SecretNotFound`` for it alone; a call refused as a whole for one name (IAM
checks every name of a GetParameters) is retried name by name, so the others
still come back; an outage or a credential failure is reported for each name.
"""

from __future__ import annotations

__all__ = ("BATCH_SIZE", "answers", "batches", "read_batches")

from collections import Counter
from typing import TYPE_CHECKING, Any, Final

import anyio

from secretkit.core.errors import (
    BackendError,
    BackendUnavailable,
    CredentialError,
    SecretkitError,
    SecretNotFound,
)

from ._parameters import to_value

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Mapping

    from secretkit.core.backend import SecretValue

    from ._parameters import Request

    Regions = tuple[str | None, ...]
    Answer = tuple[Mapping[str, Any], str | None]  # a response, and its region
    Outcome = SecretValue | SecretkitError

BATCH_SIZE: Final = 10  # the most names GetParameters accepts in one call


def batches(requests: Iterable[Request], size: int = BATCH_SIZE) -> list[list[Request]]:
    """Cut requests into GetParameters calls of at most ``size`` names.

    No call holds one name twice (``x`` and ``x:1``): SSM answers each with the bare
    name, so a response entry always maps back to exactly one request.
    """
    seen: Counter[str] = Counter()
    layers: list[list[Request]] = []  # layer k: the k-th request for each name
    for request in dict.fromkeys(requests):
        depth = seen[request.name]
        seen[request.name] += 1
        if depth == len(layers):
            layers.append([])
        layers[depth].append(request)
    return [
        layer[start : start + size]
        for layer in layers
        for start in range(0, len(layer), size)
    ]


def answers(
    batch: Iterable[Request],
    response: Mapping[str, Any],
    *,
    region: str | None,
    backend: str,
) -> dict[Request, SecretValue | SecretNotFound]:
    """Each request's outcome from a GetParameters response.

    Entries map back by name or ARN (see :func:`batches`); a request with no entry
    (one of ``InvalidParameters``) is a ``SecretNotFound`` naming it.

    :param batch: the requests of the call
    :param response: its response
    :param region: the region it was read in
    :param backend: the backend instance name, for errors
    """
    by_name = {request.name: request for request in batch}
    found: dict[Request, SecretValue | SecretNotFound] = {}
    for parameter in response.get("Parameters", ()):
        for key in (parameter.get("Name"), parameter.get("ARN")):
            match = by_name.get(key) if isinstance(key, str) else None
            if match is not None and match not in found:
                found[match] = to_value(parameter, region=region, label=match.label)
                break
    for request in by_name.values():
        if request not in found:
            found[request] = SecretNotFound(
                f"AWS GetParameters for {request.text!r}: no such parameter, "
                "version or label (check the name and the region)",
                ref=request.text,
                backend=backend,
            )
    return found


async def read_batches(
    groups: Mapping[Regions, list[Request]],
    *,
    get_many: Callable[[list[Request], Regions], Awaitable[Answer]],
    get_one: Callable[[Request], Awaitable[SecretValue]],
    backend: str,
) -> dict[Request, Outcome]:
    """Read every request, in batches per group of regions, all calls at once.

    :param groups: the requests, by the regions to read them in
    :param get_many: one GetParameters call: its response and the region it used
    :param get_one: one GetParameter call, for the names of a refused batch
    :param backend: the backend instance name, for errors
    :return: an outcome for every request; raises only cancellation
    """
    results: dict[Request, Outcome] = {}

    async def read(batch: list[Request], regions: Regions) -> None:
        try:
            response, region = await get_many(batch, regions)
        except SecretkitError as exc:
            refused = isinstance(exc, BackendError) and not isinstance(
                exc, (BackendUnavailable, CredentialError)
            )
            if refused and len(batch) > 1:
                await _read_each(batch, get_one, results)
            else:
                results.update((r, _for_one(exc, r.text)) for r in batch)
            return
        results.update(answers(batch, response, region=region, backend=backend))

    async with anyio.create_task_group() as tg:
        for regions, requests in groups.items():
            for batch in batches(requests):
                tg.start_soon(read, batch, regions)
    return results


async def _read_each(
    batch: list[Request],
    get_one: Callable[[Request], Awaitable[SecretValue]],
    results: dict[Request, Outcome],
) -> None:
    """Read each request of a refused batch with its own call."""

    async def one(request: Request) -> None:
        try:
            results[request] = await get_one(request)
        except SecretkitError as exc:
            results[request] = exc

    async with anyio.create_task_group() as tg:
        for request in batch:
            tg.start_soon(one, request)


def _for_one(exc: SecretkitError, text: str) -> SecretkitError:
    """The error of a whole call, as the error of one of its names."""
    one = type(exc)(f"{exc.message} (reading {text!r})", ref=text, backend=exc.backend)
    one.__cause__ = exc.__cause__
    return one
