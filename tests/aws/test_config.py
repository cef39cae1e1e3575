"""AWS configuration: options, ``SECRETKIT_AWS_*`` and the standard ``AWS_*`` variables.

Each test builds a client the way users do (``SecretClient(...)``, ``from_env()``,
``from_config()``) and reads the settings the ``aws`` backend was built with, or
reads a secret from the moto server through them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import anyio
import pytest

from secretkit.aws.backend import SecretsManagerBackend
from secretkit.aws.config import AwsSettings
from secretkit.aws.ssm import ParameterStoreBackend
from secretkit.core import SecretClient
from secretkit.core.errors import ConfigurationError

ROLE = "arn:aws:iam::210987654321:role/MLflowSecretsRole"
CANARY_KEY = "wJalrXUtnFEMI-canary-secret-access-key"
CANARY_TOKEN = "IQoJb3JpZ-canary-session-token"


def settings_of(client: SecretClient, name: str = "aws") -> AwsSettings:
    """The settings an AWS backend instance of ``client`` was built with."""
    backend = client.backend(name)
    assert isinstance(backend, (SecretsManagerBackend, ParameterStoreBackend))
    return backend.settings


def from_env(monkeypatch: pytest.MonkeyPatch, **variables: str) -> SecretClient:
    """``SecretClient.from_env()`` with ``variables`` added to the environment."""
    for name, value in variables.items():
        monkeypatch.setenv(name, value)
    return SecretClient.from_env()


@pytest.fixture
def no_region(monkeypatch: pytest.MonkeyPatch) -> None:
    """No region in the environment (the suite's default sets AWS_REGION)."""
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)


class TestOptions:
    def test_every_option_reaches_the_settings(self) -> None:
        """Each documented option, given in Python, lands in AwsSettings unchanged."""
        client = SecretClient(
            backends={
                "aws": {
                    "region": "eu-west-1",
                    "regions": ["eu-west-1", "eu-central-1"],
                    "endpoint_url": "https://vpce-0abc.secretsmanager.eu-west-1.vpce.amazonaws.com",
                    "profile": "mlflow-profile",
                    "role_arn": ROLE,
                    "external_id": "unique-external-id",
                    "role_session_name": "mlflow-secrets-session",
                    "duration_seconds": 900,
                    "max_attempts": 5,
                    "retry_mode": "standard",
                    "connect_timeout": 2.5,
                    "read_timeout": 7,
                    "check_secret": "mlflow/auth",
                    "recovery_window_days": 7,
                }
            }
        )
        assert settings_of(client) == AwsSettings(
            region="eu-west-1",
            regions=("eu-west-1", "eu-central-1"),
            endpoint_url="https://vpce-0abc.secretsmanager.eu-west-1.vpce.amazonaws.com",
            profile="mlflow-profile",
            role_arn=ROLE,
            external_id="unique-external-id",
            role_session_name="mlflow-secrets-session",
            duration_seconds=900,
            max_attempts=5,
            retry_mode="standard",
            connect_timeout=2.5,
            read_timeout=7.0,
            check_secret="mlflow/auth",
            recovery_window_days=7,
        )

    def test_type_wide_variables_reach_every_aws_instance(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SECRETKIT_AWS_* variables, converted from text, reach every aws instance."""
        client = from_env(
            monkeypatch,
            SECRETKIT_AWS_REGIONS="us-east-1, us-west-2",
            SECRETKIT_AWS_ENDPOINT_URL="http://localstack:4566",
            SECRETKIT_AWS_PROFILE="mlflow-profile",
            SECRETKIT_AWS_ROLE_ARN=ROLE,
            SECRETKIT_AWS_EXTERNAL_ID="unique-external-id",
            SECRETKIT_AWS_ROLE_SESSION_NAME="batch",
            SECRETKIT_AWS_DURATION_SECONDS="1800",
            SECRETKIT_AWS_MAX_ATTEMPTS="6",
            SECRETKIT_AWS_RETRY_MODE="legacy",
            SECRETKIT_AWS_CONNECT_TIMEOUT="1.5",
            SECRETKIT_AWS_READ_TIMEOUT="20",
            SECRETKIT_BACKENDS__PROD__TYPE="aws",
            SECRETKIT_BACKENDS__LEGACY__TYPE="aws-secrets-manager",
        )
        for name in ("aws", "prod", "legacy"):
            assert settings_of(client, name) == AwsSettings(
                region="us-east-1",
                regions=("us-east-1", "us-west-2"),
                endpoint_url="http://localstack:4566",
                profile="mlflow-profile",
                role_arn=ROLE,
                external_id="unique-external-id",
                role_session_name="batch",
                duration_seconds=1800,
                max_attempts=6,
                retry_mode="legacy",
                connect_timeout=1.5,
                read_timeout=20.0,
            ), name

    def test_ssm_variables_reach_only_ssm_instances(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SECRETKIT_AWS_SSM_* configure aws-ssm; SECRETKIT_AWS_* configure aws."""
        client = from_env(
            monkeypatch,
            AWS_REGION="us-east-1",
            SECRETKIT_AWS_SSM_REGION="eu-west-1",
            SECRETKIT_AWS_SSM_MAX_ATTEMPTS="6",
            SECRETKIT_AWS_REGION="us-west-2",
        )
        ssm, sm = settings_of(client, "aws-ssm"), settings_of(client, "aws")
        assert (ssm.region, ssm.max_attempts) == ("eu-west-1", 6)
        assert (sm.region, sm.max_attempts) == ("us-west-2", 3)

    def test_instance_option_beats_type_variable_beats_aws_variable(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An instance's own option wins over SECRETKIT_AWS_*, which wins over AWS_*."""
        client = from_env(
            monkeypatch,
            AWS_REGION="us-west-2",
            AWS_MAX_ATTEMPTS="7",
            SECRETKIT_AWS_REGION="eu-west-1",
            SECRETKIT_AWS_MAX_ATTEMPTS="4",
            SECRETKIT_BACKENDS__PROD__TYPE="aws",
            SECRETKIT_BACKENDS__PROD__REGION="ap-south-1",
        )
        prod, shared = settings_of(client, "prod"), settings_of(client, "aws")
        assert (prod.region, prod.max_attempts) == ("ap-south-1", 4)
        assert (shared.region, shared.max_attempts) == ("eu-west-1", 4)

    def test_toml_options(self, tmp_path) -> None:
        """A secretkit.toml backend table configures a second account."""
        config = tmp_path / "secretkit.toml"
        config.write_text(
            '[backends.prod]\ntype = "aws"\nregion = "eu-west-1"\n'
            f'role_arn = "{ROLE}"\nexternal_id = "unique-external-id"\nttl = 900\n'
        )
        client = SecretClient.from_config(config)
        prod = settings_of(client, "prod")
        assert (prod.region, prod.role_arn, prod.external_id) == (
            "eu-west-1",
            ROLE,
            "unique-external-id",
        )


class TestStandardVariables:
    def test_seed_defaults(self, no_region: None) -> None:
        """With nothing set: 3 attempts, adaptive retries, botocore's region."""
        settings = settings_of(SecretClient(backends={"aws": {}}))
        assert settings == AwsSettings()
        assert (settings.max_attempts, settings.retry_mode) == (3, "adaptive")
        assert settings.region_order == (None,)

    def test_aws_retry_variables_are_defaults(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """AWS_MAX_ATTEMPTS and AWS_RETRY_MODE apply when no option is given."""
        client = from_env(monkeypatch, AWS_MAX_ATTEMPTS="5", AWS_RETRY_MODE="standard")
        settings = settings_of(client)
        assert (settings.max_attempts, settings.retry_mode) == (5, "standard")

    @pytest.mark.parametrize("source", ["option", "variable"])
    def test_options_win_over_aws_retry_variables(
        self, monkeypatch: pytest.MonkeyPatch, source: str
    ) -> None:
        """max_attempts and retry_mode, as options or SECRETKIT_AWS_*, beat AWS_*."""
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "9")
        monkeypatch.setenv("AWS_RETRY_MODE", "standard")
        if source == "option":
            client = SecretClient(
                backends={"aws": {"max_attempts": 2, "retry_mode": "legacy"}}
            )
        else:
            client = from_env(
                monkeypatch,
                SECRETKIT_AWS_MAX_ATTEMPTS="2",
                SECRETKIT_AWS_RETRY_MODE="legacy",
            )
        settings = settings_of(client)
        assert (settings.max_attempts, settings.retry_mode) == (2, "legacy")

    def test_aws_region(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """AWS_REGION is the default region, ahead of AWS_DEFAULT_REGION."""
        client = from_env(
            monkeypatch, AWS_REGION="eu-west-1", AWS_DEFAULT_REGION="us-west-2"
        )
        assert settings_of(client).region == "eu-west-1"

    async def test_aws_region_picks_where_secrets_are_read(
        self, boto, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A secret only in eu-west-1 reads with AWS_REGION, which botocore ignores."""
        boto("secretsmanager", "eu-west-1").create_secret(
            Name="eu/only", SecretString="x"
        )
        monkeypatch.setenv("AWS_REGION", "eu-west-1")
        monkeypatch.setenv("AWS_DEFAULT_REGION", "us-west-2")
        async with SecretClient(backends={"aws": {}}) as client:
            secret = await client.get("aws://eu/only")
        assert str(secret.metadata["arn"]).split(":")[3] == "eu-west-1"

    async def test_aws_default_region_alone(
        self, boto, monkeypatch: pytest.MonkeyPatch, no_region: None
    ) -> None:
        """Without AWS_REGION, botocore's AWS_DEFAULT_REGION picks the region."""
        boto("secretsmanager", "eu-west-1").create_secret(
            Name="eu/only", SecretString="x"
        )
        monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
        async with SecretClient(backends={"aws": {}}) as client:
            assert await client.get_value("aws://eu/only") == "x"

    async def test_service_endpoint_variable(
        self, boto, moto_url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """AWS_ENDPOINT_URL_SECRETS_MANAGER alone points the backend at an endpoint."""
        boto("secretsmanager").create_secret(Name="vpce/db", SecretString="x")
        monkeypatch.delenv("AWS_ENDPOINT_URL")
        monkeypatch.setenv("AWS_ENDPOINT_URL_SECRETS_MANAGER", moto_url)
        async with SecretClient(backends={"aws": {}}) as client:
            assert await client.get_value("aws://vpce/db") == "x"

    def test_assume_role_variables(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """The seed's AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME and AWS_EXTERNAL_ID ask for
        an explicit AssumeRole."""
        client = from_env(
            monkeypatch,
            AWS_ROLE_ARN=ROLE,
            AWS_ROLE_SESSION_NAME="mlflow-secrets-session",
            AWS_EXTERNAL_ID="unique-external-id",
        )
        settings = settings_of(client)
        assert (
            settings.role_arn,
            settings.role_session_name,
            settings.external_id,
        ) == (
            ROLE,
            "mlflow-secrets-session",
            "unique-external-id",
        )

    def test_web_identity_keeps_the_role_variables(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path
    ) -> None:
        """With AWS_WEB_IDENTITY_TOKEN_FILE (IRSA), AWS_ROLE_* are web identity's."""
        token = tmp_path / "token"
        token.write_text("eyJ.not-a-real.jwt")
        client = from_env(
            monkeypatch,
            AWS_WEB_IDENTITY_TOKEN_FILE=str(token),
            AWS_ROLE_ARN=ROLE,
            AWS_ROLE_SESSION_NAME="irsa",
            AWS_EXTERNAL_ID="unique-external-id",
        )
        settings = settings_of(client)
        assert (
            settings.role_arn,
            settings.role_session_name,
            settings.external_id,
        ) == (
            None,
            "secretkit",
            None,
        )

    def test_assume_role_options_win_over_variables(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """role_arn, external_id and role_session_name options beat AWS_ROLE_*."""
        monkeypatch.setenv("AWS_ROLE_ARN", "arn:aws:iam::111111111111:role/Other")
        monkeypatch.setenv("AWS_EXTERNAL_ID", "other")
        monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "other")
        client = SecretClient(
            backends={
                "aws": {
                    "role_arn": ROLE,
                    "external_id": "unique-external-id",
                    "role_session_name": "mine",
                }
            }
        )
        settings = settings_of(client)
        assert (
            settings.role_arn,
            settings.external_id,
            settings.role_session_name,
        ) == (
            ROLE,
            "unique-external-id",
            "mine",
        )


def _client_config(options: dict[str, object]) -> Any:
    """The botocore config of the Secrets Manager client an aws backend opens."""

    async def open_client() -> Any:
        async with SecretClient(backends={"aws": options}) as client:
            backend: Any = client.backend("aws")
            sdk = await backend.pool.client("secretsmanager", backend.settings.region)
            return sdk.meta.config

    return anyio.run(open_client, backend="asyncio")


class TestBuiltClient:
    def test_retry_mode_and_timeouts_reach_botocore(self) -> None:
        """The SDK client gets the retry mode and both timeouts."""
        config = _client_config(
            {"retry_mode": "standard", "connect_timeout": 2.5, "read_timeout": 7}
        )
        assert config.retries["mode"] == "standard"
        assert (config.connect_timeout, config.read_timeout) == (2.5, 7.0)

    def test_seed_retry_defaults_reach_botocore(self) -> None:
        """With no retry option or AWS_* variable: 3 attempts, adaptive."""
        config = _client_config({})
        assert config.retries == {"total_max_attempts": 3, "mode": "adaptive"}

    def test_aws_retry_variables_reach_botocore(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """AWS_MAX_ATTEMPTS and AWS_RETRY_MODE reach the SDK client unchanged."""
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "5")
        monkeypatch.setenv("AWS_RETRY_MODE", "standard")
        config = _client_config({})
        assert config.retries == {"total_max_attempts": 5, "mode": "standard"}

    def test_max_attempts_counts_every_attempt(self) -> None:
        """max_attempts is the total number of attempts, as AWS_MAX_ATTEMPTS is."""
        config = _client_config({"max_attempts": 3})
        assert config.retries["total_max_attempts"] == 3


class TestErrors:
    @pytest.mark.parametrize(
        ("key", "value", "problem"),
        [
            ("retry_mode", "fast", "expected one of legacy, standard, adaptive"),
            ("max_attempts", 0, "at least 1"),
            ("duration_seconds", 60, "between 900 and 43200"),
            ("region", 1, "expected text"),
            ("colour", "blue", "unknown option"),
        ],
    )
    def test_bad_option(self, key: str, value: object, problem: str) -> None:
        """A bad option raises ConfigurationError naming the key and SecretClient()."""
        with pytest.raises(ConfigurationError, match=problem) as caught:
            SecretClient(backends={"aws": {key: value}})
        assert (caught.value.key, caught.value.source) == (
            f"backends.aws.{key}",
            "SecretClient()",
        )
        assert caught.value.backend == "aws"

    @pytest.mark.parametrize(
        ("variable", "value", "problem"),
        [
            ("SECRETKIT_AWS_RETRY_MODE", "fast", "expected one of"),
            ("SECRETKIT_AWS_MAX_ATTEMPTS", "0", "at least 1"),
            ("SECRETKIT_AWS_MAX_ATTEMPTS", "three", "expected an integer"),
            ("SECRETKIT_AWS_DURATION_SECONDS", "60", "between 900 and 43200"),
            ("SECRETKIT_AWS_COLOUR", "blue", "unknown option"),
        ],
    )
    def test_bad_type_variable(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, problem: str
    ) -> None:
        """A bad SECRETKIT_AWS_* value raises naming the option and the environment."""
        monkeypatch.setenv(variable, value)
        client = SecretClient.from_env()
        with pytest.raises(ConfigurationError, match=problem) as caught:
            client.backend("aws")
        option = variable.removeprefix("SECRETKIT_AWS_").lower()
        assert caught.value.key == f"backends.aws.{option}"
        assert "environment" in (caught.value.source or "")

    @pytest.mark.parametrize(
        ("variable", "value"),
        [
            ("AWS_RETRY_MODE", "fast"),
            ("AWS_MAX_ATTEMPTS", "0"),
            ("AWS_MAX_ATTEMPTS", "three"),
        ],
    )
    def test_bad_aws_variable(
        self, monkeypatch: pytest.MonkeyPatch, variable: str, value: str
    ) -> None:
        """A bad AWS_* retry variable raises naming that variable, not an option."""
        monkeypatch.setenv(variable, value)
        with pytest.raises(ConfigurationError, match=variable) as caught:
            SecretClient(backends={"aws": {}})
        assert (caught.value.key, caught.value.source) == (variable, "environment")

    def test_bad_aws_variable_is_moot_under_an_option(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An option makes a bad AWS_* retry variable irrelevant, as in botocore."""
        monkeypatch.setenv("AWS_RETRY_MODE", "fast")
        monkeypatch.setenv("AWS_MAX_ATTEMPTS", "three")
        client = SecretClient(
            backends={"aws": {"retry_mode": "standard", "max_attempts": 4}}
        )
        settings = settings_of(client)
        assert (settings.max_attempts, settings.retry_mode) == (4, "standard")

    def test_bad_toml_option_names_the_file(self, tmp_path) -> None:
        """A bad option in secretkit.toml names the file as its source."""
        config = tmp_path / "secretkit.toml"
        config.write_text('[backends.prod]\ntype = "aws"\nretry_mode = "fast"\n')
        with pytest.raises(ConfigurationError, match="retry_mode") as caught:
            SecretClient.from_config(config)
        assert (caught.value.key, caught.value.source) == (
            "backends.prod.retry_mode",
            str(config),
        )


class TestDescribe:
    def test_effective_config_shows_settings_but_no_secrets(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """describe() shows regions, roles, endpoints and profiles; never AWS keys."""
        client = from_env(
            monkeypatch,
            AWS_SECRET_ACCESS_KEY=CANARY_KEY,
            AWS_SESSION_TOKEN=CANARY_TOKEN,
            SECRETKIT_AWS_REGION="eu-west-1",
            SECRETKIT_AWS_PROFILE="mlflow-profile",
            SECRETKIT_AWS_ENDPOINT_URL="https://vpce-0abc.secretsmanager.amazonaws.com",
            SECRETKIT_BACKENDS__PROD__TYPE="aws",
            SECRETKIT_BACKENDS__PROD__ROLE_ARN=ROLE,
            SECRETKIT_BACKENDS__PROD__EXTERNAL_ID="unique-external-id",
            SECRETKIT_BACKENDS__PROD__ROLE_SESSION_NAME="mlflow-secrets-session",
        )
        described = client.settings.describe()
        prod: Any = described["backends"]
        assert prod["prod"]["role_arn"] == ROLE
        assert prod["prod"]["external_id"] == "unique-external-id"
        assert prod["prod"]["role_session_name"] == "mlflow-secrets-session"
        shared: Any = described["type options (environment)"]
        assert shared["aws"] == {
            "region": "eu-west-1",
            "profile": "mlflow-profile",
            "endpoint_url": "https://vpce-0abc.secretsmanager.amazonaws.com",
        }
        shown = repr(described)
        assert CANARY_KEY not in shown
        assert CANARY_TOKEN not in shown
        assert os.environ["AWS_ACCESS_KEY_ID"] not in shown


# The deployments of the README's AWS section, as their environment variables.
DEPLOYMENTS: dict[str, tuple[dict[str, str], dict[str, object]]] = {
    "iam-user": (
        {
            "AWS_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": "AKIAXXXXXXXXXXXXXXXX",
            "AWS_SECRET_ACCESS_KEY": CANARY_KEY,
        },
        {"region": "us-east-1", "role_arn": None, "profile": None},
    ),
    "ec2": ({"AWS_REGION": "us-east-1"}, {"region": "us-east-1", "role_arn": None}),
    "ecs": (
        {
            "AWS_REGION": "us-east-1",
            "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/abc",
        },
        {"region": "us-east-1", "role_arn": None},
    ),
    "lambda": (
        {
            "AWS_REGION": "us-east-1",
            "SECRETKIT_TTL": "900",
            "SECRETKIT_AWS_CONNECT_TIMEOUT": "1",
        },
        {"region": "us-east-1", "connect_timeout": 1.0},
    ),
    "irsa": (
        {"AWS_REGION": "us-east-1", "AWS_ROLE_ARN": ROLE},
        {"region": "us-east-1", "role_arn": None},
    ),
    "cross-account": (
        {
            "AWS_REGION": "us-east-1",
            "AWS_ROLE_ARN": ROLE,
            "AWS_EXTERNAL_ID": "unique-external-id",
            "AWS_ROLE_SESSION_NAME": "mlflow-cross-account",
        },
        {
            "role_arn": ROLE,
            "external_id": "unique-external-id",
            "role_session_name": "mlflow-cross-account",
        },
    ),
    "profile": (
        {"AWS_REGION": "us-east-1", "AWS_PROFILE": "mlflow-profile"},
        {"region": "us-east-1", "role_arn": None},
    ),
}


class TestReadmeExamples:
    @pytest.mark.parametrize("deployment", list(DEPLOYMENTS))
    def test_deployment_variables(
        self, monkeypatch: pytest.MonkeyPatch, tmp_path, deployment: str
    ) -> None:
        """Each README deployment's variables make aws the default, so configured."""
        variables, expected = DEPLOYMENTS[deployment]
        if deployment == "irsa":  # EKS mounts the token and sets its path
            token = tmp_path / "token"
            token.write_text("eyJ.not-a-real.jwt")
            variables = {**variables, "AWS_WEB_IDENTITY_TOKEN_FILE": str(token)}
        client = from_env(monkeypatch, SECRETKIT_DEFAULT="aws", **variables)
        assert client.default == "aws"
        settings = settings_of(client)
        for field, value in expected.items():
            assert getattr(settings, field) == value, field

    def test_toml_example(self, tmp_path) -> None:
        """The README's AWS TOML example builds the three instances it describes."""
        readme = (Path(__file__).parents[2] / "README.md").read_text()
        section = readme[readme.index("### AWS: `aws` and `aws-ssm`") :]
        toml = section.split("```toml\n", 1)[1].split("```", 1)[0]
        config = tmp_path / "secretkit.toml"
        config.write_text(toml)
        client = SecretClient.from_config(config)
        main, shared, dev = (settings_of(client, n) for n in ("aws", "shared", "dev"))
        assert main.region_order == ("us-east-1", "us-west-2")
        assert (main.max_attempts, main.retry_mode) == (4, "adaptive")
        assert (shared.role_arn, shared.external_id) == (ROLE, "unique-external-id")
        assert shared.role_session_name == "mlflow-cross-account"
        assert (dev.profile, dev.endpoint_url) == (
            "mlflow-profile",
            "http://localhost:4566",
        )


async def test_sts_calls_do_not_go_to_the_service_endpoint() -> None:
    """endpoint_url is the service's; STS uses sts_endpoint_url (VPC endpoints)."""
    from secretkit.aws._clients import ClientPool
    from secretkit.aws.config import AwsSettings

    settings = AwsSettings(
        region="us-east-1",
        endpoint_url="https://vpce-1.secretsmanager.us-east-1.vpce.amazonaws.com",
        sts_endpoint_url="https://vpce-2.sts.us-east-1.vpce.amazonaws.com",
    )
    pool = ClientPool(settings, name="aws")

    async def endpoints() -> tuple[str, str]:
        service = await pool.client("secretsmanager", "us-east-1")
        sts = await pool.client("sts", "us-east-1")
        found = (service.meta.endpoint_url, sts.meta.endpoint_url)
        await pool.aclose()
        return found

    from secretkit.core._loops import on_asyncio, running_trio

    found = await (on_asyncio(endpoints) if running_trio() else endpoints())
    assert found == (settings.endpoint_url, settings.sts_endpoint_url)
