"""Key Vault's JSON for a read, decoded into a SecretValue (pure logic, no server)."""

from __future__ import annotations

from datetime import UTC, datetime

from secretkit.azure._convert import from_bundle, unusable


def test_full_bundle() -> None:
    """Every attribute of a SecretBundle lands in its place, times in UTC."""
    value = from_bundle(
        {
            "value": "v",
            "id": "https://My-Vault.vault.azure.net:443/secrets/db-main/0a1b",
            "contentType": "text/plain",
            "attributes": {
                "enabled": True,
                "nbf": 1_700_000_000,
                "exp": 1_900_000_000,
                "created": 1_600_000_000,
                "updated": 1_650_000_000,
                "recoveryLevel": "Recoverable+Purgeable",
            },
            "tags": {"team": "ml"},
            "managed": True,
        }
    )
    assert value.value == "v"
    assert value.version == "0a1b"
    assert value.created == datetime(2020, 9, 13, 12, 26, 40, tzinfo=UTC)
    assert value.metadata == {
        "name": "db-main",
        "vault_url": "https://my-vault.vault.azure.net:443",
        "content_type": "text/plain",
        "enabled": True,
        "not_before": datetime.fromtimestamp(1_700_000_000, UTC),
        "expires_on": datetime.fromtimestamp(1_900_000_000, UTC),
        "updated": datetime.fromtimestamp(1_650_000_000, UTC),
        "tags": {"team": "ml"},
        "recovery_level": "Recoverable+Purgeable",
        "managed": True,
    }
    assert unusable(value.metadata, now=datetime(2024, 1, 1, tzinfo=UTC)) is None


def test_sparse_bundle() -> None:
    """A bundle without id, attributes or value gives None fields and empty text."""
    value = from_bundle({"attributes": {"exp": True, "created": "yesterday"}})
    assert value.value == ""
    assert value.version is None
    assert value.created is None
    assert value.metadata["name"] is None
    assert value.metadata["vault_url"] is None
    assert value.metadata["expires_on"] is None
    assert value.metadata["tags"] == {}
    assert unusable(value.metadata) is None
