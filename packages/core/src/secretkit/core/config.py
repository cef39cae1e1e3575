"""Client configuration from keyword arguments, ``SECRETKIT_*`` variables or TOML.

A TOML file (``secretkit.toml``, or ``[tool.secretkit]`` in a ``pyproject.toml``)::

    default = "file"            # the backend for bare names
    max_threads = 8             # worker threads for blocking SDKs

    [cache]                     # any CachePolicy field
    ttl = 300
    max_stale = 3600

    [backends.file]             # an instance named after its type
    path = "secrets.json"

    [backends.prod]             # a second AWS account: prod://db/main
    type = "aws"
    region = "eu-west-1"
    ttl = 60                    # this instance's TTL

Environment variables: ``SECRETKIT_CONFIG`` (a file to start from),
``SECRETKIT_DEFAULT``, ``SECRETKIT_MAX_THREADS``, ``SECRETKIT_<CACHE FIELD>``
(``SECRETKIT_TTL``, ``SECRETKIT_MAX_STALE``...), and
``SECRETKIT_BACKENDS__<NAME>__<OPTION>`` (``SECRETKIT_BACKENDS__PROD__REGION``);
they override the file. Unknown keys and wrong types raise ``ConfigurationError``
naming the key and where it came from.
"""

from __future__ import annotations

__all__ = (
    "CLIENT_KEYS",
    "BackendSpec",
    "Settings",
    "find_config",
    "from_config",
    "from_env",
    "from_kwargs",
)

import os
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING, Final

from .backend import Backend
from .errors import ConfigurationError
from .options import masked
from .policy import CachePolicy
from .secret import SecretRef

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from pathlib import Path

_PREFIX: Final = "SECRETKIT_"
# What a client reads from a configuration file; ``manifest`` is another table
# there, for :mod:`secretkit.core.manifest`, which clients leave alone.
CLIENT_KEYS: Final = ("backends", "cache", "default", "max_threads")
_TOP_KEYS: Final = (*CLIENT_KEYS, "manifest")
_POLICY_FIELDS: Final = tuple(f.name for f in fields(CachePolicy))
_INT_FIELDS: Final = ("max_entries",)


@dataclass(frozen=True, slots=True, kw_only=True)
class BackendSpec:
    """One configured backend instance, before it is built.

    :param name: the instance name used in references (``prod`` in ``prod://x``)
    :param type: the backend type or alias that builds it
    :param options: the options for its factory
    :param source: where the options came from
    :param from_text: options are text to convert (environment variables)
    :param ttl: this instance's cache TTL, if set
    """

    name: str
    type: str
    options: Mapping[str, object]
    source: str
    from_text: bool = False
    ttl: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    """Everything a client is built from, validated."""

    default: str | None = None
    backends: Mapping[str, BackendSpec | Backend]
    cache: CachePolicy = field(default_factory=CachePolicy)
    max_threads: int = 8
    source: str = "SecretClient()"
    type_options: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def describe(self) -> dict[str, object]:
        """The effective configuration with every sensitive option masked."""
        backends: dict[str, object] = {}
        for name, spec in self.backends.items():
            if isinstance(spec, BackendSpec):
                backends[name] = {
                    "type": spec.type,
                    **({"ttl": spec.ttl} if spec.ttl is not None else {}),
                    **masked(dict(spec.options)),
                    "(source)": spec.source,
                }
            else:
                backends[name] = {"type": f"<{type(spec).__name__} object>"}
        return {
            "default": self.default,
            "max_threads": self.max_threads,
            "cache": {name: getattr(self.cache, name) for name in _POLICY_FIELDS},
            "backends": backends,
            **(
                {
                    "type options (environment)": {
                        name: masked(dict(values))
                        for name, values in self.type_options.items()
                    }
                }
                if self.type_options
                else {}
            ),
            "(source)": self.source,
        }


def _error(key: str, source: str, problem: str) -> ConfigurationError:
    return ConfigurationError(f"{key} ({source}): {problem}", key=key, source=source)


def _number(key: str, value: object, source: str, *, text: bool, whole: bool) -> float:
    if text and isinstance(value, str):
        try:
            return int(value) if whole else float(value)
        except ValueError:
            pass
    elif not isinstance(value, bool) and isinstance(
        value, int if whole else (int, float)
    ):
        return value
    kind = "a whole number" if whole else "a number"
    raise _error(key, source, f"expected {kind}, got {value!r}")


def _policy(
    base: CachePolicy,
    values: Mapping[str, object],
    source: str,
    *,
    text: bool,
    prefix: str,
) -> CachePolicy:
    changes: dict[str, float] = {}
    for name, value in values.items():
        label = f"{prefix}{name.upper() if prefix == _PREFIX else name}"
        if name not in _POLICY_FIELDS:
            known = ", ".join(_POLICY_FIELDS)
            raise _error(label, source, f"unknown cache option (known: {known})")
        changes[name] = _number(
            label, value, source, text=text, whole=name in _INT_FIELDS
        )
    try:
        return replace(base, **changes)  # type: ignore[arg-type]  # checked above
    except ConfigurationError as exc:
        name = (exc.key or "cache.").removeprefix("cache.")
        label = f"{prefix}{name.upper() if prefix == _PREFIX else name}"
        raise _error(label, source, exc.message.removeprefix(f"{exc.key} ")) from None


def _spec(
    name: str,
    values: Mapping[str, object] | Backend | BackendSpec,
    source: str,
    *,
    text: bool = False,
) -> BackendSpec | Backend:
    if isinstance(values, (Backend, BackendSpec)):
        if isinstance(values, Backend):
            values.name = name
        return values
    try:
        SecretRef(name="x", backend=name)
    except ValueError:
        raise _error(
            f"backends.{name}",
            source,
            "a backend name starts with a letter and holds letters, digits and + . _ -",
        ) from None
    if not hasattr(values, "items"):
        raise _error(f"backends.{name}", source, "expected a table of options")
    options = dict(values)
    type_name = options.pop("type", name)
    if not isinstance(type_name, str) or not type_name:
        raise _error(
            f"backends.{name}.type",
            source,
            f"expected a backend type, got {type_name!r}",
        )
    ttl = options.pop("ttl", None)
    if ttl is not None:
        ttl = _number(f"backends.{name}.ttl", ttl, source, text=text, whole=False)
        if ttl < 0:
            raise _error(f"backends.{name}.ttl", source, "must not be negative")
    return BackendSpec(
        name=name,
        type=type_name,
        options=options,
        source=source,
        from_text=text,
        ttl=ttl,
    )


def from_kwargs(
    *,
    default: str | None,
    backends: Mapping[str, Mapping[str, object] | Backend | BackendSpec] | None,
    cache: CachePolicy | None,
    ttl: float | None,
    max_threads: int = 8,
    source: str = "SecretClient()",
) -> Settings:
    """Validate the arguments of ``SecretClient(...)``.

    :raises ConfigurationError: naming the argument at fault
    """
    policy = cache if cache is not None else CachePolicy()
    if not isinstance(policy, CachePolicy):
        raise _error("cache", source, "expected a CachePolicy")
    if ttl is not None:
        policy = _policy(policy, {"ttl": ttl}, source, text=False, prefix="")
    if backends is not None and not hasattr(backends, "items"):
        raise _error("backends", source, "expected a mapping of name to options")
    specs = {
        name: _spec(name, values, source) for name, values in (backends or {}).items()
    }
    if default is not None and not isinstance(default, str):
        raise _error("default", source, f"expected a backend name, got {default!r}")
    if (
        isinstance(max_threads, bool)
        or not isinstance(max_threads, int)
        or max_threads < 1
    ):
        raise _error("max_threads", source, "expected a whole number of at least 1")
    return Settings(
        default=default,
        backends=specs,
        cache=policy,
        max_threads=max_threads,
        source=source,
    )


def _read_toml(path: Path) -> tuple[dict[str, object], str]:
    import tomllib

    source = str(path)
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except FileNotFoundError:
        raise _error("config", source, "no such file") from None
    except tomllib.TOMLDecodeError as exc:
        # The message names line and column only; no file content.
        raise _error("config", source, f"not valid TOML: {exc}") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool", {})
        section = tool.get("secretkit") if isinstance(tool, dict) else None
        if not isinstance(section, dict):
            raise _error("tool.secretkit", source, "no [tool.secretkit] table")
        return section, f"{source} [tool.secretkit]"
    return data, source


def _from_mapping(data: Mapping[str, object], source: str) -> Settings:
    for key in data:
        if key not in _TOP_KEYS:
            raise _error(key, source, f"unknown key (known: {', '.join(_TOP_KEYS)})")
    cache = data.get("cache", {})
    if not isinstance(cache, dict):
        raise _error("cache", source, "expected a table")
    backends = data.get("backends", {})
    if not isinstance(backends, dict):
        raise _error("backends", source, "expected a table of backend tables")
    for name, values in backends.items():
        if not isinstance(values, dict):
            raise _error(f"backends.{name}", source, "expected a table of options")
    default = data.get("default")
    max_threads = data.get("max_threads", 8)
    return from_kwargs(
        default=default,  # type: ignore[arg-type]  # from_kwargs checks it
        backends=backends,
        cache=_policy(CachePolicy(), cache, source, text=False, prefix="cache."),
        ttl=None,
        max_threads=max_threads,  # type: ignore[arg-type]  # from_kwargs checks it
        source=source,
    )


def find_config(environ: Mapping[str, str] | None = None) -> Path | None:
    """Where ``from_config()`` looks with no path: ``SECRETKIT_CONFIG``, then
    ``./secretkit.toml``, then ``./pyproject.toml`` when it has ``[tool.secretkit]``."""
    from pathlib import Path

    env = os.environ if environ is None else environ
    if env.get("SECRETKIT_CONFIG"):
        return Path(env["SECRETKIT_CONFIG"]).expanduser()
    local = Path("secretkit.toml")
    if local.is_file():
        return local
    project = Path("pyproject.toml")
    if project.is_file() and "[tool.secretkit" in project.read_text(errors="replace"):
        return project
    return None


def from_config(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read a TOML file (or ``[tool.secretkit]`` of a pyproject.toml).

    :param path: the file; ``None`` looks where :func:`find_config` says
    :raises ConfigurationError: no file found, bad TOML, unknown keys, wrong types
    """
    from pathlib import Path

    found = Path(path) if path is not None else find_config()
    if found is None:
        raise _error(
            "config",
            "from_config()",
            "no configuration found: pass a path, set SECRETKIT_CONFIG, "
            "or create secretkit.toml",
        )
    data, source = _read_toml(found)
    return _from_mapping(data, source)


def from_env(
    environ: Mapping[str, str] | None = None,
    *,
    types: Iterable[str] = (),
    plugins: Iterable[str] = (),
) -> Settings:
    """Read ``SECRETKIT_*`` variables, on top of ``SECRETKIT_CONFIG`` when set.

    ``SECRETKIT_<TYPE>_<OPTION>`` (``SECRETKIT_AWS_REGION``) sets an option for
    every instance of an installed backend type; an instance's own options win.
    ``SECRETKIT_<PLUGIN>_*`` (``SECRETKIT_MLFLOW_REF``) belongs to that plugin and
    is left alone; any other ``SECRETKIT_*`` variable is an error (a typo).

    :param environ: the variables (default: ``os.environ``)
    :param types: the installed backend types and aliases, for type-wide options
    :param plugins: the installed plugins' names, whose variables are theirs
    :raises ConfigurationError: naming the variable at fault
    """
    owned = tuple(name.upper().replace("-", "_") + "_" for name in plugins)
    prefixes = sorted(
        ((name.upper().replace("-", "_") + "_", name) for name in types),
        key=lambda pair: -len(pair[0]),  # aws-ssm before aws
    )
    type_options: dict[str, dict[str, str]] = {}
    env = os.environ if environ is None else environ
    base = from_config(env["SECRETKIT_CONFIG"]) if env.get("SECRETKIT_CONFIG") else None
    policy = base.cache if base else CachePolicy()
    default = base.default if base else None
    max_threads = base.max_threads if base else 8
    specs: dict[str, BackendSpec | Backend] = dict(base.backends) if base else {}
    cache_values: dict[str, object] = {}
    backend_values: dict[str, dict[str, object]] = {}
    for variable, value in sorted(env.items()):
        if not variable.startswith(_PREFIX) or variable == "SECRETKIT_CONFIG":
            continue
        key = variable[len(_PREFIX) :]
        if key == "DEFAULT":
            default = value
        elif key == "MAX_THREADS":
            max_threads = int(
                _number(variable, value, "environment", text=True, whole=True)
            )
        elif key.lower() in _POLICY_FIELDS:
            cache_values[key.lower()] = value
        elif (
            key.startswith("BACKENDS__")
            and key.count("__") == 2
            and all(key.split("__"))
        ):
            _, name, option = key.split("__")
            backend_values.setdefault(name.lower(), {})[option.lower()] = value
        else:
            match = next((p for p in prefixes if key.startswith(p[0])), None)
            if match is None and key.startswith(owned):
                continue
            if match is None or key == match[0]:
                raise _error(variable, "environment", "unknown secretkit variable")
            option = key[len(match[0]) :].lower()
            type_options.setdefault(match[1], {})[option] = value
    for name, values in backend_values.items():
        earlier = specs.get(name)
        merged: dict[str, object] = dict(values)
        if isinstance(earlier, BackendSpec):
            ttl = {} if earlier.ttl is None else {"ttl": earlier.ttl}
            merged = {"type": earlier.type, **ttl, **earlier.options, **values}
        specs[name] = _spec(name, merged, "environment", text=True)
    for field_name, text in cache_values.items():
        policy = _policy(
            policy, {field_name: text}, "environment", text=True, prefix="SECRETKIT_"
        )
    settings = from_kwargs(
        default=default,
        backends=specs,
        cache=policy,
        ttl=None,
        max_threads=max_threads,
        source="environment" if base is None else f"environment + {base.source}",
    )
    return replace(settings, type_options=type_options)
