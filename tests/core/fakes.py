"""Backends for the core's own tests: counting, gated and failing on command."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import anyio

from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import BackendError, SecretNotFound
from secretkit.core.secret import SecretRef


class CountingBackend(Backend):
    """Answers every name with a JSON value; counts calls; can be held or failed."""

    def __init__(self, *, canary: str = "s3cr3t") -> None:
        self.name = "t"
        self.calls = 0
        self.canary = canary
        self.version = 1
        self.gate: anyio.Event | None = None
        self.fail: BaseException | None = None
        self.missing: set[str] = set()
        self.lease: float | None = None
        self.closed = False

    async def fetch(self, ref: SecretRef) -> SecretValue:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        if ref.name in self.missing:
            raise SecretNotFound(f"no secret {ref.name!r}", ref=ref.name, backend="t")
        value = f'{{"user": "u", "password": "{self.canary}-{self.version}"}}'
        return SecretValue(value=value, version=str(self.version), ttl=self.lease)

    async def aclose(self) -> None:
        self.closed = True


class Boom(BackendError):
    """A backend failure that is not an outage."""


class BatchingBackend(CountingBackend):
    """A CountingBackend with a batch API; counts batch calls separately."""

    def __init__(self, *, refuse: bool = False) -> None:
        super().__init__()
        self.batches: list[list[str]] = []
        self.refuse = refuse

    async def fetch_many(
        self, refs: Sequence[SecretRef]
    ) -> Mapping[SecretRef, SecretValue | BackendError]:
        if self.refuse:
            raise self._unsupported("fetch_many")
        self.batches.append([ref.name for ref in refs])
        if self.gate is not None:
            await self.gate.wait()
        if self.fail is not None:
            raise self.fail
        out: dict[SecretRef, SecretValue | BackendError] = {}
        for ref in refs:
            if ref.name in self.missing:
                out[ref] = SecretNotFound(f"no secret {ref.name!r}", ref=ref.name)
            else:
                out[ref] = SecretValue(value=f"batched-{ref.name}", version="b")
        return out
