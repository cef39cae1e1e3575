"""A real OpenBao dev server for the Vault tests, started once per session."""

from __future__ import annotations

import os
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from .bao_process import ROOT_TOKEN, bao_server, bao_tls_server
from .login_setup import Logins, enable_logins
from .tls_files import TlsFiles, make_tls_files

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="session")
def vault_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of ``bao server -dev`` on free loopback ports, for the session."""
    with bao_server(tmp_path_factory.mktemp("bao")) as url:
        yield url


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def tls_vault(
    tmp_path_factory: pytest.TempPathFactory, tls_files: TlsFiles
) -> Iterator[tuple[str, str]]:
    """A second dev server with a TLS listener requiring client certificates.

    :return: its plain URL (to arrange) and its HTTPS URL (under test)
    """
    with bao_tls_server(
        tmp_path_factory.mktemp("bao-tls"),
        cert=tls_files.server.cert,
        key=tls_files.server.key,
        client_ca=tls_files.client_cert,
    ) as urls:
        yield urls


@pytest.fixture(scope="session")
def root(vault_url: str) -> Any:
    """A plain hvac client with the root token, to arrange what tests read."""
    import hvac

    client = hvac.Client(url=vault_url, token=ROOT_TOKEN)
    client.sys.enable_secrets_engine("kv", path="kv1", options={"version": "1"})
    return client


@pytest.fixture(scope="session")
def logins(root: Any) -> Logins:
    """AppRole, userpass and JWT enabled once on the session's server."""
    return enable_logins(root)


@pytest.fixture(autouse=True)
def vault_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No real VAULT_* or SECRETKIT_* variables, and a HOME without a token file."""
    for name in list(os.environ):
        if name.startswith(("VAULT_", "SECRETKIT_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))


@pytest.fixture
def options(vault_url: str) -> dict[str, object]:
    """Backend options for the dev server with the root token."""
    return {"url": vault_url, "token": ROOT_TOKEN}


@pytest.fixture
def unique() -> str:
    """A path segment no other test uses: tests share one server."""
    return f"t{uuid.uuid4().hex[:10]}"
