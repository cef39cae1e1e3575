"""``fetch_many`` for Secrets Manager: BatchGetSecretValue, 20 ids a call, concurrently.

Plain names (and ARNs) go to ``BatchGetSecretValue`` in chunks of at most
:data:`MAX_IDS` per region; the chunks run concurrently, each following its
``NextToken`` pages. A reference with a version or stage needs GetSecretValue, as
does an id the batch answer did not account for. At most :data:`MAX_IN_FLIGHT`
requests of one ``fetch_many`` are in flight at once.

Each secret gets its own outcome: the batch answer's ``Errors`` entries become
that secret's error, and a chunk whose call failed outright (throttling, say)
fails only its own secrets. Where the batch API is refused (no
``secretsmanager:BatchGetSecretValue`` permission, or an endpoint that does not
know the operation), this backend instance reads one by one from then on.
"""

from __future__ import annotations

__all__ = ("MAX_IDS", "MAX_IN_FLIGHT", "BatchReader")

import logging
from typing import TYPE_CHECKING, Any, Final, final

import anyio

from secretkit.core.errors import AccessDenied, BackendError

from ._responses import entries_by_id, to_value
from .errors import batch_error, error_code, mapped

if TYPE_CHECKING:
    from collections.abc import Sequence

    from types_aiobotocore_secretsmanager.type_defs import (
        APIErrorTypeTypeDef,
        SecretValueEntryTypeDef,
    )

    from secretkit.core.backend import SecretValue
    from secretkit.core.secret import SecretRef

    from ._calls import Caller

    _Outcomes = dict[SecretRef, SecretValue | BackendError]

MAX_IDS: Final = 20
"""The most secret ids AWS accepts in one BatchGetSecretValue call."""

MAX_IN_FLIGHT: Final = 10
"""The most requests one ``fetch_many`` has in flight at once."""

_OPERATION: Final = "BatchGetSecretValue"
# What an endpoint says when it will not serve BatchGetSecretValue at all.
_REFUSED: Final = frozenset(
    {
        "AccessDeniedException",
        "InvalidAction",
        "NotImplemented",
        "NotImplementedException",
        "UnknownOperation",
        "UnknownOperationException",
        "UnsupportedOperation",
        "UnsupportedOperationException",
        "404",
        "501",
    }
)
_log = logging.getLogger(__name__)


@final
class BatchReader:
    """Reads many secrets of one backend instance in as few requests as AWS allows.

    :param caller: the instance's calls (regions, failover)
    :ivar refused: the batch API was refused once; read one by one
    """

    __slots__ = ("_caller", "refused")

    def __init__(self, caller: Caller) -> None:
        self._caller = caller
        self.refused = False

    async def read(
        self, refs: Sequence[SecretRef]
    ) -> dict[SecretRef, SecretValue | BackendError]:
        """Return an outcome for every ref: its value, or its own error.

        :param refs: the secrets to read; repeats are read once
        :return: every ref's value or ``BackendError``
        :raises SecretkitError: only what fails every ref alike (configuration)
        """
        outcomes: _Outcomes = {}
        failures: list[Exception] = []
        limiter = anyio.CapacityLimiter(MAX_IN_FLIGHT)
        singles: list[SecretRef] = []
        groups: dict[tuple[str | None, ...], dict[str, list[SecretRef]]] = {}
        for ref in dict.fromkeys(refs):
            if ref.version is not None or ref.stage is not None or self.refused:
                singles.append(ref)
            else:
                regions = self._caller.regions(ref.name)
                groups.setdefault(regions, {}).setdefault(ref.name, []).append(ref)

        async def guarded(
            chunk: dict[str, list[SecretRef]], regions: tuple[str | None, ...] | None
        ) -> None:
            # No ExceptionGroup leaves fetch_many: a task's surprise (a bug, or an
            # error that fails every ref alike) is re-raised alone, after the rest.
            try:
                await self._chunk(chunk, regions, outcomes, limiter)
            except Exception as exc:
                while isinstance(exc, ExceptionGroup):
                    exc = exc.exceptions[0]
                failures.append(exc)

        async with anyio.create_task_group() as tg:
            for ref in singles:
                tg.start_soon(guarded, {ref.name: [ref]}, None)
            for regions, by_id in groups.items():
                ids = sorted(by_id)  # the same names make the same chunks
                for start in range(0, len(ids), MAX_IDS):
                    chunk = {name: by_id[name] for name in ids[start : start + MAX_IDS]}
                    tg.start_soon(guarded, chunk, regions)
        if failures:
            raise failures[0]
        return outcomes

    async def _chunk(
        self,
        chunk: dict[str, list[SecretRef]],
        regions: tuple[str | None, ...] | None,
        outcomes: _Outcomes,
        limiter: anyio.CapacityLimiter,
    ) -> None:
        """Read one chunk: by one batch call where it can, else one by one."""
        if regions is None or len(chunk) == 1 or self.refused:
            await self._one_by_one(chunk, outcomes, limiter)
            return
        try:
            async with limiter:
                values, errors, region = await self._batch(list(chunk), regions)
        except BackendError as exc:
            code = error_code(exc.__cause__)
            if isinstance(exc, AccessDenied) or code in _REFUSED:
                if not self.refused:
                    _log.info(
                        "%s: %s refused (%s); reading secrets one by one",
                        self._caller.name,
                        _OPERATION,
                        code or type(exc).__name__,
                    )
                self.refused = True
                await self._one_by_one(chunk, outcomes, limiter)
                return
            for refs in chunk.values():
                for ref in refs:
                    outcomes[ref] = self._for_ref(exc, ref)
            return
        found = entries_by_id(values)
        failed = {error["SecretId"]: error for error in errors if "SecretId" in error}
        missing: dict[str, list[SecretRef]] = {}
        for secret_id, refs in chunk.items():
            entry = found.get(secret_id)
            error = failed.get(secret_id)
            for ref in refs:
                if entry is not None:
                    outcomes[ref] = to_value(entry, region)
                elif error is not None:
                    outcomes[ref] = self._entry_error(error, ref)
                else:  # not accounted for: ask for it alone
                    missing.setdefault(secret_id, []).append(ref)
        if missing:
            await self._one_by_one(missing, outcomes, limiter)

    async def _batch(
        self, ids: list[str], regions: tuple[str | None, ...]
    ) -> tuple[list[SecretValueEntryTypeDef], list[APIErrorTypeTypeDef], str]:
        """One BatchGetSecretValue for ``ids``, every page of it, from one region."""
        values: list[SecretValueEntryTypeDef] = []
        errors: list[APIErrorTypeTypeDef] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"SecretIdList": ids}
            if token:
                params["NextToken"] = token
            answer = await self._caller.call(
                _OPERATION,
                # Called at once, within this iteration: params is this page's.
                lambda client: client.batch_get_secret_value(**params),  # noqa: B023
                ref=None,
                regions=regions,
            )
            regions = (answer.key,)  # a page token is only good where it came from
            values.extend(answer.body.get("SecretValues", ()))
            errors.extend(answer.body.get("Errors", ()))
            token = answer.body.get("NextToken")
            if not token:
                return values, errors, answer.region

    async def _one_by_one(
        self,
        chunk: dict[str, list[SecretRef]],
        outcomes: _Outcomes,
        limiter: anyio.CapacityLimiter,
    ) -> None:
        """Read each ref with GetSecretValue, concurrently within ``limiter``."""

        async def one(ref: SecretRef) -> None:
            async with limiter:
                try:
                    outcomes[ref] = await self._caller.get_value(ref)
                except BackendError as exc:
                    outcomes[ref] = exc

        refs = [ref for group in chunk.values() for ref in group]
        if len(refs) == 1:
            await one(refs[0])
            return
        async with anyio.create_task_group() as tg:
            for ref in refs:
                tg.start_soon(one, ref)

    def _entry_error(self, error: APIErrorTypeTypeDef, ref: SecretRef) -> BackendError:
        """The error for one ``Errors`` entry of a batch answer."""
        found = batch_error(
            error.get("ErrorCode", "Unknown"),
            error.get("Message", ""),
            _OPERATION,
            ref=ref.name,
            backend=self._caller.name,
        )
        if isinstance(found, BackendError):
            return found
        return BackendError(found.message, ref=ref.name, backend=self._caller.name)

    def _for_ref(self, exc: BackendError, ref: SecretRef) -> BackendError:
        """One secret's own copy of the error that failed its whole chunk."""
        cause = exc.__cause__
        if isinstance(cause, Exception):
            found = mapped(cause, _OPERATION, ref=ref.name, backend=self._caller.name)
            if isinstance(found, BackendError):
                return found
        error = type(exc)(exc.message, ref=ref.name, backend=self._caller.name)
        error.__cause__ = exc
        return error
