"""Key Vault's secret objects as secretkit's ``SecretValue`` and ``SecretInfo``."""

from __future__ import annotations

__all__ = ("metadata", "to_info", "to_value", "unusable")

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from secretkit.core.backend import SecretInfo, SecretValue

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from azure.keyvault.secrets import KeyVaultSecret, SecretProperties


def metadata(properties: SecretProperties) -> dict[str, object]:
    """The non-secret attributes of a secret version.

    The SDK decodes an attribute on every access: each is read once, here.
    """
    return {
        "name": properties.name,
        "vault_url": properties.vault_url,
        "content_type": properties.content_type,
        "enabled": properties.enabled,
        "not_before": properties.not_before,
        "expires_on": properties.expires_on,
        "updated": properties.updated_on,
        "tags": dict(properties.tags or {}),
        "recovery_level": properties.recovery_level,
        "managed": properties.managed,
    }


def unusable(metadata: Mapping[str, object], now: datetime | None = None) -> str | None:
    """Why a version may not be used (disabled, expired, not yet valid), or ``None``.

    :param metadata: the version's attributes, as :func:`metadata` gives them
    :param now: the time to judge by (default: now)
    """
    enabled, expires, not_before = (
        metadata.get(key) for key in ("enabled", "expires_on", "not_before")
    )
    if enabled is False:
        return "the secret is disabled (enable it to read it)"
    if expires is None and not_before is None:
        return None
    now = now or datetime.now(UTC)
    if isinstance(expires, datetime) and expires <= now:
        return f"the secret expired on {expires.isoformat()}"
    if isinstance(not_before, datetime) and not_before > now:
        return f"the secret is not valid before {not_before.isoformat()}"
    return None


def to_value(secret: KeyVaultSecret) -> SecretValue:
    """A read secret; the value is Key Vault's text, ``content_type`` in metadata."""
    properties = secret.properties
    return SecretValue(
        value=secret.value or "",
        version=properties.version,
        created=properties.created_on,
        metadata=metadata(properties),
    )


def to_info(name: str, versions: Sequence[SecretProperties]) -> SecretInfo:
    """What ``describe`` returns: the newest version's attributes and every version.

    :param name: our name for the secret
    :param versions: every version's properties, as listed
    """
    ordered = sorted(
        enumerate(versions),
        key=lambda pair: (
            pair[1].created_on or datetime.min.replace(tzinfo=UTC),
            pair[0],
        ),
    )
    current = ordered[-1][1] if ordered else None
    return SecretInfo(
        name=name,
        version=current.version if current else None,
        created=min((v.created_on for v in versions if v.created_on), default=None),
        updated=current.updated_on if current else None,
        # Key Vault has no stages: every version maps to none.
        versions={v.version: () for _, v in ordered if v.version},
        metadata={
            **(metadata(current) if current else {}),
            "disabled_versions": [v.version for v in versions if v.enabled is False],
        },
    )
