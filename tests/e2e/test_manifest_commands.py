"""End to end: verify, run and export a manifest over a real moto server and files.

The installed ``secretkit`` command runs in fresh processes, from a directory with a
``secretkit.toml`` (an AWS instance on moto, and a Kubernetes-style mounted
directory) and a ``secretkit-manifest.toml`` beside it, as a deployment has them.
"""

from __future__ import annotations

import base64
import json
import os
import stat
import sys
from typing import TYPE_CHECKING

import boto3
import pytest
import yaml

from tests.aws.moto_process import identity, moto_server
from tests.e2e.test_deployment import _cli

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

CANARY = "CANARY-e2e-manifest-93b1"
MANIFEST = """\
[secrets.db_password]
ref = "svc/db#password"
min_length = 16
max_age = "1d"

[secrets.db]
ref = "svc/db"
fields = ["user", "password"]
file = "db/credentials.json"

[secrets.tls_key]
ref = "svc/tls"

[secrets.api_key]
ref = "k8s://api-key"
env = "API_KEY"
"""
# The child reports its variables and mounted files as JSON on stdout.
REPORT = """\
import json, os
where = os.environ.get("SECRETKIT_SECRETS_DIR")
files = {}
for root, _, names in os.walk(where or "/nonexistent"):
    for name in names:
        path = os.path.join(root, name)
        files[os.path.relpath(path, where)] = open(path, "rb").read().hex()
keys = ("DB_PASSWORD", "DB", "API_KEY", "TLS_KEY")
print(json.dumps({"env": {k: os.environ.get(k) for k in keys}, "files": files,
                  "dir": where}))
"""


@pytest.fixture(scope="module")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server holding the service's secrets: JSON, and binary."""
    with moto_server(tmp_path_factory.mktemp("moto-manifest")) as url:
        client = boto3.client(
            "secretsmanager",
            region_name="eu-west-1",
            endpoint_url=url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        client.create_secret(
            Name="svc/db",
            SecretString=json.dumps({"user": "svc", "password": f"{CANARY}-db"}),
        )
        client.create_secret(Name="svc/tls", SecretBinary=b"\x00\xff" + CANARY.encode())
        yield url


@pytest.fixture
def deployment(tmp_path: Path, moto: str) -> tuple[Path, dict[str, str]]:
    """A working directory with secretkit.toml, a manifest and a mounted dir; env."""
    mounted = tmp_path / "etc-secrets"
    mounted.mkdir()
    (mounted / "api-key").write_text(f"{CANARY}-api")
    (tmp_path / "secretkit.toml").write_text(
        f'default = "prod"\n\n[backends.prod]\ntype = "aws"\nregion = "eu-west-1"\n'
        f'endpoint_url = "{moto}"\n\n'
        f'[backends.k8s]\ntype = "file"\npath = "{mounted}"\n'
    )
    (tmp_path / "secretkit-manifest.toml").write_text(MANIFEST)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "SECRETKIT_"))
    }
    env |= identity(tmp_path)
    return tmp_path, env


def test_verify_ok_then_missing(deployment) -> None:
    """verify finds the manifest, reports AWS versions and ages, then a missing one."""
    cwd, env = deployment
    result = _cli(cwd, env, "-v", "verify", "--json")
    assert result.returncode == 0, result.stderr
    records = {r["name"]: r for r in json.loads(result.stdout)["secrets"]}
    assert records["db_password"]["backend"] == "prod"
    assert records["db_password"]["version"]  # AWS's version id
    assert 0 <= records["db_password"]["age_seconds"] < 86400
    assert records["api_key"]["backend"] == "k8s"
    assert CANARY not in result.stdout + result.stderr
    manifest = cwd / "secretkit-manifest.toml"
    manifest.write_text(MANIFEST + '\n[secrets.gone]\nref = "svc/gone"\n')
    result = _cli(cwd, env, "verify")
    assert result.returncode == 1
    assert "missing" in next(
        line for line in result.stdout.splitlines() if line.startswith("gone")
    )
    assert result.stderr == "secretkit: verify: 1 of 5 secrets not ok\n"


def test_verify_reports_a_bad_manifest_with_its_line(deployment) -> None:
    """A typo in the manifest is one error naming file and line; exit 2."""
    cwd, env = deployment
    (cwd / "secretkit-manifest.toml").write_text(MANIFEST.replace("fields", "feilds"))
    result = _cli(cwd, env, "verify")
    assert result.returncode == 2
    assert result.stderr.startswith(
        "secretkit: error: secretkit-manifest.toml:8: unknown key 'feilds'"
    )


def test_run_passes_variables_and_files(deployment) -> None:
    """run gives the child each text secret as a variable and all as files."""
    cwd, env = deployment
    result = _cli(cwd, env, "run", "--mount", "--", sys.executable, "-c", REPORT)
    assert result.returncode == 0, result.stderr
    got = json.loads(result.stdout)
    assert got["env"]["DB_PASSWORD"] == f"{CANARY}-db"
    assert json.loads(got["env"]["DB"]) == {"user": "svc", "password": f"{CANARY}-db"}
    assert got["env"]["API_KEY"] == f"{CANARY}-api"
    assert got["env"]["TLS_KEY"] is None  # binary: a file only
    assert bytes.fromhex(got["files"]["tls_key"]) == b"\x00\xff" + CANARY.encode()
    assert (
        bytes.fromhex(got["files"]["db/credentials.json"]).decode() == got["env"]["DB"]
    )
    assert not os.path.exists(got["dir"])
    assert result.stderr == ""


def test_export_k8s_secret_and_dotenv(deployment) -> None:
    """export writes a k8s Secret that parses as YAML, and a 0600 .env file."""
    cwd, env = deployment
    result = _cli(cwd, env, "export", "--format", "k8s-secret", "--name", "svc")
    assert result.returncode == 0, result.stderr
    data = yaml.safe_load(result.stdout)["data"]
    assert base64.b64decode(data["tls_key"]) == b"\x00\xff" + CANARY.encode()
    assert base64.b64decode(data["db_password"]).decode() == f"{CANARY}-db"
    without_binary = MANIFEST.replace('[secrets.tls_key]\nref = "svc/tls"\n', "")
    (cwd / "secretkit-manifest.toml").write_text(without_binary)
    result = _cli(cwd, env, "-v", "export", "--format", "dotenv", "-o", ".env")
    assert result.returncode == 0, result.stderr
    written = cwd / ".env"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert f"DB_PASSWORD='{CANARY}-db'\n" in written.read_text()
    assert CANARY not in result.stdout + result.stderr
    again = _cli(cwd, env, "export", "--format", "dotenv", "-o", ".env")
    assert again.returncode == 2
    assert "exists: pass --force" in again.stderr
