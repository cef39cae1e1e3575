"""Real servers for the operations commands, started once per session.

A moto server, ``bao server -dev`` and the fake Key Vault over HTTPS, each
started by the same helpers the backend tests use. Tests share them and keep
apart by name: every test writes under its own ``unique`` prefix. Each test gets
a ``secretkit.toml`` naming the four backends (``aws``, ``vault``, ``azure`` and
``file``, a JSON file) and runs the ``secretkit`` command in-process.
"""

from __future__ import annotations

import json
import os
import sys
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from secretkit.core.cli import main
from tests.aws.moto_process import identity, moto_server
from tests.azure._tls import TestCertificates, make_certificates
from tests.azure.fake_keyvault import TENANT, FakeKeyVault
from tests.vault.bao_process import ROOT_TOKEN, bao_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

CANARY = "CANARY-ops-7d2c"
CLIENT_ID = "22222222-3333-4444-5555-666666666666"
CLIENT_SECRET = f"client-secret-{CANARY}"


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server on a free loopback port, for the session."""
    with moto_server(tmp_path_factory.mktemp("ops-moto")) as url:
        yield url


@pytest.fixture(scope="session")
def vault_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``bao server -dev`` on free loopback ports, for the session."""
    with bao_server(tmp_path_factory.mktemp("ops-bao")) as url:
        yield url


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> TestCertificates:
    """A CA and a loopback server certificate for the fake Key Vault."""
    return make_certificates(tmp_path_factory.mktemp("ops-tls"))


@pytest.fixture(scope="session")
def key_vault(certs: TestCertificates) -> Iterator[FakeKeyVault]:
    """The fake Key Vault, one app registered, for the session."""
    with FakeKeyVault(certs) as server:
        server.clients[CLIENT_ID] = CLIENT_SECRET
        yield server


@pytest.fixture
def unique() -> str:
    """A name prefix no other test uses: the servers are shared."""
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def boto(moto_url: str) -> Any:
    """A plain boto3 Secrets Manager client, to arrange and inspect."""
    import boto3

    return boto3.client(
        "secretsmanager",
        region_name="us-east-1",
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


@pytest.fixture
def bao(vault_url: str) -> Any:
    """A plain hvac client with the root token, to arrange and inspect."""
    import hvac

    return hvac.Client(url=vault_url, token=ROOT_TOKEN)


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """The ``file`` backend's JSON file (write it before running a command)."""
    return tmp_path / "secrets.json"


@pytest.fixture
def config(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    moto_url: str,
    vault_url: str,
    key_vault: FakeKeyVault,
    certs: TestCertificates,
    files: Path,
) -> Path:
    """A secretkit.toml for the four backends; no outside AWS/VAULT/AZURE settings."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "VAULT_", "AZURE_", "SECRETKIT_")):
            monkeypatch.delenv(name)
    for name, value in identity(tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "secretkit.toml"
    path.write_text(
        backends_toml(moto_url, vault_url, key_vault.url, certs, files, ROOT_TOKEN)
    )
    return path


def backends_toml(
    moto_url: str,
    vault_url: str,
    key_vault_url: str,
    certs: TestCertificates,
    files: Path,
    vault_token: str,
) -> str:
    """The configuration text for the four backends."""
    text = json.dumps
    return f"""
default = "aws"

[backends.aws]
region = "us-east-1"
endpoint_url = {text(moto_url)}
max_attempts = 1

[backends.vault]
url = {text(vault_url)}
token = {text(vault_token)}

[backends.azure]
vault_url = {text(key_vault_url)}
credential = "client_secret"
tenant_id = {text(TENANT)}
client_id = {text(CLIENT_ID)}
client_secret = {text(CLIENT_SECRET)}
authority = {text(key_vault_url)}
ca_bundle = {text(str(certs.ca))}
verify_challenge_resource = false
max_retries = 1
retry_backoff_factor = 0.0

[backends.file]
path = {text(str(files))}
"""


@dataclass
class Ran:
    """What one command did: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    def json(self) -> Any:
        """Stdout parsed as JSON."""
        return json.loads(self.out)

    def statuses(self) -> dict[str, str]:
        """Destination to status, from a --json report."""
        return {row["destination"]: row["status"] for row in self.json()["secrets"]}


@pytest.fixture
def cli(
    config: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Callable[..., Ran]:
    """Run ``secretkit -v --config <config> ARGV`` in-process; stdin is a pipe.

    Every run asserts that the canary is nowhere in its output or log.
    """

    def run(*argv: str, stdin: bytes = b"", config_path: Path | None = None) -> Ran:
        monkeypatch.setattr(sys, "stdin", _Pipe(stdin))
        where = str(config_path or config)
        code = main(["-v", "--config", where, *argv])
        out, err = capsys.readouterr()
        assert CANARY not in out + err  # every command, verbose, leaks nothing
        return Ran(code, out, err)

    return run


class _Pipe:
    """Stands for sys.stdin when it is a pipe holding some bytes."""

    def __init__(self, data: bytes) -> None:
        import io

        self.buffer = io.BytesIO(data)

    def isatty(self) -> bool:
        return False
