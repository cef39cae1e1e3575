"""Key Vault's secrets as secretkit's ``SecretValue`` and ``SecretInfo``.

Reads arrive as Key Vault's JSON (a ``SecretBundle``, :func:`from_bundle`);
writes and listings as the SDK's objects (:func:`metadata`, :func:`to_info`).
Both give the same metadata, decoded as the SDK decodes it.
"""

from __future__ import annotations

__all__ = ("from_bundle", "metadata", "to_info", "unusable")

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from secretkit.core.backend import SecretInfo, SecretValue

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from azure.keyvault.secrets import SecretProperties


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


def from_bundle(bundle: Mapping[str, Any]) -> SecretValue:
    """A read secret from Key Vault's JSON for it, with :func:`metadata`'s keys.

    Times are epoch seconds there, ``datetime`` in UTC here; the name, version and
    vault URL come from the ``id`` (``https://<vault>/secrets/<name>/<version>``).

    :param bundle: the ``SecretBundle`` object Key Vault answered
    """
    from urllib.parse import urlsplit  # loaded by then: aiohttp imports it

    attributes = bundle.get("attributes") or {}
    name = version = vault_url = None
    source = bundle.get("id")
    if isinstance(source, str) and source:
        parts = urlsplit(source)
        path = [part for part in parts.path.split("/") if part]
        if parts.scheme and parts.hostname and 2 <= len(path) <= 3:
            port = f":{parts.port}" if parts.port else ""
            vault_url = f"{parts.scheme}://{parts.hostname}{port}"
            name = path[1]
            version = path[2] if len(path) == 3 else None
    return SecretValue(
        value=bundle.get("value") or "",
        version=version,
        created=_time(attributes.get("created")),
        metadata={
            "name": name,
            "vault_url": vault_url,
            "content_type": bundle.get("contentType"),
            "enabled": attributes.get("enabled"),
            "not_before": _time(attributes.get("nbf")),
            "expires_on": _time(attributes.get("exp")),
            "updated": _time(attributes.get("updated")),
            "tags": dict(bundle.get("tags") or {}),
            "recovery_level": attributes.get("recoveryLevel"),
            "managed": bundle.get("managed"),
        },
    )


def _time(seconds: object) -> datetime | None:
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        return datetime.fromtimestamp(seconds, UTC)
    return None


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
