"""SSM Parameter Store requests and responses, as plain data: no I/O, no SDK.

A parameter is read by name (or ARN) with at most one selector: ``name:3`` picks a
version, ``name:prod`` a label. A reference gives it as ``?version=3``,
``?stage=prod`` or the native suffix, never two at once. Names hold no ``:`` in
SSM, so the text after the last ``:`` is always a selector (after the
``parameter/`` part in an ARN).
"""

from __future__ import annotations

__all__ = ("Request", "arn_region", "request_for", "to_info", "to_value")

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from secretkit.core.backend import SecretInfo, SecretValue
from secretkit.core.errors import InvalidReference

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from secretkit.core.secret import SecretRef


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """One parameter to read: its name (or ARN) and an optional selector.

    :param name: the parameter's name or ARN, without a selector
    :param selector: a version number or a label
    """

    name: str
    selector: str | None = None

    @property
    def text(self) -> str:
        """What SSM is sent: ``name`` or ``name:selector``."""
        return f"{self.name}:{self.selector}" if self.selector else self.name

    @property
    def label(self) -> str | None:
        """The selector when it is a label (labels never start with a digit)."""
        selector = self.selector
        return selector if selector and not selector[0].isdigit() else None


def arn_region(name: str) -> str | None:
    """The region of a full SSM parameter ARN, else ``None``."""
    parts = name.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "ssm" and parts[3]:
        return parts[3]
    return None


def _split(name: str) -> tuple[str, str | None]:
    """Split a native ``:selector`` off a name or ARN."""
    head = ""
    if name.startswith("arn:") and name.count(":") >= 5:
        cut = len(":".join(name.split(":", 5)[:5])) + 1
        head, name = name[:cut], name[cut:]
    base, colon, selector = name.rpartition(":")
    if not colon:
        return head + name, None
    return head + base, selector


def _number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def request_for(ref: SecretRef, *, plain: str | None = None) -> Request:
    """The request a reference asks for, its selectors checked.

    :param ref: the reference
    :param plain: an operation that takes no selector (``put``); named if one is given
    :raises InvalidReference: two selectors, an empty one, a version that is not a
        number, a label that starts with a digit, or any selector with ``plain``
    """
    name, native = _split(ref.name)
    given = [part for part in (native, ref.version, ref.stage) if part is not None]
    problem = None
    if not name or native == "":
        problem = "has an empty name or selector around ':'"
    elif len(given) > 1:
        problem = "selects twice: give one of name:N, ?version=N or ?stage=LABEL"
    elif ref.version is not None and not _number(ref.version):
        problem = "has a version that is not a number (SSM versions are 1, 2, ...)"
    elif ref.stage is not None and ref.stage[0].isdigit():
        problem = "has a label starting with a digit (SSM reads that as a version)"
    elif plain is not None and given:
        problem = f"selects a version or label, which {plain} does not take"
    if problem is not None:
        raise InvalidReference(
            f"SSM parameter reference {ref.name!r} {problem}", ref=ref.name
        )
    return Request(name=name, selector=given[0] if given else None)


def to_value(
    parameter: Mapping[str, Any], *, region: str | None, label: str | None = None
) -> SecretValue:
    """A ``SecretValue`` from a GetParameter(s) entry, decrypted.

    ``StringList`` values stay the text SSM returns (``a,b,c``). SSM does not say
    which labels a version carries when reading it, so ``stages`` holds the label
    the read selected, if any.

    :param parameter: the response entry
    :param region: the region it was read in
    :param label: the label the read selected
    """
    labels = tuple(parameter.get("Labels") or ((label,) if label else ()))
    version = parameter.get("Version")
    return SecretValue(
        value=str(parameter.get("Value", "")),
        version=None if version is None else str(version),
        stages=labels,
        created=parameter.get("LastModifiedDate"),
        metadata={
            "name": parameter.get("Name"),
            "type": parameter.get("Type"),
            "data_type": parameter.get("DataType"),
            "arn": parameter.get("ARN"),
            "region": region,
        },
    )


def to_info(
    described: Mapping[str, Any],
    history: Iterable[Mapping[str, Any]],
    tags: Iterable[Mapping[str, str]],
) -> SecretInfo:
    """A ``SecretInfo`` from DescribeParameters, GetParameterHistory and the tags.

    Only named fields are copied: these responses may carry a ``Value``.

    :param described: the DescribeParameters entry
    :param history: every GetParameterHistory entry, any order
    :param tags: the ListTagsForResource ``TagList``
    """
    versions: dict[str, tuple[str, ...]] = {}
    created = None
    for entry in sorted(history, key=lambda entry: int(entry.get("Version", 0))):
        versions[str(entry.get("Version"))] = tuple(entry.get("Labels") or ())
        created = created or entry.get("LastModifiedDate")
    current = described.get("Version")
    version = None if current is None else str(current)
    fields = {
        "type": "Type",
        "data_type": "DataType",
        "tier": "Tier",
        "description": "Description",
        "key_id": "KeyId",
        "arn": "ARN",
        "allowed_pattern": "AllowedPattern",
        "last_modified_user": "LastModifiedUser",
    }
    metadata: dict[str, object] = {
        key: described[field] for key, field in fields.items() if field in described
    }
    metadata["tags"] = {tag["Key"]: tag["Value"] for tag in tags}
    return SecretInfo(
        name=str(described.get("Name")),
        version=version,
        stages=versions.get(version or "", ()),
        created=created or described.get("LastModifiedDate"),
        updated=described.get("LastModifiedDate"),
        versions=versions,
        metadata=metadata,
    )
