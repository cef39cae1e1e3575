"""End to end, as a deployment uses secretkit: a config file, the CLI, two backends.

A service's ``secretkit.toml`` names an AWS instance (a real moto server) and a
Kubernetes-style mounted directory. The installed ``secretkit`` command and a
``SyncSecretClient`` both read through it, in fresh processes where it matters.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from typing import TYPE_CHECKING

import boto3
import pytest

from secretkit.core import SyncSecretClient
from tests.aws.moto_process import identity, moto_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CANARY = "CANARY-e2e-5c1f"


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server holding the service's database secret."""
    with moto_server(tmp_path_factory.mktemp("moto-e2e")) as url:
        boto3.client(
            "secretsmanager",
            region_name="eu-west-1",
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        ).create_secret(
            Name="svc/db", SecretString=json.dumps({"user": "svc", "password": CANARY})
        )
        yield url


@pytest.fixture
def deployment(tmp_path: Path, moto: str) -> tuple[Path, dict[str, str]]:
    """A working directory with secretkit.toml, a mounted secret dir, and its env."""
    mounted = tmp_path / "etc-secrets"
    (mounted / "..2026_11_23").mkdir(parents=True)
    (mounted / "..2026_11_23" / "api-key").write_text(f"{CANARY}-api")
    (mounted / "..data").symlink_to("..2026_11_23")
    (mounted / "api-key").symlink_to("..data/api-key")
    (tmp_path / "secretkit.toml").write_text(
        f"""
default = "prod"

[backends.prod]
type = "aws"
region = "eu-west-1"
endpoint_url = "{moto}"
sts_endpoint_url = "{moto}"

[backends.k8s]
type = "file"
path = "{mounted}"
"""
    )
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SECRETKIT_"))
    }
    env |= identity(tmp_path)
    return tmp_path, env


def _cli(
    cwd: Path, env: dict[str, str], *args: str
) -> subprocess.CompletedProcess[str]:
    program = shutil.which("secretkit", path=os.path.dirname(sys.executable))
    command = [program] if program else [sys.executable, "-m", "secretkit.core.cli"]
    return subprocess.run(
        [*command, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_reads_both_backends_masked_then_revealed(deployment) -> None:
    """The command finds ./secretkit.toml, masks by default and reveals on request."""
    cwd, env = deployment
    masked = _cli(cwd, env, "get", "svc/db#password")
    assert masked.returncode == 0, masked.stderr
    assert "****" in masked.stdout
    assert CANARY not in masked.stdout + masked.stderr
    revealed = _cli(cwd, env, "get", "k8s://api-key", "--reveal")
    assert (revealed.returncode, revealed.stdout.strip()) == (0, f"{CANARY}-api")
    missing = _cli(cwd, env, "get", "svc/nope")
    assert missing.returncode == 3
    assert missing.stderr.startswith("secretkit: error: ")
    assert "Traceback" not in missing.stderr


def test_doctor_checks_every_backend(deployment) -> None:
    """doctor reports the AWS identity and the mounted directory, and exits 0."""
    cwd, env = deployment
    result = _cli(cwd, env, "doctor")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "prod" in result.stdout
    assert "k8s" in result.stdout
    assert CANARY not in result.stdout + result.stderr


def test_sync_client_from_the_config(deployment, monkeypatch) -> None:
    """A blocking client built from the same file reads fields from both backends."""
    cwd, env = deployment
    monkeypatch.chdir(cwd)
    for key in list(os.environ):
        if key.startswith(("AWS_", "SECRETKIT_")):
            monkeypatch.delenv(key)
    for key, value in env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    with SyncSecretClient.from_config() as client:
        assert client.get_value("svc/db#user") == "svc"
        assert client.get_value("k8s://api-key") == f"{CANARY}-api"
        assert client.get("svc/db").metadata["region"] == "eu-west-1"
