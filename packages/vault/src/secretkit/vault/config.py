"""The options of the ``vault`` backend, read and checked once.

Every option may also come from ``SECRETKIT_VAULT_<OPTION>``. The Vault CLI's own
variables count when the option is absent, as the CLI reads them: ``VAULT_ADDR``,
``VAULT_TOKEN``, ``VAULT_NAMESPACE``, ``VAULT_CACERT`` (wins over ``VAULT_CAPATH``),
``VAULT_CLIENT_CERT`` with ``VAULT_CLIENT_KEY``, and ``VAULT_SKIP_VERIFY``, which
turns TLS verification off and says so loudly in the log.
"""

from __future__ import annotations

__all__ = (
    "AUTH_METHODS",
    "KV_VERSIONS",
    "VaultSettings",
    "chain_options",
    "read_settings",
    "settings_from",
)

import logging
import os
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, cast

from secretkit.core.errors import ConfigurationError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from secretkit.core.options import Options

KV_VERSIONS: Final = ("auto", "1", "2")
AUTH_METHODS: Final = (
    "auto",
    "token",
    "approle",
    "userpass",
    "jwt",
    "kubernetes",
    "cert",
    "aws",
)
K8S_TOKEN: Final = Path("/var/run/secrets/kubernetes.io/serviceaccount/token")
_TRUE: Final = frozenset({"1", "true", "t", "yes", "on"})
_FALSE: Final = frozenset({"", "0", "false", "f", "no", "off"})
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class VaultSettings:
    """One Vault backend instance's settings.

    :param url: the server address (``VAULT_ADDR``; default ``http://127.0.0.1:8200``)
    :param namespace: the namespace every request goes to (Enterprise, OpenBao)
    :param mount: the KV mount names are relative to; else the first segments of
        a name are its mount, detected from the server
    :param kv_version: ``1``, ``2`` or ``auto`` (read from the mount's options)
    :param token: an explicit token; never shown
    :param token_file: where the CLI keeps its token (``~/.vault-token``)
    :param verify: verify TLS: ``True``, ``False``, or a CA bundle file or directory
    :param client_cert: a client certificate (PEM) for TLS client authentication
    :param client_key: the client certificate's private key (PEM)
    :param timeout: seconds to wait for the server, per request
    :param retries: extra attempts on connection errors and 5xx (idempotent calls)
    :param auth: the auth method (``AUTH_METHODS``); ``auto`` detects it from
        what is given: ``role_id`` (AppRole), ``username`` (userpass), ``jwt``
        (JWT/OIDC), ``role`` with a service-account token file (Kubernetes)
    :param auth_mount: where the auth method is mounted (default: its name)
    :param role: the role to log in as (JWT, Kubernetes, cert; AppRole: a label)
    :param role_id: the AppRole role_id (or ``role_id_file``)
    :param secret_id: the AppRole secret_id (or ``secret_id_file``); never shown
    :param username: the userpass user
    :param password: the userpass password; never shown
    :param jwt: a JWT to log in with (or ``jwt_file``); never shown
    :param kubernetes_token_file: the service-account token file
    :param aws_region: the region to sign the AWS IAM login for (default: the
        global STS endpoint)
    :param aws_header_value: the ``X-Vault-AWS-IAM-Server-ID`` the server wants
    :param revoke_leases: revoke the leases handed out when the backend closes
    :param check_secret: a secret ``check()`` reads (never shows) to prove access
    """

    url: str = "http://127.0.0.1:8200"
    namespace: str | None = None
    mount: str | None = None
    kv_version: str = "auto"
    token: str | None = field(default=None, repr=False)
    token_file: Path | None = None
    verify: bool | str = True
    client_cert: str | None = None
    client_key: str | None = None
    timeout: float = 30.0
    retries: int = 2
    auth: str = "auto"
    auth_mount: str | None = None
    role: str | None = None
    role_id: str | None = None
    role_id_file: Path | None = None
    secret_id: str | None = field(default=None, repr=False)
    secret_id_file: Path | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    jwt: str | None = field(default=None, repr=False)
    jwt_file: Path | None = None
    kubernetes_token_file: Path = K8S_TOKEN
    aws_region: str | None = None
    aws_header_value: str | None = None
    revoke_leases: bool = False
    check_secret: str | None = None


def read_settings(
    options: Options, environ: Mapping[str, str] | None = None
) -> VaultSettings:
    """Read a Vault backend's options, falling back on the ``VAULT_*`` variables.

    :param options: the instance's options
    :param environ: the environment (default ``os.environ``)
    :return: the checked settings
    :raises ConfigurationError: naming the option or variable at fault
    """
    env = os.environ if environ is None else environ
    url = options.get_str("url", env.get("VAULT_ADDR") or "http://127.0.0.1:8200")
    if not url.startswith(("http://", "https://")):
        raise options.error("url", "must start with http:// or https://")
    mount = cast("str | None", options.get_str("mount", None))
    kv_version = options.get_choice("kv_version", KV_VERSIONS, "auto")
    timeout = options.get_float("timeout", 30.0)
    if timeout <= 0:
        raise options.error("timeout", "must be more than 0 seconds")
    retries = options.get_int("retries", 2)
    if retries < 0:
        raise options.error("retries", "must be 0 or more")
    client_cert = options.get_str("client_cert", env.get("VAULT_CLIENT_CERT") or None)
    client_key = options.get_str("client_key", env.get("VAULT_CLIENT_KEY") or None)
    if bool(client_cert) != bool(client_key):
        raise options.error(
            "client_cert", "client_cert and client_key go together: give both"
        )
    settings = VaultSettings(
        url=url.rstrip("/"),
        namespace=options.get_str("namespace", env.get("VAULT_NAMESPACE") or None),
        mount=mount.strip("/") or None if mount is not None else None,
        kv_version=kv_version,
        token=options.get_str("token", None),
        token_file=options.get_path("token_file", None),
        verify=_verify(options, env),
        client_cert=client_cert,
        client_key=client_key,
        timeout=timeout,
        retries=retries,
        revoke_leases=cast("bool", options.get_bool("revoke_leases", False)),
        check_secret=_check_secret(options),
        **_auth(options),
    )
    options.done()
    return settings


def _check_secret(options: Options) -> str | None:
    """The ``check_secret`` option, parsed once to fail early."""
    from secretkit.core.errors import InvalidReference
    from secretkit.core.secret import SecretRef

    name = cast("str | None", options.get_str("check_secret", None))
    if name:
        try:
            SecretRef.parse(name)
        except InvalidReference as exc:
            raise options.error("check_secret", str(exc)) from None
    return name or None


def _auth(options: Options) -> dict[str, Any]:
    """The auth method's options (checked further when the chain is built)."""
    values: dict[str, Any] = {
        "auth": options.get_choice("auth", AUTH_METHODS, "auto"),
        "kubernetes_token_file": options.get_path("kubernetes_token_file", K8S_TOKEN),
    }
    for key in _AUTH_TEXT:
        values[key] = options.get_str(key, None) or None
    for key in _AUTH_PATHS:
        values[key] = options.get_path(key, None)
    return values


_AUTH_TEXT: Final = (
    "auth_mount",
    "role",
    "role_id",
    "secret_id",
    "username",
    "password",
    "jwt",
    "aws_region",
    "aws_header_value",
)
_AUTH_PATHS: Final = ("role_id_file", "secret_id_file", "jwt_file")


def chain_options(settings: VaultSettings, *, instance: str) -> Options:
    """The settings as the options the ``vault`` chain's factories read.

    :param settings: one backend's settings
    :param instance: the backend instance name
    """
    from secretkit.core.options import Options

    values = {f.name: getattr(settings, f.name) for f in fields(settings)}
    verify = values.pop("verify")
    values["verify"] = bool(verify)
    values["ca_cert"] = verify if isinstance(verify, str) else None
    return Options(
        {key: value for key, value in values.items() if value is not None},
        instance=instance,
        source="the Vault backend's settings",
    )


def settings_from(options: Options) -> VaultSettings:
    """Read back what :func:`chain_options` made (no environment, no checks)."""
    ca_cert = cast("str | None", options.get_str("ca_cert", None))
    verify = cast("bool", options.get_bool("verify", True))
    return VaultSettings(
        url=options.get_str("url", "http://127.0.0.1:8200"),
        namespace=options.get_str("namespace", None),
        verify=ca_cert or verify,
        client_cert=options.get_str("client_cert", None),
        client_key=options.get_str("client_key", None),
        timeout=options.get_float("timeout", 30.0),
        retries=options.get_int("retries", 2),
        **_auth(options),
    )


def _verify(options: Options, env: Mapping[str, str]) -> bool | str:
    """TLS verification as the CLI decides it; options first."""
    ca_cert = options.get_str("ca_cert", None)
    verify = cast("bool | None", options.get_bool("verify", None))
    if verify is None:
        text = env.get("VAULT_SKIP_VERIFY", "").strip().lower()
        if text not in _TRUE | _FALSE:
            raise ConfigurationError(
                "VAULT_SKIP_VERIFY (environment): expected true or false, "
                f"got {text!r}",
                key="VAULT_SKIP_VERIFY",
                source="environment",
                backend=options.instance,
            )
        verify = text not in _TRUE
    if not verify:
        _log.warning(
            "TLS verification is OFF for Vault backend %r: anyone on the network "
            "can read its tokens and secrets; set a CA (ca_cert, VAULT_CACERT) instead",
            options.instance,
        )
        return False
    return ca_cert or env.get("VAULT_CACERT") or env.get("VAULT_CAPATH") or True
