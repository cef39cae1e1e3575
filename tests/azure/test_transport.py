"""Timeouts and the bound on concurrent reads, against the fake HTTPS vault."""

from __future__ import annotations

import select
import socket
import threading
from typing import TYPE_CHECKING

import anyio
import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import BackendUnavailable, InvalidReference, SecretNotFound

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

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
    assert "no answer within read_timeout" in str(caught.value)
    signed = [r for r in kv.vault_requests() if "authorization" in r.headers]
    assert len(signed) == 1  # max_retries=0: no second attempt


@pytest.fixture
def unanswering() -> Iterator[str]:
    """An https URL on loopback whose listener takes no connection: a full backlog.

    With a backlog of 0, one connection fills the accept queue; Linux then drops
    every SYN (tcp_abort_on_overflow=0, the default), so a connect waits for its
    timeout. The listener's readability says the queue is full: no sleeping.
    """
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        port = listener.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port), timeout=10):
            readable, _, _ = select.select([listener], [], [], 10)
            assert readable, "the accept queue never filled"
            yield f"https://127.0.0.1:{port}"


async def test_connect_timeout_is_unavailable(options, unanswering) -> None:
    """A vault taking no connection is BackendUnavailable within connect_timeout."""
    options = {
        **options,
        "vault_url": unanswering,
        "connect_timeout": 0.3,
        "max_retries": 0,
    }
    with anyio.fail_after(30):  # a hang fails here, not the suite's timeout
        async with SecretClient(backends={"azure": options}) as client:
            with pytest.raises(BackendUnavailable) as caught:
                await client.get("azure://a")
    message = str(caught.value)
    assert unanswering in message
    assert "no connection within connect_timeout" in message
    assert caught.value.__cause__ is not None


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
