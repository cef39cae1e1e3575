"""Where keys are in a TOML text: ``tomllib`` keeps no positions.

For error messages that say ``file:line``; reads just enough of TOML for that.
"""

from __future__ import annotations

__all__ = ("Path_", "key_lines")

import json
import re
from typing import TypeAlias

Path_: TypeAlias = tuple[str, ...]

# What the line scanner reads: headers and ``key =`` lines, keys bare or quoted.
_PART = r"""\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')\s*"""
_PARTS = re.compile(_PART)
_HEADER = re.compile(rf"\s*\[\[?({_PART}(?:\.{_PART})*)\]")
_ASSIGN = re.compile(rf"({_PART}(?:\.{_PART})*)=")


def key_lines(text: str) -> dict[Path_, int]:
    """Map each table header and ``key =`` line to its line number (from 1).

    ``tomllib`` keeps no positions; this reads just enough of TOML to point at a
    problem. Lines inside multi-line strings are skipped; keys inside inline tables
    are not seen, so those point at the key holding the table.
    """
    lines: dict[Path_, int] = {}
    table: Path_ = ()
    in_string = False
    for number, line in enumerate(text.splitlines(), start=1):
        quotes = line.count('"""') + line.count("'''")
        if in_string:
            in_string = quotes % 2 == 0
            continue
        if header := _HEADER.match(line):
            table = _split(header.group(1))
            lines.setdefault(table, number)
        elif assign := _ASSIGN.match(line):
            lines.setdefault((*table, *_split(assign.group(1))), number)
        in_string = quotes % 2 == 1
    return lines


def _split(path: str) -> Path_:
    parts = []
    for match in _PARTS.finditer(path):
        part = match.group().strip()
        if part[:1] in ("'", '"'):
            try:  # TOML's basic-string escapes are JSON's, near enough
                part = json.loads(part) if part[0] == '"' else part[1:-1]
            except ValueError:
                part = part[1:-1]
        parts.append(part)
    return tuple(parts)
