"""Vault reads through SecretClient against a real OpenBao dev server."""

from __future__ import annotations

import json

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import NotSupported, SecretNotFound

from .rabbitmq_api import rabbitmq_api


async def test_kv2_value_field_and_metadata(root, options, unique) -> None:
    """A KV v2 secret reads as compact JSON; #field selects one key."""
    root.secrets.kv.v2.create_or_update_secret(
        f"{unique}/auth", secret={"token": "t0k", "user": "me"}
    )
    async with SecretClient(default="vault", backends={"vault": options}) as client:
        secret = await client.get(f"secret/{unique}/auth")
        assert await client.get_value(f"vault://secret/{unique}/auth#token") == "t0k"
    assert secret.reveal() == '{"token":"t0k","user":"me"}'
    assert secret.version == "1"
    assert secret.created is not None
    assert secret.metadata["mount"] == "secret"


async def test_single_key_is_still_json(root, options, unique) -> None:
    """A one-key secret is a JSON object too, not its bare value."""
    root.secrets.kv.v2.create_or_update_secret(unique, secret={"password": "p"})
    async with SecretClient(backends={"vault": options}) as client:
        assert await client.get_value(f"vault://secret/{unique}") == '{"password":"p"}'


async def test_versions_and_newest(root, options, unique) -> None:
    """?version=N reads that version; no version reads the newest."""
    kv = root.secrets.kv.v2
    for n in (1, 2, 3):
        kv.create_or_update_secret(unique, secret={"n": n})
    async with SecretClient(backends={"vault": options}) as client:
        newest = await client.get(f"vault://secret/{unique}")
        first = await client.get(f"vault://secret/{unique}?version=1")
    assert (newest.json(), newest.version) == ({"n": 3}, "3")
    assert (first.json(), first.version) == ({"n": 1}, "1")


async def test_deleted_and_destroyed_versions(root, options, unique) -> None:
    """Soft-deleted and destroyed versions raise SecretNotFound saying which."""
    kv = root.secrets.kv.v2
    for n in (1, 2, 3):
        kv.create_or_update_secret(unique, secret={"n": n})
    kv.delete_secret_versions(unique, versions=[1])
    kv.destroy_secret_versions(unique, versions=[2])
    kv.delete_latest_version_of_secret(unique)
    async with SecretClient(backends={"vault": options}) as client:
        with pytest.raises(SecretNotFound, match="version 1 was soft-deleted"):
            await client.get(f"vault://secret/{unique}?version=1")
        with pytest.raises(SecretNotFound, match="version 2 was destroyed"):
            await client.get(f"vault://secret/{unique}?version=2")
        with pytest.raises(SecretNotFound, match="version 3 was soft-deleted"):
            await client.get(f"vault://secret/{unique}")


async def test_missing_secret(root, options, unique) -> None:
    """A name the server does not know raises SecretNotFound naming it."""
    async with SecretClient(backends={"vault": options}) as client:
        with pytest.raises(SecretNotFound, match=f"secret/{unique}/nope"):
            await client.get(f"vault://secret/{unique}/nope")
        with pytest.raises(SecretNotFound, match="not found"):
            await client.get(f"vault://secret/{unique}/nope?version=9")


async def test_kv1_mount_detected(root, options, unique) -> None:
    """A KV v1 mount is detected and read; it has no versions."""
    root.secrets.kv.v1.create_or_update_secret(
        f"{unique}/db", secret={"password": "pw"}, mount_point="kv1"
    )
    async with SecretClient(backends={"vault": options}) as client:
        secret = await client.get(f"vault://kv1/{unique}/db")
        assert secret.reveal() == '{"password":"pw"}'
        assert await client.get_value(f"vault://kv1/{unique}/db#password") == "pw"
        with pytest.raises(NotSupported, match="no versions"):
            await client.get(f"vault://kv1/{unique}/db?version=1")
        with pytest.raises(SecretNotFound):
            await client.get(f"vault://kv1/{unique}/nope")


async def test_mount_option_and_forced_kv_version(root, options, unique) -> None:
    """With the mount option, names are paths inside it; kv_version skips detection."""
    root.secrets.kv.v1.create_or_update_secret(
        unique, secret={"a": "1"}, mount_point="kv1"
    )
    root.secrets.kv.v2.create_or_update_secret(unique, secret={"b": "2"})
    backends = {
        "v1": {**options, "type": "vault", "mount": "kv1", "kv_version": "1"},
        "v2": {**options, "type": "vault", "mount": "/secret/"},
    }
    async with SecretClient(backends=backends) as client:
        assert await client.get_value(f"v1://{unique}#a") == "1"
        assert await client.get_value(f"v2://{unique}#b") == "2"


async def test_dynamic_secret_lease_caps_cache(root, options, vault_url) -> None:
    """A generic read (rabbitmq engine) returns its data and lease; ttl is the lease.

    The rabbitmq engine is OpenBao's one built-in engine whose dynamic credentials
    are a GET with a real lease against a plain-HTTP upstream, faked on loopback.
    """
    with rabbitmq_api() as (api, calls):
        if "rabbitmq/" not in root.sys.list_mounted_secrets_engines()["data"]:
            root.sys.enable_secrets_engine("rabbitmq", path="rabbitmq")
        root.write(
            "rabbitmq/config/connection",
            connection_uri=api,
            username="admin",
            password="admin",
            verify_connection=False,
        )
        root.write("rabbitmq/config/lease", ttl=300, max_ttl=600)
        root.write("rabbitmq/roles/app", vhosts='{"/": {"read": ".*"}}')
        from secretkit.core.secret import SecretRef
        from secretkit.vault.backend import VaultBackend
        from secretkit.vault.config import VaultSettings

        backend = VaultBackend(
            VaultSettings(url=vault_url, token=options["token"]), name="vault"
        )
        try:
            value = await backend.fetch(SecretRef(name="rabbitmq/creds/app"))
        finally:
            await backend.aclose()
        async with SecretClient(backends={"vault": options}) as client:
            secret = await client.get("vault://rabbitmq/creds/app")
        root.sys.revoke_prefix("rabbitmq/creds/app")
    assert value.ttl == 300
    assert set(json.loads(value.value)) == {"username", "password"}
    assert str(value.metadata["lease_id"]).startswith("rabbitmq/creds/app/")
    assert value.metadata["renewable"] is True
    assert secret.metadata["lease_duration"] == 300
    assert any(call.startswith("PUT /api/users/") for call in calls)


async def test_stage_not_supported(options) -> None:
    """Vault has no stages: ?stage= raises NotSupported."""
    async with SecretClient(backends={"vault": options}) as client:
        with pytest.raises(NotSupported, match="stages"):
            await client.get("vault://secret/x?stage=AWSCURRENT")
