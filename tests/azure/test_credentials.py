"""Tokens from the ``azure`` chain: each credential method, renewal, plugins."""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

import anyio
import pytest

from secretkit.azure.credentials import AzureToken
from secretkit.core import SecretClient
from secretkit.core.credentials import CredentialProviderFactory, StaticProvider
from secretkit.core.secret import SecretRef

from ._direct import opened, run
from .conftest import CLIENT_ID
from .fake_keyvault import IDENTITY_HEADER, TENANT
from .fake_tools import calls, install

if TYPE_CHECKING:
    from pathlib import Path

    from ._tls import TestCertificates
    from .fake_keyvault import FakeKeyVault, Request

SCOPE = "https://vault.azure.net/.default"


def _bare(kv: FakeKeyVault, certs: TestCertificates, **more: Any) -> dict[str, Any]:
    return {
        "vault_url": kv.url,
        "ca_bundle": str(certs.ca),
        "verify_challenge_resource": False,
        "max_retries": 0,
        **more,
    }


def _form(request: Request) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(request.body.decode()).items()}


def make_client_certificate(where: Path) -> Path:
    """Write an RSA key and a self-signed certificate for it into one PEM file."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "secretkit app")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    path = where / "app.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        + cert.public_bytes(serialization.Encoding.PEM)
    )
    return path


async def test_managed_identity_endpoint(kv, certs, monkeypatch) -> None:
    """The default chain finds App Service's IDENTITY_ENDPOINT and uses its token."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{kv.url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    kv.seed("mlflow-auth", "v")
    async with opened(_bare(kv, certs)) as backend:
        assert (await run(backend.fetch, SecretRef.parse("mlflow/auth"))).value == "v"
        line = await run(backend.check)
    (asked,) = kv.token_requests()
    assert asked.path == "/msi/token"
    assert asked.query["resource"] == "https://vault.azure.net"
    assert "managed_identity answered" in line


async def test_user_assigned_managed_identity(kv, certs, monkeypatch) -> None:
    """credential=managed_identity with client_id asks for that identity."""
    monkeypatch.setenv("IDENTITY_ENDPOINT", f"{kv.url}/msi/token")
    monkeypatch.setenv("IDENTITY_HEADER", IDENTITY_HEADER)
    kv.seed("a", "v")
    options = _bare(kv, certs, credential="managed_identity", client_id=CLIENT_ID)
    async with SecretClient(backends={"azure": options}) as client:
        assert await client.get_value("azure://a") == "v"
    (asked,) = kv.token_requests()
    assert asked.query["client_id"] == CLIENT_ID


async def test_workload_identity_from_variables(kv, certs, monkeypatch, tmp_path):
    """AKS's AZURE_* variables and token file sign in by a federated assertion."""
    federated = "federated-token-CANARY-8e41"
    (tmp_path / "token").write_text(federated)
    kv.federated[CLIENT_ID] = federated
    monkeypatch.setenv("AZURE_CLIENT_ID", CLIENT_ID)
    monkeypatch.setenv("AZURE_TENANT_ID", TENANT)
    monkeypatch.setenv("AZURE_FEDERATED_TOKEN_FILE", str(tmp_path / "token"))
    monkeypatch.setenv("AZURE_AUTHORITY_HOST", kv.url)
    kv.seed("a", "v")
    async with SecretClient(backends={"azure": _bare(kv, certs)}) as client:
        assert await client.get_value("azure://a") == "v"
    (asked,) = kv.token_requests()
    assert asked.path == f"/{TENANT}/oauth2/v2.0/token"
    assert _form(asked)["client_assertion"] == federated


async def test_client_certificate(kv, certs, tmp_path) -> None:
    """A client certificate signs a JWT assertion for the configured client."""
    options = _bare(
        kv,
        certs,
        credential="client_certificate",
        tenant_id=TENANT,
        client_id=CLIENT_ID,
        certificate_path=str(make_client_certificate(tmp_path)),
        authority=kv.url,
    )
    kv.seed("a", "v")
    async with SecretClient(backends={"azure": options}) as client:
        assert await client.get_value("azure://a") == "v"
    (asked,) = kv.token_requests()
    form = _form(asked)
    assert form["client_id"] == CLIENT_ID
    assert form["client_assertion"].count(".") == 2
    assert "client_secret" not in form


class TestRenewal:
    """Tokens are renewed ahead of expiry by the chain, once for all readers."""

    async def _reads_at(
        self, kv: FakeKeyVault, options: dict[str, Any], before_expiry: float
    ) -> set[str]:
        now = [time.time()]
        kv.seed("a", "v")
        async with opened(options, clock=lambda: now[0]) as backend:
            await run(backend.fetch, SecretRef.parse("a"))
            chain = backend.vault.credential.chain(SCOPE)  # type: ignore[union-attr]
            current = await run(chain.get)
            assert current.expires_at is not None
            now[0] = current.expires_at - before_expiry
            kv.requests.clear()
            # Whole seconds: a renewal in the same second would expire as early.
            kv.token_ttl = 7200

            async def many() -> None:
                async with anyio.create_task_group() as tg:
                    for _ in range(50):
                        tg.start_soon(backend.fetch, SecretRef.parse("a"))

            await run(many)
        assert len(kv.token_requests()) == 1
        assert len(kv.vault_requests()) == 50
        return {r.headers["authorization"] for r in kv.vault_requests()}

    async def test_mandatory_window(self, kv, options) -> None:
        """A minute before expiry, 50 concurrent reads wait for one new token."""
        used = await self._reads_at(kv, options, before_expiry=30)
        assert len(used) == 1  # everyone got the new token

    async def test_advisory_window(self, kv, options) -> None:
        """Five minutes before expiry, one read renews while the others go on."""
        used = await self._reads_at(kv, options, before_expiry=200)
        assert 1 <= len(used) <= 2

    async def test_fresh_token_is_reused(self, kv, options) -> None:
        """Outside the windows, reads cost no token request."""
        kv.seed("a", "v")
        async with opened(options) as backend:
            for _ in range(5):
                await run(backend.fetch, SecretRef.parse("a"))
        assert len(kv.token_requests()) == 1


async def test_plugin_provider_comes_first(kv, certs) -> None:
    """A plugin's factory of kind azure (order 5) answers before the built-ins."""
    token = "plugin-token-CANARY-0b7c"
    kv.tokens.add(token)
    static = StaticProvider(
        "static",
        AzureToken(token=token, expires_on=int(time.time()) + 3600),
        expires_at=time.time() + 3600,
    )

    class Plugins:
        def credential_factories(self, kind: str) -> list[CredentialProviderFactory]:
            assert kind == "azure"
            return [
                CredentialProviderFactory(
                    kind="azure", name="static", create=lambda o: static, order=5
                )
            ]

    kv.seed("a", "v")
    async with opened(_bare(kv, certs), plugins=Plugins()) as backend:
        assert (await run(backend.fetch, SecretRef.parse("a"))).value == "v"
        assert "static answered" in await run(backend.check)
    assert kv.token_requests() == []
    assert "CANARY" not in repr(static) + repr(await static.load())


async def test_default_chain_with_nothing_configured(kv, certs, monkeypatch, tmp_path):
    """With no credential here, the default chain's CredentialError names each tried."""
    from secretkit.core.errors import CredentialError

    # IMDS (the fake's, not 169.254.169.254) says this VM has no identity; no az.
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", kv.url)
    monkeypatch.setenv("PATH", str(tmp_path))
    kv.seed("a", "v")
    async with SecretClient(backends={"azure": _bare(kv, certs)}) as client:
        tried = "tried: managed_identity, cli, powershell, developer_cli"
        with pytest.raises(CredentialError, match=tried):
            await client.get("azure://a")
    (asked,) = kv.token_requests()
    assert asked.path == "/metadata/identity/oauth2/token"
    assert [r for r in kv.vault_requests() if "authorization" in r.headers] == []


class TestDeveloperTools:
    """az, azd and pwsh on PATH answer for cli, developer_cli and powershell."""

    @pytest.mark.parametrize("method", ["cli", "developer_cli", "powershell"])
    async def test_tool_token_reaches_the_vault(
        self, kv, certs, monkeypatch, tmp_path, method
    ) -> None:
        """The tool is asked for the vault's resource and tenant; its token is used."""
        token = f"{method}-token-CANARY-4d2e"
        kv.tokens.add(token)
        install(tmp_path, method, token=token, tenant=TENANT)
        monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
        kv.seed("a", "v")
        async with opened(_bare(kv, certs, credential=method)) as backend:
            assert (await run(backend.fetch, SecretRef.parse("a"))).value == "v"
            line = await run(backend.check)
        assert len(calls(tmp_path, method)) == 1
        signed = [r for r in kv.vault_requests() if "authorization" in r.headers]
        assert {r.headers["authorization"] for r in signed} == {f"Bearer {token}"}
        assert f"{method} answered: Azure" in line
        assert f"tenant {TENANT}" in line
        assert token not in line

    async def test_default_chain_reaches_developer_cli(
        self, kv, certs, monkeypatch, tmp_path
    ) -> None:
        """With only azd here, the default chain passes az and pwsh and uses azd."""
        token = "azd-token-CANARY-0e9a"
        kv.tokens.add(token)
        install(tmp_path, "developer_cli", token=token, tenant=TENANT)
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", kv.url)
        monkeypatch.setenv("PATH", str(tmp_path))  # no az, no pwsh
        kv.seed("a", "v")
        async with opened(_bare(kv, certs)) as backend:
            assert (await run(backend.fetch, SecretRef.parse("a"))).value == "v"
            assert "developer_cli answered" in await run(backend.check)

    @pytest.mark.parametrize(
        ("method", "said", "hint"),
        [
            ("cli", "ERROR: Please run 'az login' to setup account.", "az login"),
            (
                "developer_cli",
                "ERROR: not logged in, run `azd auth login` to login",
                "azd auth login",
            ),
            ("powershell", "Run Connect-AzAccount to login.", "Connect-AzAccount"),
        ],
    )
    async def test_signed_out_tool(
        self, kv, certs, monkeypatch, tmp_path, method, said, hint
    ) -> None:
        """A signed-out tool is a CredentialError naming the method and the fix."""
        from secretkit.core.errors import CredentialError

        install(tmp_path, method, token="unused", tenant=TENANT, fail=said)
        monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
        async with SecretClient(
            backends={"azure": _bare(kv, certs, credential=method)}
        ) as client:
            with pytest.raises(CredentialError) as caught:
                await client.get("azure://a")
        assert f"azure credential {method!r} is not available here" in str(caught.value)
        assert hint in str(caught.value)
        assert len(calls(tmp_path, method)) == 1

    async def test_every_tool_signed_out(self, kv, certs, monkeypatch, tmp_path):
        """The default chain's CredentialError names every credential it tried."""
        from secretkit.core.errors import CredentialError

        for method, said in [
            ("cli", "Please run 'az login' to setup account."),
            ("developer_cli", "not logged in, run `azd auth login` to login"),
            ("powershell", "Run Connect-AzAccount to login."),
        ]:
            install(tmp_path, method, token="unused", tenant=TENANT, fail=said)
        monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", kv.url)
        monkeypatch.setenv("PATH", str(tmp_path))
        async with SecretClient(backends={"azure": _bare(kv, certs)}) as client:
            with pytest.raises(CredentialError) as caught:
                await client.get("azure://a")
        tried = "tried: managed_identity, cli, powershell, developer_cli"
        assert tried in str(caught.value)
        for method in ("cli", "developer_cli", "powershell"):
            assert len(calls(tmp_path, method)) == 1
