"""Blocking hvac calls of the Vault backend, and their answers as secretkit values.

Each function here runs in one of the core's worker threads (``run_blocking``)
inside ``map_errors``; none catches an SDK exception itself.
"""

from __future__ import annotations

__all__ = (
    "Mount",
    "delete",
    "describe_v2",
    "detect_mount",
    "forced",
    "health",
    "json_object",
    "list_names",
    "lookup_self",
    "read_generic",
    "read_v2",
    "to_json",
    "token_line",
    "token_refused",
    "value_v2",
    "version",
    "write",
)

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final

from secretkit.core.backend import SecretInfo, SecretValue
from secretkit.core.errors import DecodeError, InvalidReference

if TYPE_CHECKING:
    from collections.abc import Mapping

    from secretkit.core.secret import SecretRef

    from .config import VaultSettings

# Vault's times carry nanoseconds; datetime takes microseconds.
_FRACTION: Final = re.compile(r"(\.\d{6})\d+")


@dataclass(frozen=True, slots=True, kw_only=True)
class Mount:
    """A secrets engine mount.

    :param path: its path, without slashes (``secret``, ``team/kv``)
    :param type: its engine type (``kv``, ``pki``...)
    :param kv_version: 1 or 2 for a KV mount, else 0
    """

    path: str
    type: str
    kv_version: int = 0


def forced(mount: Mount, settings: VaultSettings) -> Mount:
    """The mount with the ``kv_version`` option applied, when not ``auto``."""
    if mount.type != "kv" or settings.kv_version == "auto":
        return mount
    return Mount(path=mount.path, type="kv", kv_version=int(settings.kv_version))


def version(ref: SecretRef) -> int | None:
    """The KV v2 version ``ref`` asks for (``?version=N``), if any.

    :raises InvalidReference: the version is not a whole number
    """
    if ref.version is None:
        return None
    if not ref.version.isdigit():
        raise InvalidReference(
            f"KV v2 versions are whole numbers, not {ref.version!r}", ref=ref.name
        )
    return int(ref.version)


def json_object(value: str | bytes, name: str) -> dict[str, object]:
    try:
        data = json.loads(value)
    except (UnicodeDecodeError, json.JSONDecodeError):
        data = None
    if not isinstance(data, dict):
        raise DecodeError(
            f"Vault KV stores JSON objects: pass {name!r} a JSON object",
            ref=name,
        )
    return data


def to_json(data: object) -> str:
    """A secret's data as compact JSON text (``#field`` reads it)."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False)


def _time(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    try:
        return datetime.fromisoformat(_FRACTION.sub(r"\1", text.replace("Z", "+00:00")))
    except ValueError:
        return None


def detect_mount(client: Any, path: str) -> Mount | None:
    """Ask the server which mount ``path`` is in (``sys/internal/ui/mounts``).

    :return: the mount, or ``None`` when the server does not say
    """
    answer = client.read(f"sys/internal/ui/mounts/{path}")
    data = (answer or {}).get("data") or {}
    if not data.get("path"):
        return None
    kind = str(data.get("type") or "")
    version = 0
    if kind == "kv":
        version = 2 if str((data.get("options") or {}).get("version")) == "2" else 1
    return Mount(path=str(data["path"]).strip("/"), type=kind, kv_version=version)


def read_v2(client: Any, mount: str, path: str, version: int | None) -> SecretValue:
    """Read a KV v2 secret (a version, else the newest).

    :raises hvac.exceptions.InvalidPath: no such secret or version, or the version
        is deleted or destroyed (the answer says which)
    """
    answer = client.secrets.kv.v2.read_secret_version(
        path=path, version=version, mount_point=mount, raise_on_deleted_version=True
    )
    return value_v2(answer, mount, path)


def value_v2(answer: Mapping[str, Any], mount: str, path: str) -> SecretValue:
    """A KV v2 read's answer (``GET <mount>/data/<path>``) as a secretkit value."""
    data = answer.get("data") or {}
    meta = data.get("metadata") or {}
    return SecretValue(
        value=to_json(data.get("data") or {}),
        version=None if meta.get("version") is None else str(meta["version"]),
        created=_time(meta.get("created_time")),
        metadata={
            "mount": mount,
            "path": path,
            "custom_metadata": dict(meta.get("custom_metadata") or {}),
        },
    )


def read_generic(client: Any, path: str) -> SecretValue | None:
    """Read any logical path (KV v1, dynamic engines) with its lease.

    :return: the data as JSON, ``ttl`` the lease duration; ``None`` for a 404
    """
    answer = client.read(path)
    if answer is None:
        return None
    metadata: dict[str, object] = {"path": path}
    lease = int(answer.get("lease_duration") or 0)
    if answer.get("lease_id"):
        metadata["lease_id"] = answer["lease_id"]
        metadata["renewable"] = bool(answer.get("renewable"))
    if lease > 0:
        metadata["lease_duration"] = lease
    return SecretValue(
        value=to_json(answer.get("data") or {}),
        metadata=metadata,
        ttl=float(lease) if lease > 0 else None,
    )


def describe_v2(client: Any, mount: str, path: str, name: str) -> SecretInfo:
    """Describe a KV v2 secret from its metadata; never reads a value."""
    meta = client.secrets.kv.v2.read_secret_metadata(path=path, mount_point=mount)
    data: Mapping[str, Any] = meta.get("data") or {}
    versions: dict[str, tuple[str, ...]] = {}
    detail: dict[str, dict[str, object]] = {}
    for number, entry in sorted(
        (data.get("versions") or {}).items(), key=lambda item: int(item[0])
    ):
        state = ("destroyed",) if entry.get("destroyed") else ()
        if not state and entry.get("deletion_time"):
            state = ("deleted",)
        versions[number] = state
        detail[number] = {
            "created": _time(entry.get("created_time")),
            "deleted": _time(entry.get("deletion_time")),
            "destroyed": bool(entry.get("destroyed")),
        }
    current = data.get("current_version")
    return SecretInfo(
        name=name,
        version=None if not current else str(current),
        stages=versions.get(str(current), ()),
        created=_time(data.get("created_time")),
        updated=_time(data.get("updated_time")),
        versions=versions,
        metadata={
            "mount": mount,
            "custom_metadata": dict(data.get("custom_metadata") or {}),
            "max_versions": data.get("max_versions"),
            "cas_required": data.get("cas_required"),
            "versions": detail,
        },
    )


def list_names(client: Any, mount: Mount, folder: str) -> list[str]:
    """Every secret name under ``folder`` of a KV mount, recursively, sorted.

    :return: paths relative to the mount; an absent folder has none
    """
    names: list[str] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        if mount.kv_version == 2:
            answer = client.list(f"{mount.path}/metadata/{current}")
        else:
            answer = client.list(f"{mount.path}/{current}")
        for key in ((answer or {}).get("data") or {}).get("keys") or ():
            if key.endswith("/"):
                pending.append(f"{current}{key}")
            else:
                names.append(f"{current}{key}")
    return sorted(names)


def write(
    client: Any, mount: Mount, path: str, data: dict[str, object], cas: int | None
) -> str | None:
    """Write a KV secret (v2: a new version, check-and-set when ``cas`` is given).

    :return: the new version (KV v2), else ``None``
    """
    if mount.kv_version == 1:
        client.secrets.kv.v1.create_or_update_secret(
            path=path, secret=data, mount_point=mount.path
        )
        return None
    answer = client.secrets.kv.v2.create_or_update_secret(
        path=path, secret=data, cas=cas, mount_point=mount.path
    )
    version = (answer.get("data") or {}).get("version")
    return None if version is None else str(version)


def delete(
    client: Any, mount: Mount, path: str, version: int | None, force: bool
) -> None:
    """Delete a KV secret: v1 for good; v2 one version (soft), or all with ``force``."""
    kv2 = client.secrets.kv.v2
    if mount.kv_version == 1:
        client.secrets.kv.v1.delete_secret(path=path, mount_point=mount.path)
    elif force:
        kv2.delete_metadata_and_all_versions(path=path, mount_point=mount.path)
    elif version is not None:
        kv2.delete_secret_versions(
            path=path, versions=[version], mount_point=mount.path
        )
    else:
        kv2.delete_latest_version_of_secret(path=path, mount_point=mount.path)


def health(client: Any) -> Mapping[str, Any]:
    """``sys/health``: initialized, sealed, standby, version (any status code)."""
    answer = client.sys.read_health_status(method="GET")
    return answer if isinstance(answer, dict) else dict(answer.json())


def lookup_self(client: Any) -> Mapping[str, Any]:
    """The token's own data (``auth/token/lookup-self``); holds the token: never log."""
    answer = client.auth.token.lookup_self()
    data: Mapping[str, Any] = answer.get("data") or {}
    return data


def token_line(me: Mapping[str, Any], health: Mapping[str, Any], url: str) -> str:
    """``check()``'s account of the token (from ``lookup-self``) and the server."""
    ttl = int(me.get("ttl") or 0)
    policies = ", ".join(me.get("policies") or ()) or "none"
    lasts = f"ttl {ttl}s" if ttl else "no expiry"
    renew = "renewable" if me.get("renewable") else "not renewable"
    role = "standby" if health.get("standby") else "active"
    return (
        f"token {me.get('display_name')!r} (policies {policies}; {lasts}; {renew})"
        f" on {url} (version {health.get('version')}, {role})"
    )


def token_refused(client: Any, settings: VaultSettings, token: str) -> bool:
    """Whether the server refuses ``token`` itself (``lookup-self`` answers 403).

    Sent on the client's session with this token, not the client's current one,
    which another caller may have replaced meanwhile.
    """
    headers = {"X-Vault-Token": token}
    if settings.namespace:
        headers["X-Vault-Namespace"] = settings.namespace
    cert = None
    if settings.client_cert and settings.client_key:
        cert = (settings.client_cert, settings.client_key)
    response = client.session.get(
        f"{settings.url}/v1/auth/token/lookup-self",
        headers=headers,
        verify=settings.verify,
        cert=cert,
        timeout=settings.timeout,
    )
    response.close()
    return int(response.status_code) == 403
