"""Drop-in: mlflow-secrets-auth's variables, unchanged, against real secret stores.

Each test sets only the incumbent's variables (and the store's own: AWS_*, VAULT_*,
AZURE_*), plus MLFLOW_TRACKING_AUTH=secretkit, and logs to the real server.
"""

from __future__ import annotations

import json
import urllib.request
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from secretkit.core.errors import (
    AccessDenied,
    BackendUnavailable,
    CredentialError,
    SecretkitError,
)
from tests.aws.moto_process import identity, moto_server

from .test_provider import _client, _log_a_run

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from tests.azure._tls import TestCertificates
    from tests.azure.fake_keyvault import FakeKeyVault

    from .tracking import Gate, Tracking

CLIENT_ID = "11111111-2222-3333-4444-555555555555"
CLIENT_SECRET = "client-secret-for-mlflow-tests"


def _azure_identity(key_vault: FakeKeyVault, certs: TestCertificates) -> dict[str, str]:
    """A client-secret identity for the test Key Vault, its private CA trusted."""
    from tests.azure.fake_keyvault import TENANT

    return {
        "AZURE_TENANT_ID": TENANT,
        "AZURE_CLIENT_ID": CLIENT_ID,
        "AZURE_CLIENT_SECRET": CLIENT_SECRET,
        "AZURE_AUTHORITY_HOST": key_vault.url,
        # The fake vault's private CA and loopback host, as secretkit options.
        "SECRETKIT_AZURE_CREDENTIAL": "client_secret",
        "SECRETKIT_AZURE_CA_BUNDLE": str(certs.ca),
        "SECRETKIT_AZURE_VERIFY_CHALLENGE_RESOURCE": "false",
    }


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server for the AWS variables."""
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture
def aws(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Any:
    """AWS variables for moto, and a boto3 client to store secrets with."""
    import boto3

    for name, value in (
        identity(tmp_path) | {"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto_url}
    ).items():
        monkeypatch.setenv(name, value)
    return boto3.client(
        "secretsmanager",
        region_name="us-east-1",
        endpoint_url=moto_url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class TestAws:
    def test_binary_basic_secret(
        self, tracking: Tracking, aws: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SecretBinary JSON, basic mode, stage, TTL, retry variables: a run logs."""
        name, password = tracking.new_user()
        secret_name = f"mlflow/{uuid.uuid4().hex[:8]}"
        payload = json.dumps({"username": name, "password": password}).encode()
        aws.create_secret(Name=secret_name, SecretBinary=payload)
        for variable, value in {
            "MLFLOW_SECRETS_AUTH_ENABLE": "aws-secrets-manager",
            "MLFLOW_AWS_SECRET_NAME": secret_name,
            "MLFLOW_AWS_SECRET_VERSION": "AWSCURRENT",
            "MLFLOW_AWS_AUTH_MODE": "basic",
            "MLFLOW_AWS_TTL_SEC": "60",
            "MLFLOW_AWS_MAX_RETRIES": "1",
            "MLFLOW_AWS_RETRY_MODE": "standard",
            "MLFLOW_SECRETS_ALLOWED_HOSTS": "127.0.0.1,*.corp.com",
            "MLFLOW_SECRETS_LOG_LEVEL": "DEBUG",
        }.items():
            monkeypatch.setenv(variable, value)
        assert _log_a_run(tracking.url) == "0.95"

    def test_version_id_in_a_custom_header(
        self, gate: Gate, aws: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A version id, and MLFLOW_AUTH_HEADER_NAME: the raw token in that header."""
        secret_name = f"mlflow/{uuid.uuid4().hex[:8]}"
        first = aws.create_secret(Name=secret_name, SecretString='{"token": "v1"}')
        aws.put_secret_value(SecretId=secret_name, SecretString='{"token": "v2"}')
        for variable, value in {
            "MLFLOW_SECRETS_AUTH_ENABLE_AWS_SECRETS_MANAGER": "true",
            "MLFLOW_AWS_SECRET_ID": secret_name,
            "MLFLOW_AWS_SECRET_VERSION": first["VersionId"],
            "MLFLOW_AUTH_HEADER_NAME": "X-MLflow-Auth",
        }.items():
            monkeypatch.setenv(variable, value)
        gate.reset(header="X-MLflow-Auth", expected="v1")
        assert len(_client(gate.url).search_experiments()) >= 1
        assert gate.seen == ["v1"]

    def test_cross_account_role_and_a_cross_region_arn(
        self,
        gate: Gate,
        aws: Any,
        moto_url: str,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """The seed's cross-account setup: AssumeRole with an external ID, the
        secret named by an ARN in another region, a run logged the fluent way."""
        import boto3

        import mlflow

        elsewhere = boto3.client(
            "secretsmanager",
            region_name="eu-west-1",
            endpoint_url=moto_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        arn = elsewhere.create_secret(
            Name=f"mlflow/shared/{uuid.uuid4().hex[:8]}",
            SecretString='{"token": "cross-account"}',
        )["ARN"]
        session = f"mlflow-cross-account-{uuid.uuid4().hex[:8]}"
        for variable, value in {
            "AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/MLflowSecretsRole",
            "AWS_ROLE_SESSION_NAME": session,
            "AWS_EXTERNAL_ID": "unique-external-id",
            "MLFLOW_AWS_SECRET_NAME": arn,
            "MLFLOW_SECRETS_AUTH_ENABLE": "aws-secrets-manager",
            "MLFLOW_TRACKING_URI": gate.url,
        }.items():
            monkeypatch.setenv(variable, value)
        gate.reset(expected="Bearer cross-account")
        with mlflow.start_run() as run:
            mlflow.log_param("lambda_function", "handler")
            mlflow.log_metric("invocation_count", 1)
        found = _client(gate.url).get_run(run.info.run_id).data.metrics
        assert found == {"invocation_count": 1.0}
        assert set(gate.seen) == {"Bearer cross-account"}
        with urllib.request.urlopen(f"{moto_url}/moto-api/data.json") as answer:
            roles = json.load(answer)["sts"]["AssumedRole"]
        ours = [role for role in roles if role["session_name"] == session]
        assert [role["external_id"] for role in ours] == ["unique-external-id"]


@pytest.fixture(scope="session")
def bao(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """An OpenBao dev server and a root hvac client for it."""
    import hvac

    from tests.vault.bao_process import ROOT_TOKEN, bao_server

    with bao_server(tmp_path_factory.mktemp("bao")) as url:
        yield hvac.Client(url=url, token=ROOT_TOKEN)


class TestVault:
    def test_token_and_kv2_api_path(
        self, tracking: Tracking, bao: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """VAULT_ADDR, VAULT_TOKEN and a secret/data/ path in basic mode: a run logs."""
        name, password = tracking.new_user()
        path = f"mlflow/{uuid.uuid4().hex[:8]}"
        bao.secrets.kv.v2.create_or_update_secret(
            path=path, secret={"username": name, "password": password}
        )
        for variable, value in {
            "MLFLOW_SECRETS_AUTH_ENABLE": "vault",
            "VAULT_ADDR": bao.url,
            "VAULT_TOKEN": bao.token,
            "MLFLOW_VAULT_SECRET_PATH": f"secret/data/{path}",
            "MLFLOW_VAULT_AUTH_MODE": "basic",
            "MLFLOW_VAULT_TTL_SEC": "30",
        }.items():
            monkeypatch.setenv(variable, value)
        assert _log_a_run(tracking.url) == "0.95"

    def test_approle(
        self, gate: Gate, bao: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """VAULT_ROLE_ID and VAULT_SECRET_ID log in when there is no VAULT_TOKEN."""
        if "approle/" not in bao.sys.list_auth_methods()["data"]:
            bao.sys.enable_auth_method("approle")
            bao.sys.create_or_update_policy(
                "mlflow-reader",
                'path "secret/data/*" { capabilities = ["read"] }\n'
                'path "sys/internal/ui/mounts/*" { capabilities = ["read"] }\n',
            )
            bao.write("auth/approle/role/mlflow", token_policies=["mlflow-reader"])
        role_id = bao.read("auth/approle/role/mlflow/role-id")["data"]["role_id"]
        secret_id = bao.write("auth/approle/role/mlflow/secret-id")["data"]["secret_id"]
        path = f"mlflow/{uuid.uuid4().hex[:8]}"
        bao.secrets.kv.v2.create_or_update_secret(path=path, secret={"token": "vt"})
        for variable, value in {
            "MLFLOW_SECRETS_AUTH_ENABLE": "vault",
            "VAULT_ADDR": bao.url,
            "VAULT_ROLE_ID": role_id,
            "VAULT_SECRET_ID": secret_id,
            "MLFLOW_VAULT_SECRET_PATH": f"secret/{path}",
        }.items():
            monkeypatch.setenv(variable, value)
        gate.reset(expected="Bearer vt")
        assert len(_client(gate.url).search_experiments()) >= 1
        assert gate.seen == ["Bearer vt"]

    def test_namespace(
        self, gate: Gate, bao: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """VAULT_NAMESPACE reads the secret inside the namespace, not the root's."""
        import hvac

        namespace = f"ns{uuid.uuid4().hex[:8]}"
        path = f"mlflow/{uuid.uuid4().hex[:8]}"
        bao.write(f"sys/namespaces/{namespace}")
        inside = hvac.Client(url=bao.url, token=bao.token, namespace=namespace)
        inside.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
        inside.secrets.kv.v2.create_or_update_secret(path, secret={"token": "in-ns"})
        bao.secrets.kv.v2.create_or_update_secret(path, secret={"token": "in-root"})
        for variable, value in {
            "VAULT_ADDR": bao.url,
            "VAULT_TOKEN": bao.token,
            "VAULT_NAMESPACE": namespace,
            "MLFLOW_VAULT_SECRET_PATH": f"secret/{path}",
        }.items():
            monkeypatch.setenv(variable, value)
        gate.reset(expected="Bearer in-ns")
        assert len(_client(gate.url).search_experiments()) >= 1
        assert gate.seen == ["Bearer in-ns"]

    @pytest.mark.parametrize(
        ("token", "address", "error"),
        [
            ("reader-of-nothing", None, AccessDenied),
            ("not-a-token", None, CredentialError),
            (None, "http://127.0.0.1:9", BackendUnavailable),
        ],
    )
    def test_fetch_failures_are_loud(
        self,
        gate: Gate,
        bao: Any,
        monkeypatch: pytest.MonkeyPatch,
        token: str | None,
        address: str | None,
        error: type[SecretkitError],
    ) -> None:
        """Denied, bad credentials, unreachable: MLflow's call fails with that
        error, naming the secret, and nothing is sent without auth."""
        from mlflow.exceptions import MlflowException

        path = f"mlflow/{uuid.uuid4().hex[:8]}"
        bao.secrets.kv.v2.create_or_update_secret(path, secret={"token": "t"})
        if token == "reader-of-nothing":
            bao.sys.create_or_update_policy("nothing", 'path "x/*" {capabilities=[]}')
            created = bao.auth.token.create(policies=["nothing"], ttl="10m")
            token = created["auth"]["client_token"]
        monkeypatch.setenv("VAULT_ADDR", address or bao.url)
        monkeypatch.setenv("VAULT_TOKEN", token or bao.token)
        monkeypatch.setenv("MLFLOW_VAULT_SECRET_PATH", f"secret/{path}")
        with pytest.raises(MlflowException) as caught:
            _client(gate.url).search_experiments()
        assert isinstance(caught.value.__context__, error)
        assert f"secret/{path}" in str(caught.value)
        assert gate.seen == []


@pytest.fixture(scope="session")
def certs(tmp_path_factory: pytest.TempPathFactory) -> TestCertificates:
    """A CA and a loopback certificate for the fake Key Vault."""
    from tests.azure._tls import make_certificates

    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def key_vault(certs: TestCertificates) -> Iterator[FakeKeyVault]:
    """The fake Key Vault over loopback HTTPS, with one registered app."""
    from tests.azure.fake_keyvault import FakeKeyVault

    with FakeKeyVault(certs) as server:
        server.clients[CLIENT_ID] = CLIENT_SECRET
        yield server


class TestAzure:
    def test_every_variable(
        self,
        gate: Gate,
        key_vault: FakeKeyVault,
        certs: TestCertificates,
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """AZURE_KEY_VAULT_URL, secret name, version, mode and TTL: bearer works."""

        name = f"mlflow-{uuid.uuid4().hex[:8]}"
        version = key_vault.seed(name, '{"token": "az-1"}')
        key_vault.seed(name, '{"token": "az-2"}')
        for variable, value in (
            {
                "MLFLOW_SECRETS_AUTH_ENABLE": "azure-key-vault",
                "AZURE_KEY_VAULT_URL": key_vault.url,
                "MLFLOW_AZURE_SECRET_NAME": name,
                "MLFLOW_AZURE_SECRET_VERSION": version,
                "MLFLOW_AZURE_AUTH_MODE": "bearer",
                "MLFLOW_AZURE_TTL_SEC": "60",
            }
            | _azure_identity(key_vault, certs)
        ).items():
            monkeypatch.setenv(variable, value)
        gate.reset(expected="Bearer az-1")
        assert len(_client(gate.url).search_experiments()) >= 1
        assert gate.seen == ["Bearer az-1"]

    @pytest.mark.parametrize("also_plain", [False, True])
    def test_mlflow_prefixed_vault_url(
        self,
        gate: Gate,
        key_vault: FakeKeyVault,
        certs: TestCertificates,
        monkeypatch: pytest.MonkeyPatch,
        also_plain: bool,
    ) -> None:
        """MLFLOW_AZURE_KEY_VAULT_URL alone works, and wins over AZURE_KEY_VAULT_URL."""

        name = f"mlflow-{uuid.uuid4().hex[:8]}"
        key_vault.seed(name, "az-plain-token")
        for variable, value in (
            {
                "MLFLOW_AZURE_KEY_VAULT_URL": key_vault.url,
                "MLFLOW_AZURE_SECRET_NAME": name,
            }
            | _azure_identity(key_vault, certs)
        ).items():
            monkeypatch.setenv(variable, value)
        if also_plain:  # nothing listens there: used, it would fail the call
            monkeypatch.setenv("AZURE_KEY_VAULT_URL", "https://127.0.0.1:9/")
        gate.reset(expected="Bearer az-plain-token")
        assert len(_client(gate.url).search_experiments()) >= 1
        assert gate.seen == ["Bearer az-plain-token"]
