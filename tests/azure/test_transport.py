"""Timeouts and the bound on concurrent reads, against the fake HTTPS vault."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import BackendUnavailable, InvalidReference, SecretNotFound

if TYPE_CHECKING:
    from collections.abc import Callable

    from .fake_keyvault import Reply, Request


def _vault_reads(hold: Callable[[], object]) -> Callable[[Request], Reply | None]:
    """A rule that runs ``hold`` for each secret read, then lets it through."""

    def rule(request: Request) -> Reply | None:
        if request.method == "GET" and request.path.startswith("/secrets/"):
            hold()
        return None

    return rule


async def test_read_timeout_is_unavailable(kv, options) -> None:
    """A vault that never answers within read_timeout is BackendUnavailable."""
    kv.seed("a", "v")
    release = threading.Event()
    kv.rules.append(_vault_reads(lambda: release.wait(10)))
    options = {**options, "read_timeout": 0.2, "max_retries": 0}
    try:
        async with SecretClient(backends={"azure": options}) as client:
            with pytest.raises(BackendUnavailable, match="get_secret") as caught:
                await client.get("azure://a")
    finally:
        release.set()  # the server's thread, still holding the answer, ends
    assert caught.value.__cause__ is not None
    signed = [r for r in kv.vault_requests() if "authorization" in r.headers]
    assert len(signed) == 1  # max_retries=0: no second attempt


class TestGetMany:
    """get_many reads concurrently, within max_concurrency, one outcome per secret."""

    async def test_bound_is_reached_not_exceeded(self, kv, options) -> None:
        """Twelve cold reads with max_concurrency=3 have exactly three in flight."""
        bound = 3
        lock = threading.Lock()
        full = threading.Event()
        active = [0]
        peak = [0]

        def hold() -> None:
            with lock:
                active[0] += 1
                peak[0] = max(peak[0], active[0])
                if active[0] >= bound:
                    full.set()
            # The first reads wait for the bound to fill; the rest pass at once.
            full.wait(10)
            with lock:
                active[0] -= 1

        names = [f"s{i}" for i in range(12)]
        for name in names:
            kv.seed(name, f"value-{name}")
        kv.rules.append(_vault_reads(hold))
        options = {**options, "max_concurrency": bound}
        async with SecretClient(backends={"azure": options}) as client:
            batch = await client.get_many([f"azure://{n}" for n in names])
        assert peak[0] == bound
        assert not batch.errors
        assert {ref: s.reveal() for ref, s in batch.items()} == {
            f"azure://{n}": f"value-{n}" for n in names
        }

    async def test_errors_per_secret(self, kv, options) -> None:
        """A missing or invalid name fails alone; the other reads succeed."""
        kv.seed("a", "1")
        kv.seed("b", "2")
        refs = ["azure://a", "azure://nope", "azure://b", "azure://-/-"]
        async with SecretClient(backends={"azure": options}) as client:
            batch = await client.get_many(refs)
        assert {ref: s.reveal() for ref, s in batch.items()} == {
            "azure://a": "1",
            "azure://b": "2",
        }
        assert isinstance(batch.errors["azure://nope"], SecretNotFound)
        assert isinstance(batch.errors["azure://-/-"], InvalidReference)
