"""The azure backend's options, AZURE_* variables, names and credential building."""

from __future__ import annotations

import subprocess
import sys

import pytest

from secretkit.azure._bridge import ChainTokenCredential
from secretkit.azure._names import NameMap
from secretkit.azure.config import read_settings
from secretkit.azure.credentials import credential_factories
from secretkit.core.errors import ConfigurationError, InvalidReference
from secretkit.core.options import Options

URL = "https://my-vault.vault.azure.net"
TOOLS = ("cli", "powershell", "developer_cli")  # DefaultAzureCredential's order


def _read(env=None, **values):
    return read_settings(Options(values, instance="azure", source="test"), env or {})


def test_vault_url_required_and_https() -> None:
    """vault_url is required and must be https."""
    with pytest.raises(ConfigurationError, match="vault_url"):
        _read()
    with pytest.raises(ConfigurationError, match="https"):
        _read(vault_url="http://127.0.0.1:1")


def test_explicit_credential_reads_azure_variables() -> None:
    """client_secret's fields default to AZURE_*; an option wins; missing is named."""
    env = {"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c", "AZURE_CLIENT_SECRET": "s"}
    settings = _read(env, vault_url=URL, credential="client_secret", client_id="mine")
    assert (settings.tenant_id, settings.client_id) == ("t", "mine")
    assert settings.client_secret == "s"
    assert "'s'" not in repr(settings)
    with pytest.raises(ConfigurationError, match="AZURE_FEDERATED_TOKEN_FILE"):
        _read(env, vault_url=URL, credential="workload_identity")


def test_default_reads_variables_too() -> None:
    """With credential=default the fields also come from AZURE_*; options win."""
    env = {"AZURE_CLIENT_ID": "c", "AZURE_TENANT_ID": "t"}
    settings = _read(env, vault_url=URL, tenant_id="mine")
    assert (settings.tenant_id, settings.client_id) == ("mine", "c")


def test_unknown_option() -> None:
    """An unknown key fails at configuration time."""
    with pytest.raises(ConfigurationError, match="regoin"):
        _read(vault_url=URL, regoin="x")


@pytest.mark.parametrize(
    ("method", "extra", "chain"),
    [
        ("default", {}, ("managed_identity", *TOOLS)),
        (
            "default",
            {"client_secret": "s", "token_file": "/t"},
            ("client_secret", "workload_identity", "managed_identity", *TOOLS),
        ),
        ("client_secret", {"client_secret": "s"}, ("client_secret",)),
        ("client_certificate", {"certificate_path": "/c"}, ("client_certificate",)),
        ("workload_identity", {"token_file": "/t"}, ("workload_identity",)),
        ("managed_identity", {}, ("managed_identity",)),
        ("cli", {}, ("cli",)),
        ("powershell", {}, ("powershell",)),
        ("developer_cli", {}, ("developer_cli",)),
    ],
)
def test_chain_per_method(method, extra, chain) -> None:
    """Each method keeps its provider alone; default keeps every complete one."""
    settings = _read(
        vault_url=URL, credential=method, tenant_id="t", client_id="c", **extra
    )
    bridge = ChainTokenCredential(settings, credential_factories())
    built = bridge.chain("https://vault.azure.net/.default")
    assert built is bridge.chain("https://vault.azure.net/.default")
    assert f"providers={chain!r}" in repr(built)


def test_name_map_rules() -> None:
    """dash turns runs of other characters into one dash; strict refuses them."""
    dash = NameMap(backend="azure")
    assert dash.to_vault("mlflow/auth") == "mlflow-auth"
    assert dash.to_vault("/app/db_password") == "app-db-password"
    assert dash.prefix("mlflow/") == "mlflow-"
    with pytest.raises(InvalidReference):
        dash.to_vault("///")
    with pytest.raises(InvalidReference):
        NameMap("strict", backend="azure").to_vault("a/b")
    table = NameMap(names={"x/y": "zed"}, backend="azure")
    assert (table.to_vault("x/y"), table.from_vault("zed")) == ("zed", "x/y")


def test_plugin_registers_lazily() -> None:
    """The entry point registers azure; importing it does not import the SDK."""
    code = (
        "import sys; from secretkit.azure import plugin;"
        "f = plugin.secretkit_register_backends()[0];"
        "c = plugin.secretkit_register_credential_providers();"
        "assert {x.kind for x in c} == {'azure'} and len(c) == 7;"
        "assert (f.type, f.aliases, f.runs) == ('azure', ('azure-key-vault',), "
        "'asyncio'); assert not any(m.startswith('azure') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_additionally_allowed_tenants() -> None:
    """The option wins over AZURE_ADDITIONALLY_ALLOWED_TENANTS (``;``-separated)."""
    env = {"AZURE_ADDITIONALLY_ALLOWED_TENANTS": "t1; t2;"}
    assert _read(env, vault_url=URL).additionally_allowed_tenants == ("t1", "t2")
    mine = _read(env, vault_url=URL, additionally_allowed_tenants=["*"])
    assert mine.additionally_allowed_tenants == ("*",)
    assert _read(vault_url=URL).additionally_allowed_tenants == ()


def test_env_proxies(monkeypatch) -> None:
    """HTTPS_PROXY is read once for the vault, unless NO_PROXY names its host."""
    from secretkit.azure._client import _env_proxies

    for name in ("HTTPS_PROXY", "https_proxy", "NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert _env_proxies(URL) is None
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    assert _env_proxies(URL) == {"https": "http://proxy.example:3128"}
    monkeypatch.setenv("NO_PROXY", ".vault.azure.net")
    assert _env_proxies(URL) is None


def test_max_concurrency() -> None:
    """max_concurrency defaults to 32 and must be at least 1."""
    assert _read(vault_url=URL).max_concurrency == 32
    assert _read(vault_url=URL, max_concurrency=5).max_concurrency == 5
    with pytest.raises(ConfigurationError, match="max_concurrency"):
        _read(vault_url=URL, max_concurrency=0)
