"""Vault settings from options and the Vault CLI's variables."""

from __future__ import annotations

import logging

import pytest

from secretkit.core.errors import ConfigurationError
from secretkit.core.options import Options
from secretkit.vault.config import VaultSettings, read_settings


def _read(values: dict[str, object], env: dict[str, str] | None = None):
    return read_settings(Options(values, instance="vault", source="test"), env or {})


def test_defaults() -> None:
    """With nothing given, the CLI's defaults."""
    assert _read({}) == VaultSettings()


def test_variables() -> None:
    """VAULT_* variables count as the CLI reads them; CACERT wins over CAPATH."""
    env = {
        "VAULT_ADDR": "https://v:8200/",
        "VAULT_NAMESPACE": "team",
        "VAULT_CACERT": "/ca.pem",
        "VAULT_CAPATH": "/cas",
        "VAULT_CLIENT_CERT": "/c.pem",
        "VAULT_CLIENT_KEY": "/k.pem",
    }
    settings = _read({}, env)
    assert settings.url == "https://v:8200"
    assert settings.namespace == "team"
    assert settings.verify == "/ca.pem"
    assert (settings.client_cert, settings.client_key) == ("/c.pem", "/k.pem")
    assert _read({}, {"VAULT_CAPATH": "/cas"}).verify == "/cas"


def test_options_win() -> None:
    """Options win over the variables."""
    env = {"VAULT_ADDR": "http://env:1", "VAULT_CACERT": "/env.pem"}
    values = {"url": "http://opt:2", "ca_cert": "/opt.pem", "mount": "/kv/"}
    settings = _read({**values, "kv_version": "1", "retries": 0}, env)
    assert (settings.url, settings.verify, settings.mount) == (
        "http://opt:2",
        "/opt.pem",
        "kv",
    )
    assert (settings.kv_version, settings.retries) == ("1", 0)


def test_skip_verify_warns(caplog: pytest.LogCaptureFixture) -> None:
    """VAULT_SKIP_VERIFY (or verify=false) turns verification off, loudly."""
    with caplog.at_level(logging.WARNING):
        assert _read({}, {"VAULT_SKIP_VERIFY": "true"}).verify is False
        assert _read({"verify": False}).verify is False
    assert sum("TLS verification is OFF" in r.getMessage() for r in caplog.records) == 2
    assert _read({}, {"VAULT_SKIP_VERIFY": "false"}).verify is True


@pytest.mark.parametrize(
    ("values", "env", "match"),
    [
        ({"url": "vault:8200"}, {}, "http"),
        ({"kv_version": "3"}, {}, "kv_version"),
        ({"timeout": 0}, {}, "timeout"),
        ({"client_cert": "/c.pem"}, {}, "client_key"),
        ({"nope": 1}, {}, "unknown option"),
        ({}, {"VAULT_SKIP_VERIFY": "maybe"}, "VAULT_SKIP_VERIFY"),
    ],
)
def test_bad_settings(values, env, match) -> None:
    """Bad options and variables raise ConfigurationError naming them."""
    with pytest.raises(ConfigurationError, match=match):
        _read(values, env)


def test_token_not_in_repr() -> None:
    """The token never shows in the settings' repr."""
    assert "s.secret" not in repr(_read({"token": "s.secret"}))


def test_aws_options() -> None:
    """auth = aws takes its region and server ID header value as options."""
    settings = _read(
        {
            "auth": "aws",
            "role": "ci",
            "aws_region": "eu-west-1",
            "aws_header_value": "vault.example.com",
        }
    )
    assert (settings.auth, settings.role) == ("aws", "ci")
    assert (settings.aws_region, settings.aws_header_value) == (
        "eu-west-1",
        "vault.example.com",
    )
