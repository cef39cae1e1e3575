"""MLflow's own client, through the ``secretkit`` provider, against a real server."""

from __future__ import annotations

import logging
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from secretkit.core.errors import ConfigurationError, SecretNotFound

if TYPE_CHECKING:
    from collections.abc import Callable

    from .tracking import Gate, Tracking


def _client(url: str):  # returns MLflow's own client type
    import mlflow

    return mlflow.MlflowClient(tracking_uri=url)


def _log_a_run(url: str) -> str:
    """Create an experiment and log a run in it, as a training script would."""
    import uuid

    client = _client(url)
    experiment = client.create_experiment(f"e-{uuid.uuid4().hex[:8]}")
    run = client.create_run(experiment)
    client.log_param(run.info.run_id, "lr", "0.1")
    client.log_metric(run.info.run_id, "accuracy", 0.95)
    client.set_terminated(run.info.run_id)
    return str(client.get_run(run.info.run_id).data.metrics["accuracy"])


class TestDiscovery:
    def test_entry_point_is_installed(self) -> None:
        """The distribution declares ``secretkit`` in MLflow's provider group."""
        from secretkit.mlflow.provider import SecretkitAuthProvider

        found = {
            ep.name: ep for ep in entry_points(group="mlflow.request_auth_provider")
        }
        assert found["secretkit"].load() is SecretkitAuthProvider

    def test_mlflow_registry_holds_the_provider(self) -> None:
        """MLflow's own registry loaded our provider from the entry point."""
        from mlflow.tracking.request_auth.registry import (
            _request_auth_provider_registry,
        )

        names = [provider.get_name() for provider in _request_auth_provider_registry]
        assert "secretkit" in names

    def test_get_auth_is_one_object_per_process(
        self, monkeypatch: pytest.MonkeyPatch, secrets_file: Callable[[object], None]
    ) -> None:
        """Every request gets the same auth object: the configuration is read once."""
        from mlflow.tracking.request_auth.registry import fetch_auth

        secrets_file({"token": "t"})
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")
        assert fetch_auth("secretkit") is fetch_auth("secretkit")


class TestEndToEnd:
    def test_bearer_from_a_file(
        self,
        gate: Gate,
        monkeypatch: pytest.MonkeyPatch,
        secrets_file: Callable[[object], None],
    ) -> None:
        """A run is logged with ``Bearer <token>`` from a JSON file on every call."""
        secrets_file({"token": "file-token-1"})
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")
        gate.reset(expected="Bearer file-token-1")
        assert _log_a_run(gate.url) == "0.95"
        assert len(gate.seen) >= 6
        assert set(gate.seen) == {"Bearer file-token-1"}

    def test_basic_from_an_env_variable(
        self, tracking: Tracking, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Basic mode with a plain ``user:pass`` secret talks to the basic-auth app."""
        name, password = tracking.new_user()
        monkeypatch.setenv("MLFLOW_CREDS", f"{name}:{password}")
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "env://MLFLOW_CREDS")
        monkeypatch.setenv("SECRETKIT_MLFLOW_AUTH_MODE", "basic")
        assert _log_a_run(tracking.url) == "0.95"

    def test_custom_header_with_the_raw_token(
        self,
        gate: Gate,
        monkeypatch: pytest.MonkeyPatch,
        secrets_file: Callable[[object], None],
    ) -> None:
        """A custom header carries the token as it is, field name configured."""
        secrets_file({"api_key": "raw-key-7"})
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")
        monkeypatch.setenv("SECRETKIT_MLFLOW_HEADER", "X-Api-Key")
        monkeypatch.setenv("SECRETKIT_MLFLOW_TOKEN_FIELD", "api_key")
        gate.reset(header="X-Api-Key", expected="raw-key-7")
        assert len(_client(gate.url).search_experiments()) >= 1
        assert gate.seen == ["raw-key-7"]

    def test_rotation_after_one_refusal(
        self,
        tracking: Tracking,
        monkeypatch: pytest.MonkeyPatch,
        secrets_file: Callable[[object], None],
    ) -> None:
        """Rotated in the store and on the server: the next call passes after a 401."""
        from secretkit.mlflow.provider import shared_auth

        name, password = tracking.new_user()
        secrets_file({"username": name, "password": password})
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")
        monkeypatch.setenv("SECRETKIT_MLFLOW_AUTH_MODE", "basic")
        client = _client(tracking.url)
        client.search_experiments()
        calls = shared_auth().client.stats().backend_calls
        rotated = password + "-rotated"
        tracking.set_password(name, rotated)
        secrets_file({"username": name, "password": rotated})
        assert len(client.search_experiments()) >= 1
        assert shared_auth().client.stats().backend_calls == calls + 1

    def test_artifact_upload_after_rotation(
        self,
        gate: Gate,
        monkeypatch: pytest.MonkeyPatch,
        secrets_file: Callable[[object], None],
        tmp_path: Path,
    ) -> None:
        """An artifact PUT refused after a rotation is resent with its whole file."""
        secrets_file({"token": "before"})
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")
        gate.reset(expected="Bearer before")
        client = _client(gate.url)
        run = client.create_run(client.create_experiment(f"a-{tmp_path.name}"))
        first, second = tmp_path / "first.txt", tmp_path / "second.txt"
        first.write_text("one")
        second.write_text("two " * 10_000)
        client.log_artifact(run.info.run_id, str(first))  # MLflow caches the repo
        secrets_file({"token": "after"})
        gate.reset(expected="Bearer after")
        client.log_artifact(run.info.run_id, str(second))
        assert (gate.methods, gate.seen) == (
            ["PUT", "PUT"],
            ["Bearer before", "Bearer after"],
        )
        copy = client.download_artifacts(run.info.run_id, "second.txt", str(tmp_path))
        assert Path(copy).read_text() == "two " * 10_000

    def test_missing_secret_fails_loudly_and_sends_nothing(
        self,
        gate: Gate,
        monkeypatch: pytest.MonkeyPatch,
        secrets_file: Callable[[object], None],
    ) -> None:
        """An absent secret fails the call with SecretNotFound; no request goes out."""
        from mlflow.exceptions import MlflowException

        secrets_file({"token": "t"})
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/absent")
        with pytest.raises(MlflowException) as caught:
            _client(gate.url).search_experiments()
        assert isinstance(caught.value.__context__, SecretNotFound)
        assert "mlflow/absent" in str(caught.value)
        assert gate.seen == []

    def test_missing_configuration_fails_loudly(self, gate: Gate) -> None:
        """Without a reference, the MLflow call raises ConfigurationError at once."""
        with pytest.raises(ConfigurationError, match="SECRETKIT_MLFLOW_REF"):
            _client(gate.url).search_experiments()
        assert gate.seen == []


class TestLogging:
    def test_log_level_sets_only_our_logger(
        self, monkeypatch: pytest.MonkeyPatch, secrets_file: Callable[[object], None]
    ) -> None:
        """MLFLOW_SECRETS_LOG_LEVEL sets secretkit.mlflow's level, nothing else."""
        from secretkit.mlflow.provider import shared_auth

        secrets_file({"token": "t"})
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")
        monkeypatch.setenv("MLFLOW_SECRETS_LOG_LEVEL", "debug")
        ours = logging.getLogger("secretkit.mlflow")
        before = (
            list(ours.handlers),
            ours.propagate,
            logging.getLogger("secretkit").level,
            logging.getLogger().level,
        )
        shared_auth()
        assert ours.level == logging.DEBUG
        after = (
            list(ours.handlers),
            ours.propagate,
            logging.getLogger("secretkit").level,
            logging.getLogger().level,
        )
        assert after == before
