"""Manifests: the secrets a deployment needs, each with a reference and expectations.

A manifest is its own TOML file (``secretkit-manifest.toml``) or the ``[manifest]``
table of a ``secretkit.toml`` (``[tool.secretkit.manifest]`` in a pyproject.toml)::

    [secrets.db_password]            # [manifest.secrets.db_password] in secretkit.toml
    ref = "aws://prod/db#password"    # required: [backend://]name[?..][#field]
    env = "DB_PASSWORD"               # default: the name upper-cased, other chars _
    file = "db/password"              # default: the name; relative, no '..'
    fields = ["username", "password"] # JSON fields (or /pointers) that must exist
    min_length = 16                   # characters (bytes for a binary value)
    max_age = "90d"                   # 90d, 12h, 30m, 45s, or seconds

A name holds letters, digits and ``_ . -`` (it is also a Kubernetes ``Secret`` key).
Expectations apply to the value the reference gives, after its ``#field``. Every
problem in a file (bad TOML, unknown keys, bad references or expectations, two
entries sharing an ``env`` or ``file``) is reported at once, each as
``file:line: problem``, in one ``ConfigurationError``; nothing is fetched.
"""

from __future__ import annotations

__all__ = ("Entry", "Expectations", "Manifest", "find_manifest", "load_manifest")

import difflib
import json
import re
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Final

from ._toml_lines import Path_, key_lines
from .config import CLIENT_KEYS as _CLIENT_KEYS
from .config import find_config
from .errors import ConfigurationError, InvalidReference
from .secret import SecretRef

if TYPE_CHECKING:
    import os
    from collections.abc import Callable, Mapping

_FILE_NAME: Final = "secretkit-manifest.toml"
_KEYS: Final = ("ref", "env", "file", "fields", "min_length", "max_age")
_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([dhms]?)")
_UNITS: Final = {"d": 86400, "h": 3600, "m": 60, "s": 1, "": 1}
_SHOWN: Final = 10  # problems in one message; the rest are counted

_SECTION = re.compile(r"^\s*\[\s*manifest\s*[.\]]", re.MULTILINE)


@dataclass(frozen=True, slots=True, kw_only=True)
class Expectations:
    """What a secret's value must satisfy, beyond being readable.

    :param fields: JSON fields (top-level keys, or ``/pointers``) that must exist
    :param min_length: the fewest characters (bytes, for a binary value)
    :param max_age: the oldest the current version may be
    """

    fields: tuple[str, ...] = ()
    min_length: int | None = None
    max_age: timedelta | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One secret a manifest names.

    :param name: its name in the manifest (a Kubernetes ``Secret`` key too)
    :param ref: where it lives
    :param line: the line of its table in the manifest file
    :param env: the environment variable ``secretkit run`` sets
    :param file: the relative path ``secretkit run --mount`` writes it to
    :param expect: what its value must satisfy
    """

    name: str
    ref: SecretRef
    line: int
    env: str
    file: str
    expect: Expectations = Expectations()


@dataclass(frozen=True, slots=True, kw_only=True)
class Manifest:
    """The secrets a deployment needs, in the order the file lists them.

    :param path: the file they were read from
    :param entries: one per secret
    """

    path: Path
    entries: tuple[Entry, ...]


def find_manifest(config: str | os.PathLike[str] | None = None) -> Path | None:
    """Where :func:`load_manifest` looks with no path.

    :param config: the configuration file to look in first (default: where
        :func:`~secretkit.core.config.find_config` looks: ``SECRETKIT_CONFIG``,
        ``./secretkit.toml``, ``./pyproject.toml``)
    :return: that file when it has a manifest table, else
        ``./secretkit-manifest.toml`` when it exists, else ``None``
    """
    found = Path(config).expanduser() if config else find_config()
    if found is not None and found.is_file():
        text = found.read_text(errors="replace")
        if found.name == "pyproject.toml":
            has = "[tool.secretkit.manifest" in text
        else:
            has = _SECTION.search(text) is not None
        if has:
            return found
    local = Path(_FILE_NAME)
    return local if local.is_file() else None


def load_manifest(path: str | os.PathLike[str] | None = None) -> Manifest:
    """Read and check a manifest.

    :param path: a manifest file, or a ``secretkit.toml``/``pyproject.toml`` with a
        manifest table; ``None`` looks where :func:`find_manifest` says
    :return: the manifest, every entry checked
    :raises ConfigurationError: no manifest found, or every problem in it, each as
        ``file:line: problem``
    """
    import tomllib

    found = Path(path) if path is not None else find_manifest()
    if found is None:
        raise ConfigurationError(
            "no manifest found: pass --manifest FILE, add [manifest.secrets.NAME] "
            f"tables to secretkit.toml, or create {_FILE_NAME}",
            key="manifest",
            source="load_manifest()",
        )
    try:
        text = found.read_text(encoding="utf-8")
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The message names line and column only, never file content.
        at = re.search(r"line (\d+)", str(exc))
        problem = f"{found}:{at.group(1) if at else 1}: not valid TOML: {exc}"
    except (OSError, UnicodeDecodeError) as exc:
        what = "no such file" if isinstance(exc, FileNotFoundError) else "unreadable"
        problem = f"{found}: manifest {what} ({type(exc).__name__})"
    else:
        checker = _Checker(found, key_lines(text))
        entries = checker.manifest(data)
        checker.raise_problems()
        return Manifest(path=found, entries=entries)
    raise ConfigurationError(problem, key="manifest", source=str(found))


class _Checker:
    """Walks the parsed TOML, building entries and collecting every problem."""

    __slots__ = ("_lines", "_path", "_problems")

    def __init__(self, path: Path, lines: dict[Path_, int]) -> None:
        self._path = path
        self._lines = lines
        self._problems: list[tuple[int, str, Path_]] = []

    def line(self, where: Path_) -> int:
        """The line of ``where``, else of its nearest ancestor the scanner saw."""
        ends = range(len(where), 0, -1)
        found = (self._lines.get(where[:end]) for end in ends)
        return next((line for line in found if line is not None), 1)

    def problem(self, where: Path_, message: str) -> None:
        self._problems.append((self.line(where), message, where))

    def raise_problems(self) -> None:
        if not self._problems:
            return
        problems = sorted(self._problems, key=lambda item: item[0])
        texts = [f"{self._path}:{line}: {message}" for line, message, _ in problems]
        if len(texts) > _SHOWN:
            texts[_SHOWN:] = [f"and {len(texts) - _SHOWN} more"]
        line, _, where = problems[0]
        raise ConfigurationError(
            "; ".join(texts), key=_dotted(where), source=f"{self._path}:{line}"
        )

    def manifest(self, data: Mapping[str, object]) -> tuple[Entry, ...]:
        prefix: Path_ = ()
        table: object = data
        if self._path.name == "pyproject.toml":
            prefix = ("tool", "secretkit", "manifest")
            tool = data.get("tool")
            section = tool.get("secretkit") if isinstance(tool, dict) else None
            table = section.get("manifest") if isinstance(section, dict) else None
        elif "manifest" in data or any(key in data for key in _CLIENT_KEYS):
            prefix = ("manifest",)
            table = data.get("manifest")
        if not isinstance(table, dict):
            name = _dotted(prefix)
            self.problem(
                prefix,
                f"no [{name}] table" if table is None else f"[{name}] must be a table",
            )
            return ()
        self.unknown(prefix, table, ("secrets",))
        secrets = table.get("secrets")
        where = (*prefix, "secrets")
        if not isinstance(secrets, dict) or not secrets:
            self.problem(
                where, f"no secrets: add [{_dotted(where)}.NAME] tables with ref = ..."
            )
            return ()
        entries = [
            entry
            for name, spec in secrets.items()
            if (entry := self.entry((*where, name), name, spec)) is not None
        ]
        self.duplicates(where, entries)
        return tuple(entries)

    def unknown(
        self, where: Path_, table: Mapping[str, object], known: tuple[str, ...]
    ) -> None:
        for key in table:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            inside = f" in {_dotted(where)}" if where else ""
            self.problem((*where, key), f"unknown key {key!r}{inside}{hint}")

    def entry(self, where: Path_, name: str, spec: object) -> Entry | None:
        table = _dotted(where)
        if not _NAME.fullmatch(name):
            self.problem(where, f"{table}: a name holds letters, digits and _ . -")
        if not isinstance(spec, dict):
            self.problem(where, f"{table} must be a table with ref = ...")
            return None
        self.unknown(where, spec, _KEYS)
        ref = self.ref(where, spec.get("ref"))
        default_env = re.sub(r"[^A-Z0-9_]", "_", name.upper())
        if default_env[:1].isdigit():
            default_env = f"_{default_env}"
        env = self.text(where, spec, "env", default_env)
        file = self.text(where, spec, "file", name)
        expect = self.expectations(where, spec)
        if ref is None or env is None or file is None:
            return None
        return Entry(
            name=name, ref=ref, line=self.line(where), env=env, file=file, expect=expect
        )

    def ref(self, where: Path_, value: object) -> SecretRef | None:
        if not isinstance(value, str):
            self.problem((*where, "ref"), f'{_dotted(where)} needs ref = "REFERENCE"')
            return None
        try:
            return SecretRef.parse(value)
        except InvalidReference as exc:
            self.problem((*where, "ref"), f"ref in {_dotted(where)}: {exc.message}")
            return None

    def text(
        self, where: Path_, spec: Mapping[str, object], key: str, default: str
    ) -> str | None:
        value = spec.get(key, default)
        valid, expected = _TEXT_KEYS[key]
        if isinstance(value, str) and valid(value):
            return value
        shown = f"{value!r}" if isinstance(value, str) else type(value).__name__
        origin = "" if key in spec else f" (from the name; set {key} = ...)"
        self.problem(
            (*where, key),
            f"{key} in {_dotted(where)} is {shown}{origin}: expected {expected}",
        )
        return None

    def expectations(self, where: Path_, spec: Mapping[str, object]) -> Expectations:
        fields = spec.get("fields", [])
        at = _dotted(where)
        if not isinstance(fields, list) or not all(
            isinstance(item, str) and item for item in fields
        ):
            self.problem((*where, "fields"), f"{at}.fields must be a list of names")
            fields = []
        for item in fields:
            try:
                SecretRef(name="x", field=item)
            except InvalidReference as exc:
                self.problem((*where, "fields"), f"{at}.fields: {exc.message}")
        length = spec.get("min_length")
        if length is not None and (
            isinstance(length, bool) or not isinstance(length, int) or length < 1
        ):
            self.problem((*where, "min_length"), f"{at}.min_length must be above 0")
            length = None
        age = spec.get("max_age")
        seconds = None if age is None else _seconds(age)
        if age is not None and seconds is None:
            self.problem(
                (*where, "max_age"),
                f"{at}.max_age must be a duration: 90d, 12h, 30m, 45s or seconds",
            )
        return Expectations(
            fields=tuple(fields),
            min_length=length,
            max_age=None if seconds is None else timedelta(seconds=seconds),
        )

    def duplicates(self, where: Path_, entries: list[Entry]) -> None:
        envs: dict[str, Entry] = {}
        files: dict[str, Entry] = {}
        for entry in entries:
            at = (*where, entry.name)
            first = envs.setdefault(entry.env, entry)
            if first is not entry:
                self.problem(
                    (*at, "env"),
                    f"env {entry.env} of {_dotted(at)} is also {first.name}'s",
                )
            for other_file, other in files.items():
                if _overlap(entry.file, other_file):
                    self.problem(
                        (*at, "file"),
                        f"file {entry.file!r} of {_dotted(at)} collides with "
                        f"{other.name}'s {other_file!r}",
                    )
                    break
            files.setdefault(entry.file, entry)


def _dotted(where: Path_) -> str:
    """A key path as TOML writes it: ``secrets."api.key"``."""
    return ".".join(
        part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else json.dumps(part)
        for part in where
    )


def _relative(path: str) -> bool:
    parts = path.split("/")
    return not {"", ".", ".."} & set(parts) and not {"\\", "\0"} & set(path)


# How ``env`` and ``file`` are checked, and what the error says is expected.
_TEXT_KEYS: Final[dict[str, tuple[Callable[[str], object], str]]] = {
    "env": (
        _ENV.fullmatch,
        "a name of letters, digits and _, not starting with a digit",
    ),
    "file": (_relative, "a relative path without '..' or empty parts"),
}


def _overlap(a: str, b: str) -> bool:
    """Whether two relative files cannot both exist: equal, or one inside the other."""
    return a == b or a.startswith(f"{b}/") or b.startswith(f"{a}/")


def _seconds(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.fullmatch(value.strip())):
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    else:
        return None
    return seconds if 0 < seconds < timedelta.max.total_seconds() else None
