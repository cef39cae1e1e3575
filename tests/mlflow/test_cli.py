"""``secretkit mlflow info`` and ``secretkit mlflow doctor``, through the real CLI."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from secretkit.core.cli import main

from .conftest import CANARY

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from .tracking import Gate, Tracking


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert CANARY not in out + err
    return code, out, err


@pytest.fixture
def configured(
    monkeypatch: pytest.MonkeyPatch, secrets_file: Callable[[object], None]
) -> None:
    """A bearer secret holding the canary, read through the file backend."""
    secrets_file({"token": CANARY})
    monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")


def test_listed_in_help(capsys: pytest.CaptureFixture[str]) -> None:
    """``secretkit --help`` lists the mlflow command."""
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert "MLflow request auth" in out


def test_core_commands_accept_the_plugin_variables(
    capsys: pytest.CaptureFixture[str], configured: None
) -> None:
    """With SECRETKIT_MLFLOW_* set, the core's own commands still read the rest."""
    code, out, err = run(capsys, "get", "file://mlflow/auth#token")
    assert (code, err) == (0, "")
    assert "****" in out


class TestInfo:
    def test_shows_settings_and_sources(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        configured: None,
    ) -> None:
        """Each setting is shown with the variable it came from, the header masked."""
        monkeypatch.setenv("MLFLOW_SECRETS_ALLOWED_HOSTS", "*.corp.com")
        monkeypatch.setenv("VAULT_SECRET_ID", CANARY)
        code, out, _ = run(capsys, "mlflow", "info")
        assert code == 0
        assert "file://mlflow/auth  [SECRETKIT_MLFLOW_REF]" in out
        assert "Authorization: Bearer ****" in out
        assert "*.corp.com  [MLFLOW_SECRETS_ALLOWED_HOSTS]" in out

    def test_json(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--json prints the settings and the client, AppRole secret masked."""
        monkeypatch.setenv("MLFLOW_VAULT_SECRET_PATH", "secret/mlflow")
        monkeypatch.setenv("VAULT_ROLE_ID", "role")
        monkeypatch.setenv("VAULT_SECRET_ID", CANARY)
        code, out, _ = run(capsys, "mlflow", "info", "--json")
        assert code == 0
        shown = json.loads(out)
        assert shown["mlflow"]["provider"] == {
            "value": "vault",
            "source": "MLFLOW_VAULT_SECRET_PATH",
        }
        assert shown["client"]["backends"]["vault"]["secret_id"] == "****"

    def test_bad_configuration_exits_2(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An invalid configuration is one line on stderr and exit code 2."""
        code, _, err = run(capsys, "mlflow", "info")
        assert code == 2
        assert "SECRETKIT_MLFLOW_REF" in err


class TestDoctor:
    def test_passes_and_masks(
        self, capsys: pytest.CaptureFixture[str], configured: None
    ) -> None:
        """Resolve, fetch, build: each check passes and no value is printed."""
        code, out, _ = run(capsys, "mlflow", "doctor")
        assert code == 0
        assert out.count("ok  ") == 3
        assert "Authorization: Bearer ****" in out

    def test_dry_run_reports_the_status(
        self, capsys: pytest.CaptureFixture[str], gate: Gate, configured: None
    ) -> None:
        """--dry-run sends one request and reports the server's answer."""
        gate.reset(expected=f"Bearer {CANARY}")
        code, out, _ = run(capsys, "mlflow", "doctor", "--dry-run", gate.url)
        assert code == 0
        assert "answered 200" in out
        gate.reset(expected="Bearer something-else")
        code, out, _ = run(capsys, "mlflow", "doctor", "--dry-run", gate.url)
        assert code == 1
        assert "FAIL  GET 127.0.0.1" in out
        assert "answered 401" in out

    def test_host_outside_the_allowlist(
        self,
        capsys: pytest.CaptureFixture[str],
        tracking: Tracking,
        monkeypatch: pytest.MonkeyPatch,
        configured: None,
    ) -> None:
        """A tracking host outside the allowlist fails the check; nothing is sent."""
        monkeypatch.setenv("SECRETKIT_MLFLOW_ALLOWED_HOSTS", "mlflow.corp.com")
        code, out, _ = run(capsys, "mlflow", "doctor", "--dry-run", tracking.url)
        assert code == 1
        assert "is not in the allowlist" in out
        assert "answered" not in out

    def test_fetch_failure(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        configured: None,
    ) -> None:
        """A secret that is not there fails with its error class and exit 1."""
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/none")
        code, out, _ = run(capsys, "mlflow", "doctor")
        assert code == 1
        assert "FAIL  SecretNotFound" in out

    def test_bad_configuration(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An invalid configuration exits 2."""
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "x")
        monkeypatch.setenv("SECRETKIT_MLFLOW_AUTH_MODE", "digest")
        code, out, _ = run(capsys, "mlflow", "doctor")
        assert code == 2
        assert "FAIL  configuration: SECRETKIT_MLFLOW_AUTH_MODE" in out


@pytest.fixture
def config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A TOML file whose file backend holds the canary; the environment's is empty."""
    stored = tmp_path / "from-toml.json"
    stored.write_text(json.dumps({"mlflow/auth": {"token": CANARY}}))
    path = tmp_path / "secretkit.toml"
    path.write_text(f'[backends.file]\npath = "{stored}"\n\n[cache]\nttl = 42\n')
    monkeypatch.setenv("SECRETKIT_BACKENDS__FILE__PATH", str(tmp_path / "none.json"))
    monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")
    return path


class TestConfigFile:
    def test_doctor_after_the_command(
        self, capsys: pytest.CaptureFixture[str], config_file: Path
    ) -> None:
        """``mlflow doctor --config FILE`` reads the backends from the file."""
        code, out, _ = run(capsys, "mlflow", "doctor")
        assert code == 1  # the environment's file backend has no such file
        code, out, _ = run(capsys, "mlflow", "doctor", "--config", str(config_file))
        assert code == 0
        assert out.count("ok  ") == 3

    def test_doctor_before_the_command(
        self, capsys: pytest.CaptureFixture[str], config_file: Path
    ) -> None:
        """The global ``secretkit --config FILE mlflow doctor`` works the same."""
        code, out, _ = run(capsys, "--config", str(config_file), "mlflow", "doctor")
        assert code == 0
        assert "Authorization: Bearer ****" in out

    def test_info(self, capsys: pytest.CaptureFixture[str], config_file: Path) -> None:
        """``mlflow info --config FILE`` shows the file's backends and TTL."""
        code, out, _ = run(
            capsys, "mlflow", "info", "--json", "--config", str(config_file)
        )
        assert code == 0
        shown = json.loads(out)
        assert shown["client"]["backends"]["file"]["(source)"] == str(config_file)
        assert shown["mlflow"]["ttl"]["value"] == "42 s"

    def test_missing_file(
        self, capsys: pytest.CaptureFixture[str], config_file: Path
    ) -> None:
        """A --config file that is not there is a configuration failure, exit 2."""
        missing = str(config_file.with_name("absent.toml"))
        code, out, _ = run(capsys, "mlflow", "doctor", "--config", missing)
        assert code == 2
        assert "FAIL  configuration:" in out
        code, _, err = run(capsys, "mlflow", "info", "--config", missing)
        assert code == 2
        assert "absent.toml" in err


class TestTrackingUri:
    def test_host_outside_the_allowlist_fails(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        configured: None,
    ) -> None:
        """MLFLOW_TRACKING_URI on a host outside the allowlist fails doctor, exit 1."""
        monkeypatch.setenv("MLFLOW_SECRETS_ALLOWED_HOSTS", "*.corp.com")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.evil.example:8443")
        code, out, _ = run(capsys, "mlflow", "doctor")
        assert code == 1
        assert "FAIL  host mlflow.evil.example:8443 is not in the allowlist" in out

    def test_host_in_the_allowlist_passes_and_sends_nothing(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        gate: Gate,
        configured: None,
    ) -> None:
        """An allowed MLFLOW_TRACKING_URI passes; without --dry-run nothing is sent."""
        monkeypatch.setenv("MLFLOW_SECRETS_ALLOWED_HOSTS", "127.0.0.1")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", gate.url)
        code, out, _ = run(capsys, "mlflow", "doctor")
        assert code == 0
        assert f"ok    host {gate.url[7:]} is in the allowlist" in out
        assert gate.seen == []

    def test_dry_run_url_wins(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        gate: Gate,
        configured: None,
    ) -> None:
        """--dry-run URL is checked and sent to instead of MLFLOW_TRACKING_URI."""
        monkeypatch.setenv("MLFLOW_SECRETS_ALLOWED_HOSTS", "127.0.0.1")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", "https://mlflow.evil.example")
        gate.reset(expected=f"Bearer {CANARY}")
        code, out, _ = run(capsys, "mlflow", "doctor", "--dry-run", gate.url)
        assert code == 0
        assert "evil" not in out
        assert gate.seen == [f"Bearer {CANARY}"]
