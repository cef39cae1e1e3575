"""The options of the ``azure`` backend, read and checked once.

Every option may also come from ``SECRETKIT_AZURE_<OPTION>``. The credential's
fields default to the ``AZURE_*`` variables azure-identity documents
(``AZURE_TENANT_ID``, ``AZURE_CLIENT_ID``, ``AZURE_CLIENT_SECRET``,
``AZURE_CLIENT_CERTIFICATE_PATH``, ``AZURE_CLIENT_CERTIFICATE_PASSWORD``,
``AZURE_FEDERATED_TOKEN_FILE``, ``AZURE_AUTHORITY_HOST``), and
``additionally_allowed_tenants`` to ``AZURE_ADDITIONALLY_ALLOWED_TENANTS``
(``;``-separated, as the Azure SDKs for .NET, Java and JavaScript read it); an
option given here wins. An explicit ``credential`` needs its fields; ``default``
uses whichever credentials they complete (see ``credentials``).
"""

from __future__ import annotations

__all__ = ("CREDENTIALS", "AzureSettings", "read_settings")

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, cast

from ._names import NAME_RULES

if TYPE_CHECKING:
    from collections.abc import Mapping

    from secretkit.core.options import Options

CREDENTIALS: Final = (
    "default",
    "client_secret",
    "client_certificate",
    "workload_identity",
    "managed_identity",
    "cli",
    "powershell",
    "developer_cli",
)
# What each explicit credential needs, and the variable each field defaults to.
_ENV: Final = {
    "tenant_id": "AZURE_TENANT_ID",
    "client_id": "AZURE_CLIENT_ID",
    "client_secret": "AZURE_CLIENT_SECRET",
    "certificate_path": "AZURE_CLIENT_CERTIFICATE_PATH",
    "certificate_password": "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "token_file": "AZURE_FEDERATED_TOKEN_FILE",
    "authority": "AZURE_AUTHORITY_HOST",
}
_NEEDS: Final[Mapping[str, tuple[str, ...]]] = {
    "client_secret": ("tenant_id", "client_id", "client_secret"),
    "client_certificate": ("tenant_id", "client_id", "certificate_path"),
    "workload_identity": ("tenant_id", "client_id", "token_file"),
}


@dataclass(frozen=True, slots=True, kw_only=True)
class AzureSettings:
    """One Key Vault backend instance's settings.

    :param vault_url: the vault, ``https://<name>.vault.azure.net``
    :param credential: ``default``, ``client_secret``, ``client_certificate``,
        ``workload_identity``, ``managed_identity``, ``cli``, ``powershell`` or
        ``developer_cli``
    :param tenant_id: the Entra ID tenant
    :param client_id: the application (or user-assigned identity) client id
    :param client_secret: the application's client secret (never shown)
    :param certificate_path: a PEM or PKCS12 client certificate
    :param certificate_password: its password (never shown)
    :param token_file: the federated token file (workload identity)
    :param authority: the Entra ID authority host
    :param additionally_allowed_tenants: tenants besides ``tenant_id`` a token
        may be asked for when a vault's challenge names one (``*``: any)
    :param ca_bundle: a PEM file of CAs to trust for the vault and token endpoints
    :param verify_challenge_resource: check that the vault's bearer challenge
        names a resource of the vault's domain (turn off only for private hosts)
    :param name_map: ``dash`` (default) or ``strict``; see ``_names``
    :param names: explicit names, ours to Key Vault's
    :param api_version: the Key Vault API version; else the SDK's
    :param max_retries: retries on 408/429/5xx and connection errors
    :param retry_backoff_factor: seconds of the exponential backoff's base
    :param retry_backoff_max: the longest wait between retries, in seconds
    :param connect_timeout: seconds to connect
    :param read_timeout: seconds to wait for a response
    :param max_concurrency: the most requests in flight to the vault at once:
        the size of the connection pool (what bounds ``get_many``)
    :param check_secret: a secret ``doctor`` checks is readable (never shown)
    """

    vault_url: str
    credential: str = "default"
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: str | None = field(default=None, repr=False)
    certificate_path: str | None = None
    certificate_password: str | None = field(default=None, repr=False)
    token_file: str | None = None
    authority: str | None = None
    additionally_allowed_tenants: tuple[str, ...] = ()
    ca_bundle: str | None = None
    verify_challenge_resource: bool = True
    name_map: str = "dash"
    names: Mapping[str, str] = field(default_factory=dict)
    api_version: str | None = None
    max_retries: int = 4
    retry_backoff_factor: float = 0.8
    retry_backoff_max: float = 60.0
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_concurrency: int = 32
    check_secret: str | None = None


def read_settings(
    options: Options, environ: Mapping[str, str] | None = None
) -> AzureSettings:
    """Read a Key Vault backend's options (and, for its credential, ``AZURE_*``).

    :raises ConfigurationError: naming the option at fault and its source
    """
    env = os.environ if environ is None else environ
    vault_url = options.get_str("vault_url").rstrip("/")
    if not vault_url.startswith("https://"):
        raise options.error("vault_url", "must be an https:// URL")
    method = cast("str", options.get_choice("credential", CREDENTIALS, "default"))
    fields: dict[str, str | None] = {}
    for key, variable in _ENV.items():
        fields[key] = options.get_str(key, None) or env.get(variable) or None
    for key in _NEEDS.get(method, ()):
        if fields[key] is None:
            raise options.error(
                key, f"is required for credential={method!r} (or set {_ENV[key]})"
            )
    variable = env.get("AZURE_ADDITIONALLY_ALLOWED_TENANTS", "")
    allowed = options.get_str_list(
        "additionally_allowed_tenants",
        [tenant.strip() for tenant in variable.split(";") if tenant.strip()],
    )
    names = options.get_mapping("names", {})
    for ours, vault in names.items():
        if not isinstance(vault, str):
            raise options.error("names", f"the entry for {ours!r} must be text")
    retries = options.get_int("max_retries", 4)
    if retries < 0:
        raise options.error("max_retries", "must be 0 or more")
    concurrency = options.get_int("max_concurrency", 32)
    if concurrency < 1:
        raise options.error("max_concurrency", "must be 1 or more")
    settings = AzureSettings(
        vault_url=vault_url,
        credential=method,
        **fields,
        additionally_allowed_tenants=tuple(allowed),
        ca_bundle=options.get_str("ca_bundle", None),
        verify_challenge_resource=options.get_bool("verify_challenge_resource", True),
        name_map=cast("str", options.get_choice("name_map", NAME_RULES, "dash")),
        names=cast("dict[str, str]", names),
        api_version=options.get_str("api_version", None),
        max_retries=retries,
        retry_backoff_factor=options.get_float("retry_backoff_factor", 0.8),
        retry_backoff_max=options.get_float("retry_backoff_max", 60.0),
        connect_timeout=options.get_float("connect_timeout", 5.0),
        read_timeout=options.get_float("read_timeout", 30.0),
        max_concurrency=concurrency,
        check_secret=options.get_str("check_secret", None),
    )
    options.done()
    return settings
