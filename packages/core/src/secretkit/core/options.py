"""Typed, checked reading of one backend instance's options.

Backends read their options through :class:`Options`, so every backend reports an
unknown key or a wrong type the same way: a ``ConfigurationError`` that names the
key and where it came from. Options from environment variables arrive as text and
are converted; options from TOML or Python must already have the right type.
"""

from __future__ import annotations

__all__ = ("Options", "is_sensitive", "masked")

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Final, TypeVar, final

from .errors import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

_T = TypeVar("_T")
_MISSING: Final = object()
_SENSITIVE = re.compile(
    r"token|password|passwd|secret|private|credential|api_?key|client_key|passphrase"
    r"|jwt|assertion",
    re.IGNORECASE,
)
_NAMING: Final = ("_file", "_path", "_url", "_arn", "_name")
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


def is_sensitive(key: str) -> bool:
    """Say whether an option name looks like it holds a credential.

    Names of things (``check_secret``, ``token_file``, ``role_arn``) are not
    credentials themselves.
    """
    if key.startswith("check_") or key.endswith(_NAMING):
        return False
    return bool(_SENSITIVE.search(key))


def masked(values: Mapping[str, object]) -> dict[str, object]:
    """Return a copy of ``values`` with every sensitive-looking option as ``****``."""
    return {key: _masked_value(str(key), value) for key, value in values.items()}


def _masked_value(key: str, value: object) -> object:
    if is_sensitive(key):
        # Everything under a sensitive key is hidden, tables too: the memory
        # backend's ``secrets`` maps names to values.
        return value if value is None or value == "" else "****"
    if isinstance(value, Mapping):
        return masked(value)
    if isinstance(value, (list, tuple)):
        return [_masked_value(key, item) for item in value]
    return value


@final
class Options:
    """The options of one backend instance, read once each, then checked for leftovers.

    :param values: option name to value
    :param instance: the backend instance name (``prod`` in ``prod://db/main``)
    :param source: where the values came from, for error messages
    :param from_text: values are strings to convert (environment variables)
    :param origins: where single options came from, when not ``source``
        (``SECRETKIT_AWS_REGION``)
    """

    __slots__ = ("_origins", "_read", "_values", "from_text", "instance", "source")

    def __init__(
        self,
        values: Mapping[str, object],
        *,
        instance: str,
        source: str,
        from_text: bool = False,
        origins: Mapping[str, str] | None = None,
    ) -> None:
        self._values = dict(values)
        self._read: set[str] = set()
        self.instance = instance
        self.source = source
        self.from_text = from_text
        self._origins = dict(origins or {})

    def __repr__(self) -> str:
        shown = masked(self._values)
        return f"Options({self.instance!r}, {shown!r}, source={self.source!r})"

    def __contains__(self, key: object) -> bool:
        return key in self._values

    def keys(self) -> frozenset[str]:
        """The option names given."""
        return frozenset(self._values)

    def error(self, key: str, problem: str) -> ConfigurationError:
        """Build the error every backend raises for a bad option value.

        :param key: the option name
        :param problem: what is wrong, without the value if it may be secret
        """
        dotted = f"backends.{self.instance}.{key}"
        source = self._origins.get(key, self.source)
        return ConfigurationError(
            f"{dotted} ({source}): {problem}",
            key=dotted,
            source=source,
            backend=self.instance,
        )

    def _take(self, key: str, default: object) -> object:
        # _MISSING means "absent, use the default": comparing the value with the
        # default itself would skip the checks when a caller's default is the
        # very object given (``0``, an interned string).
        self._read.add(key)
        value = self._values.get(key)
        if value is None:
            if default is _MISSING:
                raise self.error(key, "is required")
            return _MISSING
        return value

    def _wrong(self, key: str, expected: str, value: object) -> ConfigurationError:
        shown = "a value" if is_sensitive(key) else repr(_masked_value(key, value))
        return self.error(
            key, f"expected {expected}, got {shown} ({type(value).__name__})"
        )

    def get_str(self, key: str, default: _T | object = _MISSING) -> str | _T:
        """Read a text option.

        :raises ConfigurationError: missing without a default, or not text
        """
        value = self._take(key, default)
        if value is _MISSING:
            return default  # type: ignore[return-value]  # the caller's default
        if not isinstance(value, str):
            raise self._wrong(key, "text", value)
        return value

    def get_int(self, key: str, default: _T | object = _MISSING) -> int | _T:
        """Read a whole-number option.

        :raises ConfigurationError: missing without a default, or not an integer
        """
        value = self._take(key, default)
        if value is _MISSING:
            return default  # type: ignore[return-value]  # the caller's default
        if self.from_text and isinstance(value, str):
            try:
                return int(value.strip())
            except ValueError:
                raise self._wrong(key, "an integer", value) from None
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(key, "an integer", value)
        return value

    def get_float(self, key: str, default: _T | object = _MISSING) -> float | _T:
        """Read a number option (seconds, ratios).

        :raises ConfigurationError: missing without a default, or not a number
        """
        value = self._take(key, default)
        if value is _MISSING:
            return default  # type: ignore[return-value]  # the caller's default
        if self.from_text and isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                raise self._wrong(key, "a number", value) from None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._wrong(key, "a number", value)
        return float(value)

    def get_bool(self, key: str, default: _T | object = _MISSING) -> bool | _T:
        """Read a true/false option (``1/0``, ``true/false``, ``yes/no`` as text).

        :raises ConfigurationError: missing without a default, or not a boolean
        """
        value = self._take(key, default)
        if value is _MISSING:
            return default  # type: ignore[return-value]  # the caller's default
        if self.from_text and isinstance(value, str):
            word = value.strip().lower()
            if word in _TRUE or word in _FALSE:
                return word in _TRUE
            raise self._wrong(key, "true or false", value)
        if not isinstance(value, bool):
            raise self._wrong(key, "true or false", value)
        return value

    def get_str_list(self, key: str, default: _T | object = _MISSING) -> list[str] | _T:
        """Read a list of text (comma-separated when it comes as text).

        :raises ConfigurationError: missing without a default, or not a list of text
        """
        value = self._take(key, default)
        if value is _MISSING:
            return default  # type: ignore[return-value]  # the caller's default
        if isinstance(value, str) and self.from_text:
            return [part.strip() for part in value.split(",") if part.strip()]
        if not isinstance(value, (list, tuple)) or not all(
            isinstance(item, str) for item in value
        ):
            raise self._wrong(key, "a list of text", value)
        return list(value)

    def get_mapping(
        self, key: str, default: _T | object = _MISSING
    ) -> dict[str, object] | _T:
        """Read a table of options (a TOML table, a dict).

        :raises ConfigurationError: missing without a default, or not a table
        """
        value = self._take(key, default)
        if value is _MISSING:
            return default  # type: ignore[return-value]  # the caller's default
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            raise self._wrong(key, "a table", value)
        return dict(value)

    def get_path(self, key: str, default: _T | object = _MISSING) -> Path | _T:
        """Read a filesystem path, with ``~`` expanded.

        :raises ConfigurationError: missing without a default, or not a path
        """
        value = self._take(key, default)
        if value is _MISSING:
            return default  # type: ignore[return-value]  # the caller's default
        from pathlib import Path

        if isinstance(value, Path):
            return value.expanduser()
        if not isinstance(value, str) or not value:
            raise self._wrong(key, "a path", value)
        return Path(value).expanduser()

    def get_choice(
        self, key: str, choices: tuple[str, ...], default: _T | object = _MISSING
    ) -> str | _T:
        """Read one of a fixed set of words.

        :raises ConfigurationError: missing without a default, or not one of ``choices``
        """
        value = self._take(key, default)
        if value is _MISSING:
            return default  # type: ignore[return-value]  # the caller's default
        if not isinstance(value, str):
            raise self._wrong(key, "text", value)
        if value not in choices:
            shown = "a value" if is_sensitive(key) else repr(value)
            raise self.error(key, f"expected one of {', '.join(choices)}, got {shown}")
        return value

    def done(self) -> None:
        """Raise for every option given that no ``get_*`` call read.

        :raises ConfigurationError: naming the first unknown key and the known ones
        """
        unknown = sorted(set(self._values) - self._read)
        if unknown:
            known = ", ".join(sorted(self._read)) or "none"
            raise self.error(unknown[0], f"unknown option (known: {known})")
