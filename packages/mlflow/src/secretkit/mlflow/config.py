"""The MLflow plugin's settings, from ``SECRETKIT_MLFLOW_*`` and mlflow-secrets-auth.

Each setting comes from the first of: its ``SECRETKIT_MLFLOW_*`` variable, the
mlflow-secrets-auth variable that means the same, the default.

============================== ================================== ===============
setting                        mlflow-secrets-auth variable        default
============================== ================================== ===============
``SECRETKIT_MLFLOW_REF``       the selected provider's secret      (required)
``SECRETKIT_MLFLOW_AUTH_MODE`` ``MLFLOW_<PROVIDER>_AUTH_MODE``     see below
``SECRETKIT_MLFLOW_HEADER``    ``MLFLOW_AUTH_HEADER_NAME``         Authorization
``SECRETKIT_MLFLOW_TTL``       ``MLFLOW_<PROVIDER>_TTL_SEC``       the cache's TTL
``SECRETKIT_MLFLOW_ALLOWED_HOSTS`` ``MLFLOW_SECRETS_ALLOWED_HOSTS`` every host
``SECRETKIT_MLFLOW_LOG_LEVEL`` ``MLFLOW_SECRETS_LOG_LEVEL``        unchanged
``SECRETKIT_MLFLOW_TOKEN_FIELD`` (and ``_USERNAME_FIELD``, ``_PASSWORD_FIELD``)
============================== ================================== ===============

Without ``SECRETKIT_MLFLOW_REF``, the secret is the first provider, in
mlflow-secrets-auth's order (``vault``, ``aws-secrets-manager``,
``azure-key-vault``), that is enabled (``MLFLOW_SECRETS_AUTH_ENABLE``, or
``MLFLOW_SECRETS_AUTH_ENABLE_<PROVIDER>``; with neither set, every provider is) and
names a secret (``MLFLOW_VAULT_SECRET_PATH``, ``MLFLOW_AWS_SECRET_ID`` or
``_NAME``, ``MLFLOW_AZURE_SECRET_NAME``). Only that provider's own variables
(mode, TTL, version, retries) count.

Modes: ``bearer`` sends ``Bearer <token>``, ``basic`` sends ``Basic`` credentials,
``header`` sends the token as it is. The default is ``bearer`` for the
``Authorization`` header and ``header`` for any other, as mlflow-secrets-auth did.
"""

from __future__ import annotations

__all__ = ("MODES", "MlflowSettings", "client_settings", "read_settings")

import os
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Final, Literal, cast

from secretkit.core.errors import ConfigurationError
from secretkit.core.secret import SecretRef

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from secretkit.core.config import Settings

Mode = Literal["bearer", "basic", "header"]
MODES: Final = ("bearer", "basic", "header")
PREFIX: Final = "SECRETKIT_MLFLOW_"
_KNOWN: Final = (
    "REF",
    "AUTH_MODE",
    "HEADER",
    "TTL",
    "TOKEN_FIELD",
    "USERNAME_FIELD",
    "PASSWORD_FIELD",
    "ALLOWED_HOSTS",
    "LOG_LEVEL",
)
_PROVIDERS: Final = ("vault", "aws-secrets-manager", "azure-key-vault")
_ALIASES: Final = {"aws": "aws-secrets-manager", "azure": "azure-key-vault"}
_SECRET_VARIABLES: Final = {
    "vault": "MLFLOW_VAULT_SECRET_PATH",
    "aws-secrets-manager": "MLFLOW_AWS_SECRET_ID",
    "azure-key-vault": "MLFLOW_AZURE_SECRET_NAME",
}
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})
_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_AWS_VERSION_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F-]{27,}")
_STALE: Final = 3600.0  # stale-if-error: serve the last secret through an outage


@dataclass(frozen=True, slots=True, kw_only=True)
class MlflowSettings:
    """Where the MLflow credentials come from and how they are sent.

    :param ref: the secret reference (``aws://mlflow/auth``, ``vault://...#token``)
    :param mode: ``bearer``, ``basic`` or ``header`` (the token as it is)
    :param header: the header the credentials go in
    :param ttl: seconds a fetched secret is kept; ``None``: the cache's TTL
    :param token_field: the JSON field (or ``/pointer``) holding a token
    :param username_field: the JSON field holding a basic-auth user name
    :param password_field: the JSON field holding a basic-auth password
    :param allowed_hosts: host patterns that may receive credentials; empty: any
    :param log_level: the level to set on the ``secretkit.mlflow`` logger
    :param provider: what chose the secret: ``secretkit`` or an mlflow-secrets-auth
        provider (``vault``, ``aws-secrets-manager``, ``azure-key-vault``)
    :param backends: backend options the mlflow-secrets-auth variables imply, by
        instance; options set through ``SECRETKIT_*`` win over them
    :param sources: where each setting came from (a variable name, or ``default``)
    """

    ref: str
    mode: Mode = "bearer"
    header: str = "Authorization"
    ttl: float | None = None
    token_field: str = "token"
    username_field: str = "username"
    password_field: str = "password"
    allowed_hosts: tuple[str, ...] = ()
    log_level: str | None = None
    provider: str = "secretkit"
    backends: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    sources: Mapping[str, str] = field(default_factory=dict)


def _error(variable: str, problem: str) -> ConfigurationError:
    return ConfigurationError(
        f"{variable} (environment): {problem}", key=variable, source="environment"
    )


@dataclass(slots=True)
class _Reader:
    """Looks variables up in order and remembers which one answered."""

    env: Mapping[str, str]
    sources: dict[str, str] = field(default_factory=dict)

    def first(self, setting: str, *variables: str) -> tuple[str, str] | None:
        for variable in variables:
            value = self.env.get(variable, "").strip()
            if value:
                self.sources[setting] = variable
                return value, variable
        self.sources[setting] = "default"
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Compat:
    """What an mlflow-secrets-auth provider's variables say."""

    provider: str
    ref: str
    source: str
    mode_variable: str
    ttl_variable: str
    instance: str
    options: Mapping[str, str]


def read_settings(environ: Mapping[str, str] | None = None) -> MlflowSettings:
    """Read the plugin's settings from the environment.

    :param environ: the variables (default: ``os.environ``)
    :raises ConfigurationError: naming the variable at fault
    :raises InvalidReference: ``SECRETKIT_MLFLOW_REF`` does not parse
    """
    env = os.environ if environ is None else environ
    for variable in env:
        if variable.startswith(PREFIX) and variable[len(PREFIX) :] not in _KNOWN:
            known = ", ".join(PREFIX + name for name in _KNOWN)
            raise _error(variable, f"unknown variable (known: {known})")
    read = _Reader(env)
    own = read.first("ref", PREFIX + "REF")
    compat = None if own is not None else _compat(env)
    if own is not None:
        SecretRef.parse(own[0])  # fail now, naming the position
        ref = own[0]
    elif compat is not None:
        ref = compat.ref
        read.sources["ref"] = compat.source
    else:
        raise _error(
            PREFIX + "REF",
            "not set: name the secret holding MLflow credentials "
            "(aws://mlflow/auth), or set mlflow-secrets-auth's MLFLOW_AWS_SECRET_ID, "
            "MLFLOW_VAULT_SECRET_PATH or MLFLOW_AZURE_SECRET_NAME",
        )
    header = _header(read)
    return MlflowSettings(
        ref=ref,
        mode=_mode(read, compat, custom_header=header != "Authorization"),
        header=header,
        ttl=_ttl(read, compat),
        token_field=_field(read, "token"),
        username_field=_field(read, "username"),
        password_field=_field(read, "password"),
        allowed_hosts=_hosts(read),
        log_level=_log_level(read),
        provider=compat.provider if compat else "secretkit",
        backends={compat.instance: compat.options} if compat else {},
        sources=read.sources,
    )


def _header(read: _Reader) -> str:
    found = read.first("header", PREFIX + "HEADER", "MLFLOW_AUTH_HEADER_NAME")
    if found is None:
        return "Authorization"
    name, variable = found
    if not _HEADER_NAME.fullmatch(name):
        raise _error(variable, f"{name!r} is not a valid HTTP header name")
    return "Authorization" if name.lower() == "authorization" else name


def _mode(read: _Reader, compat: _Compat | None, *, custom_header: bool) -> Mode:
    variables = [PREFIX + "AUTH_MODE"]
    if compat is not None:
        variables.append(compat.mode_variable)
    found = read.first("mode", *variables)
    if found is None:
        return "header" if custom_header else "bearer"
    word, variable = found[0].lower(), found[1]
    allowed = MODES if variable.startswith(PREFIX) else ("bearer", "basic")
    if word not in allowed:
        raise _error(variable, f"expected one of {', '.join(allowed)}, got {word!r}")
    if word == "bearer" and custom_header and not variable.startswith(PREFIX):
        # mlflow-secrets-auth put a bearer token in a custom header as it is.
        return "header"
    return cast("Mode", word)


def _ttl(read: _Reader, compat: _Compat | None) -> float | None:
    variables = [PREFIX + "TTL"]
    if compat is not None:
        variables.append(compat.ttl_variable)
    found = read.first("ttl", *variables)
    if found is None:
        return None
    text, variable = found
    try:
        seconds = float(text)
    except ValueError:
        seconds = -1.0
    if not 0 <= seconds < float("inf") or (
        seconds == 0 and not variable.startswith(PREFIX)
    ):
        raise _error(variable, f"expected a positive number of seconds, got {text!r}")
    return seconds


def _field(read: _Reader, name: str) -> str:
    found = read.first(f"{name}_field", f"{PREFIX}{name.upper()}_FIELD")
    return name if found is None else found[0]


def _hosts(read: _Reader) -> tuple[str, ...]:
    found = read.first(
        "allowed_hosts", PREFIX + "ALLOWED_HOSTS", "MLFLOW_SECRETS_ALLOWED_HOSTS"
    )
    if found is None:
        return ()
    from ._hosts import HostAllowlist

    patterns = tuple(p.strip() for p in found[0].split(",") if p.strip())
    try:
        HostAllowlist(patterns)  # fail now, naming the variable
    except ValueError as exc:
        raise _error(found[1], str(exc)) from None
    return patterns


def _log_level(read: _Reader) -> str | None:
    found = read.first("log_level", PREFIX + "LOG_LEVEL", "MLFLOW_SECRETS_LOG_LEVEL")
    if found is None:
        return None
    level = found[0].upper()
    if level not in _LEVELS:
        raise _error(found[1], f"expected one of {', '.join(_LEVELS)}, got {level!r}")
    return level


# -- mlflow-secrets-auth's providers -------------------------------------------


def _enabled(env: Mapping[str, str]) -> tuple[tuple[str, ...], bool]:
    """The providers to consider, in mlflow-secrets-auth's order, and whether the
    enable variables named them (else every provider counts)."""
    listed = env.get("MLFLOW_SECRETS_AUTH_ENABLE", "")
    chosen: set[str] = set()
    for word in (w.strip().lower() for w in listed.split(",")):
        if not word:
            continue
        name = _ALIASES.get(word, word)
        if name not in _PROVIDERS:
            raise _error(
                "MLFLOW_SECRETS_AUTH_ENABLE",
                f"unknown provider {word!r} (known: {', '.join(_PROVIDERS)})",
            )
        chosen.add(name)
    toggled = False
    for name in _PROVIDERS:
        variable = "MLFLOW_SECRETS_AUTH_ENABLE_" + name.upper().replace("-", "_")
        word = env.get(variable, "").strip().lower()
        if not word:
            continue
        toggled = True
        if word not in _TRUE | _FALSE:
            raise _error(variable, f"expected true or false, got {word!r}")
        if word in _TRUE:
            chosen.add(name)
    if not listed.strip() and not toggled:
        return _PROVIDERS, False  # nothing said: the first configured one is used
    return tuple(name for name in _PROVIDERS if name in chosen), True


def _compat(env: Mapping[str, str]) -> _Compat | None:
    enabled, explicit = _enabled(env)
    for name in enabled:
        found = _READERS[name](env)
        if found is not None:
            return found
    if enabled and explicit:
        first = enabled[0]
        raise _error(
            _SECRET_VARIABLES[first],
            f"not set, but MLFLOW_SECRETS_AUTH_ENABLE enables {first}: "
            "name the secret MLflow credentials are in",
        )
    return None


def _vault(env: Mapping[str, str]) -> _Compat | None:
    path = env.get("MLFLOW_VAULT_SECRET_PATH", "").strip().strip("/")
    if not path:
        return None
    mount, _, rest = path.partition("/")
    if rest.startswith("data/"):  # a KV v2 API path: the secret is mount/rest
        path = f"{mount}/{rest[5:]}"
    options: dict[str, str] = {}
    role_id = env.get("VAULT_ROLE_ID", "").strip()
    secret_id = env.get("VAULT_SECRET_ID", "").strip()
    if not env.get("VAULT_TOKEN", "").strip() and (role_id or secret_id):
        # As mlflow-secrets-auth: VAULT_TOKEN first, else an AppRole login.
        if not (role_id and secret_id):
            missing = "VAULT_SECRET_ID" if role_id else "VAULT_ROLE_ID"
            raise _error(missing, "not set: an AppRole login needs both IDs")
        options = {"role_id": role_id, "secret_id": secret_id}
    return _Compat(
        provider="vault",
        ref=str(SecretRef(name=path, backend="vault")),
        source="MLFLOW_VAULT_SECRET_PATH",
        mode_variable="MLFLOW_VAULT_AUTH_MODE",
        ttl_variable="MLFLOW_VAULT_TTL_SEC",
        instance="vault",
        options=options,
    )


def _aws(env: Mapping[str, str]) -> _Compat | None:
    source = next(
        (v for v in ("MLFLOW_AWS_SECRET_ID", "MLFLOW_AWS_SECRET_NAME") if env.get(v)),
        None,
    )
    if source is None or not env[source].strip():
        return None
    version = env.get("MLFLOW_AWS_SECRET_VERSION", "").strip() or None
    # A version id is a UUID; anything else is a staging label (AWSCURRENT...).
    is_id = version is not None and bool(_AWS_VERSION_ID.fullmatch(version))
    ref = SecretRef(
        name=env[source].strip(),
        backend="aws",
        version=version if is_id else None,
        stage=None if is_id else version,
    )
    options: dict[str, str] = {}
    retries = env.get("MLFLOW_AWS_MAX_RETRIES", "").strip()
    if retries:
        if not retries.isdigit():
            raise _error(
                "MLFLOW_AWS_MAX_RETRIES", f"expected a whole number, got {retries!r}"
            )
        options["max_attempts"] = str(int(retries) + 1)  # botocore counts the first
    mode = env.get("MLFLOW_AWS_RETRY_MODE", "").strip()
    if mode:
        if mode not in ("legacy", "standard", "adaptive"):
            raise _error(
                "MLFLOW_AWS_RETRY_MODE",
                f"expected one of legacy, standard, adaptive, got {mode!r}",
            )
        options["retry_mode"] = mode
    return _Compat(
        provider="aws-secrets-manager",
        ref=str(ref),
        source=source,
        mode_variable="MLFLOW_AWS_AUTH_MODE",
        ttl_variable="MLFLOW_AWS_TTL_SEC",
        instance="aws",
        options=options,
    )


def _azure(env: Mapping[str, str]) -> _Compat | None:
    name = env.get("MLFLOW_AZURE_SECRET_NAME", "").strip()
    if not name:
        return None
    url_variable = next(
        (
            v
            for v in ("MLFLOW_AZURE_KEY_VAULT_URL", "AZURE_KEY_VAULT_URL")
            if env.get(v, "").strip()
        ),
        None,
    )
    if url_variable is None:
        raise _error(
            "AZURE_KEY_VAULT_URL",
            "not set (nor MLFLOW_AZURE_KEY_VAULT_URL): MLFLOW_AZURE_SECRET_NAME "
            "needs the vault's URL",
        )
    version = env.get("MLFLOW_AZURE_SECRET_VERSION", "").strip()
    return _Compat(
        provider="azure-key-vault",
        ref=str(
            SecretRef(
                name=name,
                backend="azure",
                version=None if version.lower() in ("", "latest") else version,
            )
        ),
        source="MLFLOW_AZURE_SECRET_NAME",
        mode_variable="MLFLOW_AZURE_AUTH_MODE",
        ttl_variable="MLFLOW_AZURE_TTL_SEC",
        instance="azure",
        options={"vault_url": env[url_variable].strip()},
    )


_READERS: Final[Mapping[str, Callable[[Mapping[str, str]], _Compat | None]]] = {
    "vault": _vault,
    "aws-secrets-manager": _aws,
    "azure-key-vault": _azure,
}


# -- the core client's settings -------------------------------------------------


def client_settings(
    settings: MlflowSettings,
    environ: Mapping[str, str] | None = None,
    *,
    config_path: str | None = None,
) -> Settings:
    """The settings of the plugin's secretkit client.

    ``SECRETKIT_*`` variables (or the file at ``config_path``) as any secretkit
    client reads them, plus the backend options mlflow-secrets-auth's variables
    imply, the plugin's TTL, and stale-if-error for an hour unless the file or
    ``SECRETKIT_MAX_STALE`` sets another ``max_stale``.

    :raises ConfigurationError: naming the variable or key at fault
    """
    from secretkit.core import config
    from secretkit.core.config import BackendSpec
    from secretkit.core.plugins import registry

    env = os.environ if environ is None else environ
    if config_path is not None:
        base = config.from_config(config_path)
    else:
        plugins = registry()
        base = config.from_env(
            env, types=plugins.names(), plugins=(*plugins.plugin_names(), "mlflow")
        )
    backends = dict(base.backends)
    for name, options in settings.backends.items():
        earlier = backends.get(name)
        if isinstance(earlier, BackendSpec):
            merged = {**options, **earlier.options}  # SECRETKIT_* options win
            backends[name] = replace(earlier, options=merged, from_text=True)
        elif earlier is None:
            backends[name] = BackendSpec(
                name=name,
                type=name,
                options=options,
                source="mlflow-secrets-auth variables",
                from_text=True,
            )
    cache = base.cache
    # Stale-if-error for an hour, unless a file or SECRETKIT_MAX_STALE says.
    if cache.max_stale == 0 and (
        config_path is not None or "SECRETKIT_MAX_STALE" not in env
    ):
        cache = replace(cache, max_stale=_STALE)
    if settings.ttl is not None:
        cache = replace(cache, ttl=settings.ttl)
        # The plugin's TTL also wins over the instance's own.
        instance = SecretRef.parse(settings.ref).backend or base.default
        spec = backends.get(instance or "")
        if isinstance(spec, BackendSpec) and spec.ttl is not None:
            backends[spec.name] = replace(spec, ttl=settings.ttl)
    return replace(base, backends=backends, cache=cache)
