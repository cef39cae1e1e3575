"""Canary: a secret value never shows in logs (DEBUG), warnings, errors or reprs."""

from __future__ import annotations

import logging
import warnings
from typing import TYPE_CHECKING

import pytest
import requests

from .conftest import CANARY
from .test_provider import _client

if TYPE_CHECKING:
    from collections.abc import Callable

    from .loopback import Loopback
    from .tracking import Gate, Tracking


def test_nothing_leaks_through_a_whole_session(
    gate: Gate,
    tracking: Tracking,
    first: Loopback,
    second: Loopback,
    monkeypatch: pytest.MonkeyPatch,
    secrets_file: Callable[[object], None],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Success, rotation, a stream, a redirect, a refused host and a failure, all
    at DEBUG: no canary."""
    from mlflow.exceptions import MlflowException

    from secretkit.mlflow.provider import shared_auth

    secrets_file({"token": CANARY})
    monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")
    monkeypatch.setenv("MLFLOW_SECRETS_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("MLFLOW_SECRETS_ALLOWED_HOSTS", "127.0.0.1")
    port = gate.url.rsplit(":", 1)[1]
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG), warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        gate.reset(expected=f"Bearer {CANARY}")
        _client(gate.url).search_experiments()
        secrets_file({"token": CANARY + "-2"})
        gate.reset(expected=f"Bearer {CANARY}-2")
        _client(gate.url).search_experiments()  # refused once, renewed
        assert gate.seen == [f"Bearer {CANARY}", f"Bearer {CANARY}-2"]
        secrets_file({"token": CANARY + "-3"})
        gate.reset(expected=f"Bearer {CANARY}-3")
        streamed = requests.post(gate.url, data=iter([b"{}"]), auth=shared_auth())
        assert streamed.status_code == 401  # renewed, not resent
        first.rule = lambda seen: (
            "302 Found",
            [("Location", f"http://localhost:{second.port}/")],
        )
        assert requests.get(first.url, auth=shared_auth()).ok
        assert CANARY not in second.seen[0].text()
        refused = requests.get(f"http://localhost:{port}/", auth=shared_auth())
        assert refused.status_code == 401
        secrets_file({"token": f"{CANARY}\r\nX-Injected: yes"})
        shared_auth().client.clear()
        with pytest.raises(MlflowException) as caught:
            _client(gate.url).search_experiments()
        texts += [str(caught.value), repr(caught.value.__context__)]
        texts += [repr(shared_auth()), repr(shared_auth().settings)]
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(w.message) for w in seen]
    assert any("refused the MLflow credentials" in t for t in texts)
    assert any("not resent" in t for t in texts)
    assert any("not in the allowlist" in t for t in texts)
    assert all(CANARY not in text for text in texts)
