"""put, list, describe, delete (soft and purge) and recover against the fake vault."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from secretkit.core.errors import BackendError, NotSupported, SecretNotFound
from secretkit.core.secret import SecretRef

from ._direct import names, opened, run


async def test_put_new_versions(kv, options) -> None:
    """put stores a new version with content type, tags and expiry."""
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    async with opened(options) as backend:
        ref = SecretRef.parse("mlflow/auth")
        first = await run(backend.put, ref, "one")
        second = await run(
            backend.put,
            ref,
            "two",
            tags={"team": "ml"},
            description="the token",
            content_type="text/plain",
            expires_on=expires,
        )
        read = await run(backend.fetch, ref)
    assert first.version != second.version
    assert read.value == "two"
    assert read.version == second.version
    assert read.metadata["tags"] == {"team": "ml", "description": "the token"}
    assert read.metadata["content_type"] == "text/plain"
    assert read.metadata["expires_on"] == expires
    assert [v.value for v in kv.secrets["mlflow-auth"]] == ["one", "two"]


async def test_put_refusals(kv, options) -> None:
    """Bytes, stages and create=False on a missing secret are refused."""
    async with opened(options) as backend:
        ref = SecretRef.parse("a")
        with pytest.raises(NotSupported, match="text"):
            await run(backend.put, ref, b"\x00")
        with pytest.raises(NotSupported, match="stages"):
            await run(backend.put, ref, "x", stages=["AWSPENDING"])
        with pytest.raises(SecretNotFound):
            await run(backend.put, ref, "x", create=False)
        kv.seed("a", "old")
        await run(backend.put, ref, "new", create=False)
    assert kv.secrets["a"][-1].value == "new"


async def test_list_pages_and_prefix(kv, options) -> None:
    """list follows nextLink across pages and filters on the mapped prefix."""
    for i in range(30):
        kv.seed(f"mlflow-s{i:02d}", "v")
    kv.seed("other", "v")
    async with opened(options, names={"db/main": "other"}) as backend:
        everything = await names(backend)
        mlflow = await names(backend, "mlflow/")
    assert len(everything) == 31
    assert "db/main" in everything
    assert mlflow == [f"mlflow-s{i:02d}" for i in range(30)]
    pages = [r for r in kv.vault_requests() if r.path == "/secrets"]
    assert any("$skiptoken" in r.query for r in pages)


async def test_describe_versions_without_values(kv, options) -> None:
    """describe lists every version and the newest; no value leaves the vault."""
    kv.seed("db", "one-VALUE")
    newest = kv.seed("db", "two-VALUE", tags={"a": "b"})
    async with opened(options) as backend:
        info = await run(backend.describe, SecretRef.parse("db"))
    assert info.version == newest
    assert len(info.versions) == 2
    assert info.metadata["tags"] == {"a": "b"}
    assert "VALUE" not in repr(info)


async def test_delete_soft_recover_and_purge(kv, options) -> None:
    """delete is soft (recoverable, name taken); force purges it."""
    kv.seed("a", "v")
    async with opened(options) as backend:
        ref = SecretRef.parse("a")
        await run(backend.delete, ref)
        assert "a" in kv.deleted
        with pytest.raises(SecretNotFound):
            await run(backend.fetch, ref)
        with pytest.raises(BackendError, match="Conflict"):
            await run(backend.put, ref, "again")
        await run(backend.recover, ref)
        assert (await run(backend.fetch, ref)).value == "v"
        await run(backend.delete, ref, force=True)
        assert "a" not in kv.deleted
        assert "a" not in kv.secrets
        with pytest.raises(NotSupported):
            await run(backend.delete, SecretRef.parse("a?version=abc"))
