"""The MLflow plugin's tests: a real tracking server, a gate, loopback servers that
record what they are sent, and a clean environment."""

from __future__ import annotations

import json
import logging
import os
import sys
from typing import TYPE_CHECKING

import pytest

from .loopback import Loopback, loopback
from .tracking import Gate, Tracking, gate_server, tracking_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

CANARY = "canary-8c1f-do-not-print"
_CLEARED = ("MLFLOW_", "SECRETKIT_", "AWS_", "VAULT_", "AZURE_", "IDENTITY_", "MSI_")


@pytest.fixture(scope="session")
def tracking(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Tracking]:
    """The basic-auth tracking server, started once when a test needs it."""
    with tracking_server(tmp_path_factory.mktemp("mlflow")) as server:
        yield server


@pytest.fixture(scope="session")
def _gate(tracking: Tracking) -> Iterator[Gate]:
    with gate_server(tracking) as gate:
        yield gate


@pytest.fixture
def gate(_gate: Gate) -> Gate:
    """The bearer gate before the tracking server, expecting nothing yet."""
    _gate.reset()
    return _gate


@pytest.fixture
def first() -> Iterator[Loopback]:
    """A recording loopback server, the one a request goes to (127.0.0.1)."""
    with loopback() as server:
        yield server


@pytest.fixture
def second() -> Iterator[Loopback]:
    """Another recording loopback server; reached as ``localhost``, another host."""
    with loopback() as server:
        yield server


@pytest.fixture(autouse=True)
def mlflow_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    """Only this test's variables; MLflow uses our provider; no retries to wait."""
    for name in list(os.environ):
        if name.startswith(_CLEARED):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("MLFLOW_TRACKING_AUTH", "secretkit")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    logger = logging.getLogger("secretkit.mlflow")
    level = logger.level
    _reset_provider()
    yield
    _reset_provider()
    logger.setLevel(level)


def _reset_provider() -> None:
    # Only once MLflow loaded it: unit tests need not import MLflow at all.
    provider = sys.modules.get("secretkit.mlflow.provider")
    if provider is not None:
        provider.reset()


@pytest.fixture
def secrets_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Callable[[object], None]:
    """Write ``mlflow/auth`` into a JSON file the ``file`` backend reads."""
    path = tmp_path / "secrets.json"
    monkeypatch.setenv("SECRETKIT_BACKENDS__FILE__PATH", str(path))

    def write(value: object) -> None:
        # A new file each time, as a deployment swaps it: a new inode, seen at once.
        staged = tmp_path / "secrets.json.new"
        staged.write_text(json.dumps({"mlflow/auth": value}))
        os.replace(staged, path)

    return write
