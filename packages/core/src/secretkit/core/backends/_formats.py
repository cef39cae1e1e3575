"""What the ``file`` backend's files look like: JSON, TOML, YAML and dotenv tables.

A parse error names the file, line and column, never the text. Parsers quote the
offending line (PyYAML's marks) or keep the whole document (``JSONDecodeError.doc``),
so their errors are summarized, never chained, and dropped before ours is raised;
the file's bytes are deleted first, since error trackers record frame locals.
"""

from __future__ import annotations

__all__ = ("FORMATS", "MISSING", "find", "format_of", "load", "names", "to_value")

import base64
import json
import os
import re
from datetime import date, time
from typing import TYPE_CHECKING, Final

from secretkit.core.errors import ConfigurationError, DecodeError

from .env import variable_name

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

FORMATS: Final = ("auto", "json", "toml", "yaml", "dotenv", "dir")
MISSING: Final = object()
_SUFFIXES: Final = {
    ".json": "json",
    ".toml": "toml",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".env": "dotenv",
}
_TOML_WHERE = re.compile(r"\(at line (\d+), column (\d+)\)")
_DOTENV_SKIP = re.compile(r"[ \t]*(?:#[^\r\n]*)?(?:\r?\n|\Z)")
_DOTENV_ENTRY = re.compile(
    r"""[ \t]*(?:export[ \t]+)?(?P<key>[A-Za-z0-9_.\-/]+)[ \t]*=[ \t]*
    (?: '(?P<single>[^']*)'[ \t]*(?:\#[^\r\n]*)?
      | "(?P<double>(?:[^"\\]|\\.)*)"[ \t]*(?:\#[^\r\n]*)?
      | (?P<bare>[^\r\n]*?)(?:[ \t]+\#[^\r\n]*)?[ \t]*
    )(?:\r?\n|\Z)""",
    re.VERBOSE | re.DOTALL,
)
_DOTENV_ESCAPE = re.compile(r"\\([\\\"'nrt])")
_ESCAPES: Final = {"n": "\n", "r": "\r", "t": "\t"}


class _Malformed(Exception):
    """A parser failed here; carries the place only, never the parser's message."""

    def __init__(self, line: int | None, column: int | None = None) -> None:
        super().__init__()
        self.line = line
        self.column = column

    @property
    def where(self) -> str:
        if self.line is None:
            return ""
        column = f", column {self.column}" if self.column is not None else ""
        return f" at line {self.line}{column}"


def format_of(path: Path) -> str | None:
    """Return the format a file name implies (``.json``, ``.env``, ...), or ``None``.

    ``.env`` and ``.env.<anything>`` (``.env.local``) are dotenv files.
    """
    name = path.name.lower()
    if name == ".env" or name.startswith(".env."):
        return "dotenv"
    return _SUFFIXES.get(path.suffix.lower())


def load(
    path: Path, fmt: str, *, backend: str
) -> tuple[os.stat_result, dict[str, object]]:
    """Read and parse a secrets file; blocking.

    :param path: the file
    :param fmt: ``json``, ``toml``, ``yaml`` or ``dotenv``
    :param backend: the backend instance name, for errors
    :return: the stat of what was read, and the top-level table
    :raises OSError: the file cannot be read
    :raises DecodeError: not UTF-8, malformed, or not a table at the top level
    :raises ConfigurationError: YAML without PyYAML installed
    """
    parse = _PARSERS[fmt]
    if fmt == "yaml":
        _require_yaml()  # fail on a missing PyYAML before holding any secret text
    with path.open("rb") as file:
        info = os.fstat(file.fileno())
        raw = file.read()
    table: object = None
    problem = ""
    try:
        table = parse(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        problem = f"is not UTF-8 text (byte {exc.start})"
    except _Malformed as exc:
        problem = f"is not valid {fmt.upper()}{exc.where}; fix its syntax"
    del raw
    if isinstance(table, dict):
        return info, table
    # Raised outside the handlers (no __context__), with no secret text in locals.
    problem = problem or f"must hold a table of secrets, not {type(table).__name__}"
    del table
    raise DecodeError(f"secrets file {path} {problem}", backend=backend)


def find(table: dict[str, object], name: str, fmt: str) -> object:
    """Return the node ``name`` addresses in ``table``, or :data:`MISSING`.

    An exact top-level key wins; then ``/`` walks nested tables (``mlflow/auth``
    is ``table["mlflow"]["auth"]``), where a key may itself hold ``/`` at any
    level, so every name :func:`names` lists is found. In dotenv files the fallback
    is the environment-style key instead (``MLFLOW_AUTH``).
    """
    node = _child(table, name)
    if node is not MISSING or fmt != "dotenv":
        return node if node is not MISSING else _walk(table, name.split("/"))
    return _child(table, variable_name(name))


def _walk(node: object, parts: list[str]) -> object:
    if not parts:
        return node
    for cut in range(len(parts), 0, -1):  # the longest key first
        child = _child(node, "/".join(parts[:cut]))
        if child is not MISSING:
            found = _walk(child, parts[cut:])
            if found is not MISSING:
                return found
    return MISSING


def to_value(node: object) -> str | bytes:
    """Turn a parsed node into a secret value.

    Text and bytes stay as they are, dates become ISO 8601 text, and everything
    else (numbers, booleans, null, tables, lists) becomes compact JSON text.

    :raises TypeError: the node holds something JSON cannot express
    :raises ValueError: the node refers to itself (a YAML alias loop)
    """
    if isinstance(node, (str, bytes)):
        return node
    if isinstance(node, (date, time)):
        return node.isoformat()
    return json.dumps(node, separators=(",", ":"), default=_jsonable)


def names(table: dict[str, object]) -> list[str]:
    """Return, sorted, every leaf's name: nested tables joined with ``/``."""
    found: set[str] = set()

    def walk(node: dict[str, object], prefix: str, path: frozenset[int]) -> None:
        for key, value in node.items():
            name = f"{prefix}{key}"
            if isinstance(value, dict) and value:
                if id(value) not in path:  # YAML aliases can make loops
                    walk(value, f"{name}/", path | {id(value)})
            else:
                found.add(name)

    walk(table, "", frozenset({id(table)}))
    return sorted(found)


def _child(node: object, key: str) -> object:
    if not isinstance(node, dict):
        return MISSING
    if key in node:
        return node[key]
    for other, value in node.items():  # YAML keys can be numbers or booleans
        if not isinstance(other, str) and str(other) == key:
            return value
    return MISSING


def _jsonable(node: object) -> object:
    if isinstance(node, (date, time)):
        return node.isoformat()
    if isinstance(node, bytes):
        return base64.b64encode(node).decode("ascii")
    raise TypeError(f"{type(node).__name__} cannot be shown as JSON")


def _require_yaml() -> None:
    try:
        import yaml  # noqa: F401
    except ImportError as exc:
        raise ConfigurationError(
            "YAML secrets files need PyYAML: install secretkit[yaml]"
        ) from exc


def _parse_json(text: str) -> object:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise _Malformed(exc.lineno, exc.colno) from None
    except (ValueError, RecursionError):  # a number too long, nesting too deep
        raise _Malformed(None) from None


def _parse_toml(text: str) -> object:
    import tomllib

    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where = _TOML_WHERE.search(str(exc))
        raise _Malformed(
            int(where[1]) if where else None, int(where[2]) if where else None
        ) from None
    except (ValueError, RecursionError):
        raise _Malformed(None) from None


def _parse_yaml(text: str) -> object:
    import yaml

    try:
        # Not CSafeLoader: libyaml overflows the C stack on deep nesting and
        # crashes the process; secrets files are small enough for pure Python.
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        if mark is None:
            raise _Malformed(None) from None
        raise _Malformed(mark.line + 1, mark.column + 1) from None
    except (yaml.YAMLError, ValueError, RecursionError):
        raise _Malformed(None) from None
    return {} if data is None else data  # an empty document is an empty table


def _parse_dotenv(text: str) -> object:
    table: dict[str, object] = {}
    pos = 0
    while pos < len(text):
        skip = _DOTENV_SKIP.match(text, pos)
        if skip is not None and skip.end() > pos:
            pos = skip.end()
            continue
        entry = _DOTENV_ENTRY.match(text, pos)
        if entry is None:
            raise _Malformed(text.count("\n", 0, pos) + 1)
        if entry["single"] is not None:
            table[entry["key"]] = entry["single"]
        elif entry["double"] is not None:
            table[entry["key"]] = _DOTENV_ESCAPE.sub(
                lambda m: _ESCAPES.get(m[1], m[1]), entry["double"]
            )
        else:
            table[entry["key"]] = entry["bare"]
        pos = entry.end()
    return table


_PARSERS: Final[dict[str, Callable[[str], object]]] = {
    "json": _parse_json,
    "toml": _parse_toml,
    "yaml": _parse_yaml,
    "dotenv": _parse_dotenv,
}
