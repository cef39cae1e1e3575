"""put, delete, list, describe and check() against a real OpenBao dev server."""

from __future__ import annotations

import pytest

from secretkit.core.errors import (
    BackendError,
    DecodeError,
    NotSupported,
    SecretNotFound,
)
from secretkit.core.secret import SecretRef
from secretkit.vault.backend import VaultBackend
from secretkit.vault.config import VaultSettings

from .bao_process import ROOT_TOKEN


@pytest.fixture
async def backend(vault_url):
    """A backend on the dev server with the root token."""
    made = VaultBackend(VaultSettings(url=vault_url, token=ROOT_TOKEN))
    yield made
    await made.aclose()


async def test_put_versions_and_cas(backend, unique) -> None:
    """put writes new KV v2 versions; ?version=N is a check-and-set."""
    ref = SecretRef(name=f"secret/{unique}")
    first = await backend.put(ref, '{"a":1}')
    second = await backend.put(ref, b'{"a":2}')
    assert (first.version, second.version) == ("1", "2")
    with pytest.raises(BackendError, match="check-and-set"):
        await backend.put(SecretRef(name=f"secret/{unique}", version="1"), '{"a":3}')
    third = await backend.put(
        SecretRef(name=f"secret/{unique}", version="2"), '{"a":3}'
    )
    assert third.version == "3"
    assert (await backend.fetch(ref)).value == '{"a":3}'


async def test_put_create_false_and_bad_values(backend, unique) -> None:
    """create=False needs the secret; values must be JSON objects."""
    with pytest.raises(SecretNotFound):
        await backend.put(SecretRef(name=f"secret/{unique}"), '{"a":1}', create=False)
    with pytest.raises(DecodeError, match="JSON object"):
        await backend.put(SecretRef(name=f"secret/{unique}"), "plain text")
    with pytest.raises(NotSupported):
        await backend.put(SecretRef(name=f"secret/{unique}"), "{}", tags={"a": "b"})
    await backend.put(SecretRef(name=f"secret/{unique}"), '{"a":1}')
    updated = await backend.put(
        SecretRef(name=f"secret/{unique}"), '{"a":2}', create=False
    )
    assert updated.version == "2"


async def test_kv1_put_and_delete(backend, root, unique) -> None:
    """KV v1 writes in place and deletes for good."""
    ref = SecretRef(name=f"kv1/{unique}")
    await backend.put(ref, '{"x":"y"}')
    assert (await backend.fetch(ref)).value == '{"x":"y"}'
    await backend.delete(ref)
    with pytest.raises(SecretNotFound):
        await backend.fetch(ref)


async def test_delete_soft_then_force(backend, root, unique) -> None:
    """delete soft-deletes the newest version; force removes every version."""
    ref = SecretRef(name=f"secret/{unique}")
    await backend.put(ref, '{"a":1}')
    await backend.put(ref, '{"a":2}')
    await backend.delete(ref)
    with pytest.raises(SecretNotFound, match="soft-deleted"):
        await backend.fetch(ref)
    assert (
        await backend.fetch(SecretRef(name=ref.name, version="1"))
    ).value == '{"a":1}'
    info = await backend.describe(ref)
    assert info.versions == {"1": (), "2": ("deleted",)}
    await backend.delete(ref, force=True)
    with pytest.raises(SecretNotFound):
        await backend.describe(ref)


async def test_describe_never_values(backend, root, unique) -> None:
    """describe gives versions, states and custom metadata, no value."""
    kv = root.secrets.kv.v2
    kv.create_or_update_secret(unique, secret={"v": "hidden-1"})
    kv.create_or_update_secret(unique, secret={"v": "hidden-2"})
    kv.destroy_secret_versions(unique, versions=[1])
    kv.update_metadata(unique, custom_metadata={"owner": "ml"})
    info = await backend.describe(SecretRef(name=f"secret/{unique}"))
    assert info.version == "2"
    assert info.versions == {"1": ("destroyed",), "2": ()}
    assert info.metadata["custom_metadata"] == {"owner": "ml"}
    assert info.created is not None
    assert "hidden" not in repr(info)


async def test_list_recursive(backend, root, unique) -> None:
    """list yields every name under a prefix, recursively, with its mount."""
    kv = root.secrets.kv.v2
    for name in ("app/db", "app/x/api", "app/x/y/z", "other"):
        kv.create_or_update_secret(f"{unique}/{name}", secret={"k": "v"})
    names = [name async for name in backend.list(f"secret/{unique}/app/")]
    assert names == [
        f"secret/{unique}/app/db",
        f"secret/{unique}/app/x/api",
        f"secret/{unique}/app/x/y/z",
    ]
    partial = [name async for name in backend.list(f"secret/{unique}/o")]
    assert partial == [f"secret/{unique}/other"]
    assert [name async for name in backend.list(f"secret/{unique}/none/")] == []


async def test_list_with_mount_option_and_kv1(vault_url, root, unique) -> None:
    """With the mount option, list takes and yields paths inside the mount."""
    root.secrets.kv.v1.create_or_update_secret(
        f"{unique}/a/b", secret={"k": "v"}, mount_point="kv1"
    )
    backend = VaultBackend(VaultSettings(url=vault_url, token=ROOT_TOKEN, mount="kv1"))
    try:
        assert [n async for n in backend.list(f"{unique}/")] == [f"{unique}/a/b"]
    finally:
        await backend.aclose()


async def test_writes_outside_kv_not_supported(backend) -> None:
    """Writing, listing or describing outside a KV mount raises NotSupported."""
    with pytest.raises(NotSupported, match="not in a KV mount"):
        await backend.describe(SecretRef(name="sys/health"))


async def test_check(backend) -> None:
    """check() reports the token's name and policies and the server state."""
    line = await backend.check()
    assert line.startswith("token 'token' (policies root; no expiry; not renewable)")
    assert "(version 2." in line
    assert line.endswith("active)")
    assert ROOT_TOKEN not in line
