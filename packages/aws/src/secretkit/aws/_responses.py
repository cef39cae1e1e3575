"""Secrets Manager's answers as secretkit values, and what an ARN tells us.

Nothing here does I/O or imports boto: these are plain functions over the
dictionaries botocore returns.
"""

from __future__ import annotations

__all__ = ("arn_region", "entries_by_id", "to_info", "to_value")

from typing import TYPE_CHECKING

from secretkit.core.backend import SecretInfo, SecretValue

if TYPE_CHECKING:
    from collections.abc import Iterable

    from types_aiobotocore_secretsmanager.type_defs import (
        DescribeSecretResponseTypeDef,
        GetSecretValueResponseTypeDef,
        SecretValueEntryTypeDef,
    )

_SERVICE = "secretsmanager"
# A full ARN ends with "-" and six random characters the service appended to the
# name; a partial ARN (or a name) lacks them.
_SUFFIX = 7


def arn_region(name: str) -> str | None:
    """The region of a Secrets Manager ARN (full or partial), else ``None``.

    :param name: a secret name or ARN
    """
    parts = name.split(":", 6)
    if len(parts) == 7 and parts[0] == "arn" and parts[2] == _SERVICE and parts[3]:
        return parts[3]
    return None


def entries_by_id(
    entries: Iterable[SecretValueEntryTypeDef],
) -> dict[str, SecretValueEntryTypeDef]:
    """Index a batch answer's entries by every id that may have asked for them.

    An entry answers a request by its name, its full ARN, or its partial ARN (the
    full one without the suffix the service appended).

    :param entries: ``BatchGetSecretValue``'s ``SecretValues``
    """
    index: dict[str, SecretValueEntryTypeDef] = {}
    for entry in entries:
        arn = entry.get("ARN", "")
        for key in (entry.get("Name"), arn, arn[:-_SUFFIX] if arn else None):
            if key:
                index.setdefault(key, entry)
    return index


def to_value(
    response: GetSecretValueResponseTypeDef | SecretValueEntryTypeDef, region: str
) -> SecretValue:
    """A ``SecretValue`` from a GetSecretValue answer or a batch answer's entry.

    ``SecretBinary`` stays the bytes stored: botocore already decoded the base64
    of the wire format once, and nothing decodes it again.

    :param response: what AWS answered
    :param region: the region that answered
    """
    binary = response.get("SecretBinary")
    value = response.get("SecretString", "") if binary is None else bytes(binary)
    return SecretValue(
        value=value,
        version=response.get("VersionId"),
        stages=tuple(response.get("VersionStages", ())),
        created=response.get("CreatedDate"),
        metadata={
            "arn": response.get("ARN"),
            "name": response.get("Name"),
            "region": region,
        },
    )


def to_info(response: DescribeSecretResponseTypeDef, region: str) -> SecretInfo:
    """A ``SecretInfo`` from a DescribeSecret answer (which holds no value).

    :param response: what AWS answered
    :param region: the region that answered
    """
    versions = {
        version: tuple(stages)
        for version, stages in response.get("VersionIdsToStages", {}).items()
    }
    current = next(
        (version for version, stages in versions.items() if "AWSCURRENT" in stages),
        None,
    )
    found: dict[str, object] = {
        "arn": response.get("ARN"),
        "region": region,
        "description": response.get("Description"),
        "tags": {
            tag["Key"]: tag.get("Value", "")
            for tag in response.get("Tags", ())
            if "Key" in tag
        },
        "kms_key_id": response.get("KmsKeyId"),
        "rotation_enabled": bool(response.get("RotationEnabled", False)),
        "rotation_lambda_arn": response.get("RotationLambdaARN"),
        "rotation_rules": dict(response.get("RotationRules", {})) or None,
        "last_rotated": response.get("LastRotatedDate"),
        "next_rotation": response.get("NextRotationDate"),
        "last_accessed": response.get("LastAccessedDate"),
        "deleted": response.get("DeletedDate"),
        "owning_service": response.get("OwningService"),
        "primary_region": response.get("PrimaryRegion"),
        "replicas": tuple(
            replica["Region"]
            for replica in response.get("ReplicationStatus", ())
            if "Region" in replica
        ),
    }
    return SecretInfo(
        name=response.get("Name", ""),
        version=current,
        stages=versions.get(current, ()) if current else (),
        created=response.get("CreatedDate"),
        updated=response.get("LastChangedDate"),
        versions=versions,
        metadata={
            key: value for key, value in found.items() if value not in (None, ())
        },
    )
