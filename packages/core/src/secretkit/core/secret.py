"""``Secret``, a value that never shows by accident, and ``SecretRef``, its address.

A reference reads ``[backend://]name[?version=ID|stage=LABEL][#field]``. Names keep
their own characters (AWS allows ``/_+=.@-``, ARNs have ``:``); ``%``-escapes are
decoded, so ``?``, ``#``, ``&`` and ``%`` itself can be written as ``%3F``, ``%23``,
``%26`` and ``%25``. A field starting with ``/`` is an RFC 6901 JSON pointer.
"""

from __future__ import annotations

__all__ = ("Secret", "SecretRef")

import re
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, Final, NoReturn, final

from .errors import DecodeError, InvalidReference, NotSupported

if TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

_MASK: Final = "****"
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+._-]*")
_SCHEME_PREFIX = re.compile(r"[A-Za-z][A-Za-z0-9+._-]*://")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_BAD_TILDE = re.compile(r"~(?![01])")
_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})|%[0-9A-Fa-f]{2}")
_QUERY_KEYS: Final = ("version", "stage")


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class SecretRef:
    """Where a secret lives: backend instance, name, optional version or stage, field.

    Build one with :meth:`parse`, or directly; ``str(ref)`` gives text that parses
    back to an equal reference.

    :param name: the secret's name in its backend, decoded
    :param backend: the backend instance name; ``None`` means the client's default
    :param version: a backend version id
    :param stage: a stage or label (``AWSCURRENT``, an SSM label)
    :param field: a top-level JSON key, or a JSON pointer when it starts with ``/``
    """

    name: str
    backend: str | None = None
    version: str | None = None
    stage: str | None = None
    field: str | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise InvalidReference("a secret reference needs a name", position=0)
        if _CONTROL.search(self.name):
            raise InvalidReference(
                "secret names cannot hold control characters", position=0
            )
        if _SURROGATE.search(f"{self.name}{self.version}{self.stage}{self.field}"):
            raise InvalidReference("a secret reference cannot hold lone surrogates")
        if self.backend is not None and not _SCHEME.fullmatch(self.backend):
            raise InvalidReference(
                f"backend name {self.backend!r} must start with a letter and hold "
                "only letters, digits and + . _ -",
                position=0,
            )
        for label, part in (
            ("version", self.version),
            ("stage", self.stage),
            ("field", self.field),
        ):
            if part is not None and not part:
                raise InvalidReference(f"empty {label} in a secret reference")
        if self.field is not None and self.field.startswith("/"):
            _check_pointer(self.field)

    @classmethod
    def parse(cls, text: str) -> SecretRef:
        """Parse ``[backend://]name[?version=..|stage=..][#field]``.

        :param text: the reference
        :return: the parsed reference
        :raises InvalidReference: naming the position where the text went wrong
        """
        if not isinstance(text, str):
            raise InvalidReference(
                f"a secret reference is text, not {type(text).__name__}"
            )
        if bad := _CONTROL.search(text) or _SURROGATE.search(text):
            raise _invalid(f"character {bad.group()!r}", bad.start())
        backend = None
        start = 0
        scheme = _SCHEME_PREFIX.match(text)
        if scheme:
            backend = text[: scheme.end() - 3]
            start = scheme.end()
        hash_at = text.find("#", start)
        end = hash_at if hash_at >= 0 else len(text)
        query_at = text.find("?", start, end)
        name_end = query_at if query_at >= 0 else end
        name = _unescape(text, start, name_end)
        if not name:
            raise _invalid("missing secret name", start)
        if bad := _CONTROL.search(name):
            at = _position(text, start, len(name[: bad.start()].encode()))
            raise _invalid("escaped control character in the name", at)
        params = _parse_query(text, query_at + 1, end) if query_at >= 0 else {}
        field = None
        if hash_at >= 0:
            field = _unescape(text, hash_at + 1, len(text))
            if not field:
                raise _invalid("empty field after '#'", hash_at)
            if field.startswith("/") and (bad := _BAD_TILDE.search(field)):
                at = _position(text, hash_at + 1, len(field[: bad.start()].encode()))
                raise _invalid("JSON pointer has '~' not followed by 0 or 1", at)
        return cls(
            name=name,
            backend=backend,
            version=params.get("version"),
            stage=params.get("stage"),
            field=field,
        )

    def __str__(self) -> str:
        name = _escape(self.name, "%?#")
        if self.backend is None and _SCHEME_PREFIX.match(name):
            colon = name.index(":")
            name = f"{name[:colon]}%3A{name[colon + 1 :]}"
        parts = [f"{self.backend}://{name}" if self.backend else name]
        query = [
            f"{key}={_escape(value, '%&#=')}"
            for key, value in (("version", self.version), ("stage", self.stage))
            if value is not None
        ]
        if query:
            parts.append("?" + "&".join(query))
        if self.field is not None:
            parts.append("#" + _escape(self.field, "%"))
        return "".join(parts)

    @property
    def key(self) -> tuple[str | None, str, str | None, str | None]:
        """What identifies the stored value: everything but the field."""
        return (self.backend, self.name, self.version, self.stage)


def _invalid(what: str, position: int) -> InvalidReference:
    return InvalidReference(
        f"invalid secret reference: {what} at position {position}", position=position
    )


def _parse_query(text: str, start: int, end: int) -> dict[str, str]:
    params: dict[str, str] = {}
    pos = start
    for part in text[start:end].split("&"):
        key, eq, _ = part.partition("=")
        if key not in _QUERY_KEYS:
            raise _invalid(
                f"unknown query key {key[:20]!r} (expected version= or stage=)", pos
            )
        if key in params:
            raise _invalid(f"{key}= given twice", pos)
        value = _unescape(text, pos + len(key) + 1, pos + len(part)) if eq else ""
        if not value:
            raise _invalid(f"empty {key}=", pos)
        params[key] = value
        pos += len(part) + 1
    return params


def _unescape(text: str, start: int, end: int) -> str:
    chunk = text[start:end]
    if "%" not in chunk:
        return chunk

    def decode(match: re.Match[str]) -> str:
        if len(match.group()) == 1:
            raise _invalid("'%' not followed by two hex digits", start + match.start())
        return "\0%" + match.group()[1:]

    marked = _ESCAPE.sub(decode, chunk)
    # Runs of escapes decode together, so multi-byte UTF-8 sequences work.
    out = bytearray()
    for piece in marked.split("\0"):
        if piece.startswith("%"):
            out.append(int(piece[1:3], 16))
            out += piece[3:].encode()
        else:
            out += piece.encode()
    try:
        return out.decode()
    except UnicodeDecodeError as exc:
        at = _position(text, start, exc.start)
        raise _invalid("escapes that are not UTF-8", at) from None


def _position(text: str, start: int, skip: int) -> int:
    # Where in ``text`` byte ``skip`` of the decoded ``text[start:]`` was written.
    pos = start
    while skip > 0:
        skip -= 1 if text[pos] == "%" else len(text[pos].encode())
        pos += 3 if text[pos] == "%" else 1
    return pos


def _escape(value: str, reserved: str) -> str:
    if not any(ch in value for ch in reserved) and not _CONTROL.search(value):
        return value
    return "".join(
        "".join(f"%{b:02X}" for b in ch.encode())
        if ch in reserved or _CONTROL.match(ch)
        else ch
        for ch in value
    )


def _check_pointer(pointer: str) -> None:
    if _BAD_TILDE.search(pointer):
        raise InvalidReference(
            "JSON pointer has '~' not followed by 0 or 1", position=None
        )


@final
class Secret:
    """A secret value with its metadata. The value shows only when you ask.

    ``str()``, ``repr()``, ``format()``, f-strings and logging print ``****``;
    pickling refuses; ``copy`` returns the same object; ``==`` compares values in
    constant time. Secrets are immutable and deliberately unhashable.

    :param name: the secret's name in its backend
    :param value: text, or bytes for binary secrets (kept as bytes)
    :param version: the backend's version id
    :param stages: stages or labels attached to this version
    :param created: when this version was created, if the backend says
    :param backend: the backend instance it came from
    :param metadata: non-secret attributes (tags, content type, expiry, lease)
    :param field_path: the field this value was taken from, if any
    """

    __slots__ = (
        "_value",
        "backend",
        "created",
        "field_path",
        "metadata",
        "name",
        "stages",
        "version",
    )

    _value: str | bytes
    name: str
    version: str | None
    stages: tuple[str, ...]
    created: datetime | None
    backend: str | None
    metadata: Mapping[str, object]
    field_path: str | None

    def __init__(
        self,
        name: str,
        value: str | bytes,
        *,
        version: str | None = None,
        stages: tuple[str, ...] = (),
        created: datetime | None = None,
        backend: str | None = None,
        metadata: Mapping[str, object] | None = None,
        field_path: str | None = None,
    ) -> None:
        if not isinstance(value, (str, bytes)):
            raise NotSupported(
                f"a secret value is str or bytes, not {type(value).__name__}",
                ref=name,
            )
        setter = object.__setattr__
        setter(self, "_value", value)
        setter(self, "name", name)
        setter(self, "version", version)
        setter(self, "stages", tuple(stages))
        setter(self, "created", created)
        setter(self, "backend", backend)
        setter(self, "metadata", MappingProxyType(dict(metadata or {})))
        setter(self, "field_path", field_path)

    @property
    def stage(self) -> str | None:
        """The first stage or label of this version, if any."""
        return self.stages[0] if self.stages else None

    def reveal(self) -> str | bytes:
        """Return the value itself: ``str``, or ``bytes`` for a binary secret."""
        return self._value

    def json(self) -> object:
        """Parse the value as JSON and return a fresh object each call.

        :raises DecodeError: the value is not UTF-8 or not JSON
        """
        try:
            import json

            return json.loads(self._value)
        except UnicodeDecodeError:
            problem = "is not UTF-8 text"
        except ValueError:
            problem = "is not JSON"
        # Raised out here so no __context__ keeps the value (in .doc or .object).
        raise self._decode_error(problem)

    def _field_text(self, path: str) -> str:
        node = self.json()
        if path.startswith("/"):
            _check_pointer(path)
            steps = [
                p.replace("~1", "/").replace("~0", "~") for p in path[1:].split("/")
            ]
        else:
            steps = [path]
        for step in steps:
            if isinstance(node, dict) and step in node:
                node = node[step]
            elif isinstance(node, list) and step in map(str, range(len(node))):
                node = node[int(step)]  # RFC 6901: ASCII digits, no leading zeros
            else:
                raise self._decode_error(f"has no field {path!r}")
        if isinstance(node, str):
            return node
        import json

        return json.dumps(node, separators=(",", ":"))

    def field(self, path: str) -> Secret:
        """Return one field of a JSON value as its own masked ``Secret``.

        :param path: a top-level key, or a JSON pointer starting with ``/``
        :raises DecodeError: not JSON, or no such field
        """
        return Secret(
            self.name,
            self._field_text(path),
            version=self.version,
            stages=self.stages,
            created=self.created,
            backend=self.backend,
            metadata=self.metadata,
            field_path=path,
        )

    def _decode_error(self, what: str) -> DecodeError:
        where = f"{self.name}#{self.field_path}" if self.field_path else self.name
        return DecodeError(f"secret {where!r} {what}", ref=where, backend=self.backend)

    def __repr__(self) -> str:
        where = f"{self.name}#{self.field_path}" if self.field_path else self.name
        return f"Secret({where!r}, {_MASK})"

    def __str__(self) -> str:
        return _MASK

    def __format__(self, spec: str) -> str:
        return _MASK

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        import hmac  # lazily: hmac pulls in hashlib/OpenSSL at import

        mine, theirs = self._value, other._value
        same_kind = isinstance(mine, bytes) == isinstance(theirs, bytes)
        how = ("utf-8", "surrogatepass")  # a JSON "\ud800" is a lone surrogate
        a = mine if isinstance(mine, bytes) else mine.encode(*how)
        b = theirs if isinstance(theirs, bytes) else theirs.encode(*how)
        return hmac.compare_digest(a, b) and same_kind

    __hash__ = None  # type: ignore[assignment]  # hashing would fingerprint the value

    def __setattr__(self, name: str, value: object) -> NoReturn:
        raise AttributeError(f"Secret is immutable; cannot set {name!r}")

    def __delattr__(self, name: str) -> NoReturn:
        raise AttributeError(f"Secret is immutable; cannot delete {name!r}")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, object]) -> Secret:
        return self

    def __reduce_ex__(self, protocol: object) -> NoReturn:
        raise NotSupported(
            f"refusing to pickle secret {self.name!r}; pass the reference instead",
            ref=self.name,
        )
