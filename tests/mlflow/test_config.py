"""Settings from SECRETKIT_MLFLOW_* and every mlflow-secrets-auth variable."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import pytest

from secretkit.core.config import BackendSpec
from secretkit.core.errors import ConfigurationError, InvalidReference
from secretkit.mlflow.config import client_settings, read_settings

if TYPE_CHECKING:
    from pathlib import Path

UUID = "01234567-89ab-cdef-0123-456789abcdef"


def test_defaults_with_a_reference() -> None:
    """A reference alone gives bearer auth in Authorization and the cache's TTL."""
    settings = read_settings({"SECRETKIT_MLFLOW_REF": "aws://mlflow/auth#token"})
    assert settings.ref == "aws://mlflow/auth#token"
    assert (settings.mode, settings.header, settings.ttl) == (
        "bearer",
        "Authorization",
        None,
    )
    assert (settings.token_field, settings.username_field) == ("token", "username")
    assert settings.allowed_hosts == ()
    assert settings.provider == "secretkit"
    assert settings.sources["ref"] == "SECRETKIT_MLFLOW_REF"
    assert settings.sources["mode"] == "default"


def test_bad_reference_and_unknown_variable() -> None:
    """A reference that does not parse, or a mistyped variable, fails at once."""
    with pytest.raises(InvalidReference):
        read_settings({"SECRETKIT_MLFLOW_REF": "aws://x?bogus=1"})
    with pytest.raises(ConfigurationError, match="SECRETKIT_MLFLOW_TOKEN_FEILD"):
        read_settings(
            {"SECRETKIT_MLFLOW_REF": "x", "SECRETKIT_MLFLOW_TOKEN_FEILD": "t"}
        )


def test_nothing_configured_names_what_to_set() -> None:
    """Without any secret configured, the error names SECRETKIT_MLFLOW_REF."""
    with pytest.raises(ConfigurationError, match="SECRETKIT_MLFLOW_REF"):
        read_settings({})


class TestAws:
    def test_every_variable(self) -> None:
        """ID, stage, mode, TTL, retries and retry mode map to their equivalents."""
        settings = read_settings(
            {
                "MLFLOW_SECRETS_AUTH_ENABLE": "aws-secrets-manager",
                "MLFLOW_AWS_SECRET_ID": "mlflow/auth",
                "MLFLOW_AWS_SECRET_VERSION": "AWSPENDING",
                "MLFLOW_AWS_AUTH_MODE": "BASIC",
                "MLFLOW_AWS_TTL_SEC": "600",
                "MLFLOW_AWS_MAX_RETRIES": "5",
                "MLFLOW_AWS_RETRY_MODE": "standard",
            }
        )
        assert settings.ref == "aws://mlflow/auth?stage=AWSPENDING"
        assert (settings.mode, settings.ttl) == ("basic", 600.0)
        assert settings.backends == {
            "aws": {"max_attempts": "6", "retry_mode": "standard"}
        }
        assert settings.provider == "aws-secrets-manager"
        assert settings.sources["ttl"] == "MLFLOW_AWS_TTL_SEC"

    def test_name_is_an_alias_and_version_ids_are_versions(self) -> None:
        """MLFLOW_AWS_SECRET_NAME works; a UUID version is ?version=, an ARN a name."""
        arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mlflow/auth-AbC"
        settings = read_settings(
            {"MLFLOW_AWS_SECRET_NAME": arn, "MLFLOW_AWS_SECRET_VERSION": UUID}
        )
        assert settings.ref == f"aws://{arn}?version={UUID}"
        assert settings.sources["ref"] == "MLFLOW_AWS_SECRET_NAME"

    def test_bad_retry_values_name_the_variable(self) -> None:
        """Retries and retry mode are checked, naming the variable."""
        base = {"MLFLOW_AWS_SECRET_ID": "x"}
        with pytest.raises(ConfigurationError, match="MLFLOW_AWS_MAX_RETRIES"):
            read_settings({**base, "MLFLOW_AWS_MAX_RETRIES": "many"})
        with pytest.raises(ConfigurationError, match="MLFLOW_AWS_RETRY_MODE"):
            read_settings({**base, "MLFLOW_AWS_RETRY_MODE": "eager"})


class TestVault:
    @pytest.mark.parametrize(
        ("path", "ref"),
        [
            ("secret/mlflow/auth", "vault://secret/mlflow/auth"),
            ("secret/data/mlflow/auth", "vault://secret/mlflow/auth"),
            ("/kv/data/team/auth/", "vault://kv/team/auth"),
        ],
    )
    def test_paths(self, path: str, ref: str) -> None:
        """KV v1 paths, and KV v2 API paths with ``data/``, name the same secret."""
        settings = read_settings({"MLFLOW_VAULT_SECRET_PATH": path})
        assert settings.ref == ref

    def test_token_first_else_approle(self) -> None:
        """VAULT_ROLE_ID/VAULT_SECRET_ID log in only when VAULT_TOKEN is absent."""
        env = {
            "MLFLOW_VAULT_SECRET_PATH": "secret/a",
            "MLFLOW_VAULT_AUTH_MODE": "basic",
            "MLFLOW_VAULT_TTL_SEC": "30",
            "VAULT_ROLE_ID": "r",
            "VAULT_SECRET_ID": "s",
        }
        settings = read_settings(env)
        assert settings.backends == {"vault": {"role_id": "r", "secret_id": "s"}}
        assert (settings.mode, settings.ttl) == ("basic", 30.0)
        assert read_settings({**env, "VAULT_TOKEN": "t"}).backends == {"vault": {}}
        with pytest.raises(ConfigurationError, match="VAULT_SECRET_ID"):
            read_settings({**env, "VAULT_SECRET_ID": ""})


class TestAzure:
    def test_every_variable(self) -> None:
        """URL (either spelling), name, version, mode and TTL map over."""
        settings = read_settings(
            {
                "AZURE_KEY_VAULT_URL": "https://v.vault.azure.net/",
                "MLFLOW_AZURE_SECRET_NAME": "mlflow-auth",
                "MLFLOW_AZURE_SECRET_VERSION": "abc123",
                "MLFLOW_AZURE_AUTH_MODE": "basic",
                "MLFLOW_AZURE_TTL_SEC": "900",
            }
        )
        assert settings.ref == "azure://mlflow-auth?version=abc123"
        assert settings.backends == {
            "azure": {"vault_url": "https://v.vault.azure.net/"}
        }
        assert (settings.mode, settings.ttl) == ("basic", 900.0)
        other = read_settings(
            {
                "MLFLOW_AZURE_KEY_VAULT_URL": "https://w.vault.azure.net",
                "MLFLOW_AZURE_SECRET_NAME": "n",
                "MLFLOW_AZURE_SECRET_VERSION": "latest",
            }
        )
        assert other.ref == "azure://n"
        assert other.backends["azure"]["vault_url"] == "https://w.vault.azure.net"

    def test_name_without_url(self) -> None:
        """A secret name without a vault URL names the missing variable."""
        with pytest.raises(ConfigurationError, match="AZURE_KEY_VAULT_URL"):
            read_settings({"MLFLOW_AZURE_SECRET_NAME": "n"})


class TestProviderChoice:
    ALL: ClassVar[dict[str, str]] = {
        "MLFLOW_VAULT_SECRET_PATH": "secret/a",
        "MLFLOW_AWS_SECRET_ID": "b",
        "AZURE_KEY_VAULT_URL": "https://v.vault.azure.net",
        "MLFLOW_AZURE_SECRET_NAME": "c",
    }

    def test_incumbent_order(self) -> None:
        """Vault, then AWS, then Azure: the first enabled and configured wins."""
        assert read_settings(self.ALL).provider == "vault"
        listed = {**self.ALL, "MLFLOW_SECRETS_AUTH_ENABLE": "azure-key-vault,aws"}
        assert read_settings(listed).provider == "aws-secrets-manager"
        toggled = {**self.ALL, "MLFLOW_SECRETS_AUTH_ENABLE_AZURE_KEY_VAULT": "true"}
        assert read_settings(toggled).provider == "azure-key-vault"

    def test_enabled_but_not_configured(self) -> None:
        """Enabling a provider without its secret names the variable to set."""
        with pytest.raises(ConfigurationError, match="MLFLOW_VAULT_SECRET_PATH"):
            read_settings({"MLFLOW_SECRETS_AUTH_ENABLE": "vault"})

    def test_bad_enable_values(self) -> None:
        """Unknown providers and non-boolean toggles are errors, not ignored."""
        with pytest.raises(ConfigurationError, match="gcp"):
            read_settings({**self.ALL, "MLFLOW_SECRETS_AUTH_ENABLE": "gcp"})
        with pytest.raises(ConfigurationError, match="ENABLE_VAULT"):
            read_settings({**self.ALL, "MLFLOW_SECRETS_AUTH_ENABLE_VAULT": "maybe"})

    def test_secretkit_reference_wins(self) -> None:
        """SECRETKIT_MLFLOW_REF wins; the provider's own variables then do not count."""
        settings = read_settings(
            {**self.ALL, "SECRETKIT_MLFLOW_REF": "x", "MLFLOW_VAULT_AUTH_MODE": "basic"}
        )
        assert (settings.ref, settings.mode, settings.backends) == ("x", "bearer", {})


class TestHeaderAndMode:
    def test_custom_header_defaults_to_the_raw_token(self) -> None:
        """A custom header sends the token as it is, unless bearer is asked for."""
        own = read_settings(
            {"SECRETKIT_MLFLOW_REF": "x", "SECRETKIT_MLFLOW_HEADER": "X-T"}
        )
        assert (own.mode, own.header) == ("header", "X-T")
        asked = read_settings(
            {
                "SECRETKIT_MLFLOW_REF": "x",
                "SECRETKIT_MLFLOW_HEADER": "X-T",
                "SECRETKIT_MLFLOW_AUTH_MODE": "bearer",
            }
        )
        assert asked.mode == "bearer"

    def test_incumbent_header_variable(self) -> None:
        """MLFLOW_AUTH_HEADER_NAME with incumbent bearer mode sends the raw token."""
        settings = read_settings(
            {
                "MLFLOW_AWS_SECRET_ID": "x",
                "MLFLOW_AWS_AUTH_MODE": "bearer",
                "MLFLOW_AUTH_HEADER_NAME": "X-MLflow-Auth",
            }
        )
        assert (settings.mode, settings.header) == ("header", "X-MLflow-Auth")
        lower = read_settings(
            {"SECRETKIT_MLFLOW_REF": "x", "MLFLOW_AUTH_HEADER_NAME": "authorization"}
        )
        assert (lower.mode, lower.header) == ("bearer", "Authorization")

    def test_own_variables_win(self) -> None:
        """SECRETKIT_MLFLOW_* win over the incumbent's variables, setting by setting."""
        settings = read_settings(
            {
                "MLFLOW_AWS_SECRET_ID": "x",
                "MLFLOW_AWS_AUTH_MODE": "bearer",
                "MLFLOW_AWS_TTL_SEC": "600",
                "MLFLOW_SECRETS_ALLOWED_HOSTS": "a.com",
                "MLFLOW_SECRETS_LOG_LEVEL": "INFO",
                "SECRETKIT_MLFLOW_AUTH_MODE": "basic",
                "SECRETKIT_MLFLOW_TTL": "0",
                "SECRETKIT_MLFLOW_ALLOWED_HOSTS": "b.com, *.c.com",
                "SECRETKIT_MLFLOW_LOG_LEVEL": "warning",
            }
        )
        assert settings.mode == "basic"
        assert settings.ttl == 0.0
        assert settings.allowed_hosts == ("b.com", "*.c.com")
        assert settings.log_level == "WARNING"
        assert settings.sources["allowed_hosts"] == "SECRETKIT_MLFLOW_ALLOWED_HOSTS"

    @pytest.mark.parametrize(
        ("variable", "value"),
        [
            ("SECRETKIT_MLFLOW_HEADER", "Bad Header"),
            ("SECRETKIT_MLFLOW_AUTH_MODE", "digest"),
            ("SECRETKIT_MLFLOW_TTL", "-1"),
            ("MLFLOW_AWS_TTL_SEC", "0"),
            ("MLFLOW_AWS_AUTH_MODE", "header"),
            ("MLFLOW_SECRETS_LOG_LEVEL", "loud"),
            ("MLFLOW_SECRETS_ALLOWED_HOSTS", "https://mlflow.corp.com"),
        ],
    )
    def test_bad_values_name_their_variable(self, variable: str, value: str) -> None:
        """Each bad value is a ConfigurationError naming its variable."""
        env = {"MLFLOW_AWS_SECRET_ID": "x", variable: value}
        with pytest.raises(ConfigurationError, match=variable):
            read_settings(env)


class TestClientSettings:
    def test_incumbent_options_fill_in_and_secretkit_options_win(self) -> None:
        """Retry options join the aws instance; SECRETKIT_BACKENDS__ options win."""
        env = {
            "MLFLOW_AWS_SECRET_ID": "x",
            "MLFLOW_AWS_MAX_RETRIES": "2",
            "MLFLOW_AWS_RETRY_MODE": "legacy",
            "MLFLOW_AWS_TTL_SEC": "60",
            "SECRETKIT_BACKENDS__AWS__RETRY_MODE": "standard",
            "SECRETKIT_BACKENDS__AWS__TTL": "5",
        }
        core = client_settings(read_settings(env), env)
        spec = core.backends["aws"]
        assert isinstance(spec, BackendSpec)
        assert spec.options == {"max_attempts": "3", "retry_mode": "standard"}
        assert (spec.ttl, core.cache.ttl) == (60.0, 60.0)
        assert core.cache.max_stale == 3600.0

    def test_own_variables_do_not_reach_the_core(self) -> None:
        """SECRETKIT_MLFLOW_* are not unknown variables to the core's reader."""
        env = {"SECRETKIT_MLFLOW_REF": "env://X", "SECRETKIT_MAX_STALE": "10"}
        core = client_settings(read_settings(env), env)
        assert core.cache.max_stale == 10.0

    @pytest.mark.parametrize("how", ["SECRETKIT_CONFIG", "--config"])
    def test_a_files_max_stale_is_kept(self, how: str, tmp_path: Path) -> None:
        """A file's own max_stale wins over the plugin's hour, however it is given."""
        path = tmp_path / "secretkit.toml"
        path.write_text("[cache]\nmax_stale = 60\n")
        env = {"SECRETKIT_MLFLOW_REF": "env://X"}
        if how == "SECRETKIT_CONFIG":
            core = client_settings(read_settings(env), {**env, how: str(path)})
        else:
            core = client_settings(read_settings(env), env, config_path=str(path))
        assert core.cache.max_stale == 60.0
        path.write_text("[cache]\nttl = 5\n")
        core = client_settings(read_settings(env), env, config_path=str(path))
        assert core.cache.max_stale == 3600.0
