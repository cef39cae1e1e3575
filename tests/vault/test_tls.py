"""The connection tests again over HTTPS, and the ``cert`` login, on a TLS dev server.

The second dev server's TLS listener serves a certificate for 127.0.0.1 signed by
the test CA and requires a client certificate (the test's self-signed one). Its
plain listener arranges what the tests read.
"""

from __future__ import annotations

import logging
import shutil
from typing import TYPE_CHECKING, Any

import pytest
import urllib3.exceptions

from secretkit.core import SecretClient
from secretkit.core.errors import BackendUnavailable, ConfigurationError

from .bao_process import ROOT_TOKEN
from .login_setup import READER

if TYPE_CHECKING:
    from pathlib import Path

    from .tls_files import TlsFiles


@pytest.fixture(scope="module")
def tls_root(tls_vault: tuple[str, str]) -> Any:
    """A root hvac client on the TLS server's plain listener."""
    import hvac

    client = hvac.Client(url=tls_vault[0], token=ROOT_TOKEN)
    client.sys.create_or_update_policy("reader", READER)
    return client


@pytest.fixture
def secret(tls_root: Any, unique: str) -> str:
    """A KV v2 secret on the TLS server; its name."""
    tls_root.secrets.kv.v2.create_or_update_secret(unique, secret={"pw": "tls"})
    return f"secret/{unique}"


@pytest.fixture
def client_env(
    monkeypatch: pytest.MonkeyPatch, tls_vault: tuple[str, str], tls_files: TlsFiles
) -> None:
    """VAULT_ADDR (HTTPS), VAULT_TOKEN and the client certificate variables."""
    monkeypatch.setenv("VAULT_ADDR", tls_vault[1])
    monkeypatch.setenv("VAULT_TOKEN", ROOT_TOKEN)
    monkeypatch.setenv("VAULT_CLIENT_CERT", str(tls_files.client_cert))
    monkeypatch.setenv("VAULT_CLIENT_KEY", str(tls_files.client_key))


async def _read(name: str, **options: object) -> str:
    async with SecretClient(backends={"vault": options}) as client:
        found = await client.get_value(f"vault://{name}#pw")
        batch = await client.get_many([f"vault://{name}?version=1"])
    assert batch.errors == {}
    return str(found)


class TestTrust:
    """The server is trusted as the Vault CLI decides it."""

    async def test_cacert(self, client_env, monkeypatch, tls_files, secret) -> None:
        """VAULT_CACERT and the client certificate variables: reads work."""
        monkeypatch.setenv("VAULT_CACERT", str(tls_files.server.ca))
        assert await _read(secret) == "tls"

    async def test_capath_any_file_names(
        self, client_env, monkeypatch, tls_files, secret, tmp_path: Path
    ) -> None:
        """VAULT_CAPATH: a directory of PEM files, not openssl-rehash named."""
        folder = tmp_path / "cas"
        (folder / "more").mkdir(parents=True)
        shutil.copy(tls_files.server.ca, folder / "more" / "company-root.crt")
        shutil.copy(tls_files.client_cert, folder / "other.pem")
        (folder / "README").write_text("not a certificate\n")
        monkeypatch.setenv("VAULT_CAPATH", str(folder))
        assert await _read(secret) == "tls"

    async def test_capath_without_certificates(
        self, client_env, monkeypatch, secret, tmp_path: Path
    ) -> None:
        """A CA directory without a certificate is a ConfigurationError naming it."""
        monkeypatch.setenv("VAULT_CAPATH", str(tmp_path))
        with pytest.raises(ConfigurationError, match="CA directory"):
            await _read(secret)

    async def test_options_win(self, tls_vault, tls_files, secret) -> None:
        """The url, ca_cert, client_cert and client_key options, no variables."""
        found = await _read(
            secret,
            url=tls_vault[1],
            token=ROOT_TOKEN,
            ca_cert=str(tls_files.server.ca),
            client_cert=str(tls_files.client_cert),
            client_key=str(tls_files.client_key),
        )
        assert found == "tls"

    async def test_untrusted_server(self, client_env, secret) -> None:
        """Without the CA, the server's certificate is refused: BackendUnavailable."""
        with pytest.raises(BackendUnavailable, match="not trusted") as caught:
            await _read(secret)
        assert "ca_cert" in str(caught.value)

    async def test_no_client_certificate(
        self, client_env, monkeypatch, tls_files, secret
    ) -> None:
        """The server asks a client certificate; without one the handshake fails."""
        monkeypatch.setenv("VAULT_CACERT", str(tls_files.server.ca))
        monkeypatch.delenv("VAULT_CLIENT_CERT")
        monkeypatch.delenv("VAULT_CLIENT_KEY")
        with pytest.raises(BackendUnavailable, match="TLS handshake failed"):
            await _read(secret, retries=0)

    async def test_skip_verify_warns(self, client_env, monkeypatch, secret, caplog):
        """VAULT_SKIP_VERIFY reads without trust, logging and warning each time."""
        monkeypatch.setenv("VAULT_SKIP_VERIFY", "true")
        caplog.set_level(logging.WARNING)
        with pytest.warns(urllib3.exceptions.InsecureRequestWarning):
            assert await _read(secret) == "tls"
        assert "TLS verification is OFF" in caplog.text


class TestCertLogin:
    """auth = cert logs in with the client certificate the connection presents."""

    @pytest.fixture
    def cert_mount(self, tls_root: Any, tls_files: TlsFiles, unique: str) -> str:
        """A cert auth mount trusting the client certificate as role ``web``."""
        mount = f"cert-{unique}"
        tls_root.sys.enable_auth_method("cert", path=mount)
        tls_root.write(
            f"auth/{mount}/certs/web",
            certificate=tls_files.client_cert.read_text(),
            token_policies=["reader"],
            token_ttl=3600,
        )
        return mount

    async def test_cert_login(self, tls_vault, tls_files, cert_mount, secret) -> None:
        """The login's token carries the role's policies and reads the secret."""
        from secretkit.core.options import Options
        from secretkit.vault.config import read_settings
        from secretkit.vault.credentials import chain_for

        options = {
            "url": tls_vault[1],
            "auth": "cert",
            "auth_mount": cert_mount,
            "role": "web",
            "ca_cert": str(tls_files.server.ca),
            "client_cert": str(tls_files.client_cert),
            "client_key": str(tls_files.client_key),
        }
        assert await _read(secret, **options) == "tls"
        settings = read_settings(Options(options, instance="v", source="t"), {})
        found = await chain_for(settings, name="v").get()
        assert found.metadata["auth"] == "cert"
        assert found.metadata["policies"] == ("default", "reader")
        assert found.expires_at is not None
