"""SecretAuth on real requests: the allowlist, renewal after refusal, loud failures."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
import requests

from secretkit.core.errors import DecodeError, SecretNotFound
from secretkit.mlflow.auth import SecretAuth, build_auth

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from .tracking import Gate, Tracking

SEARCH = "/api/2.0/mlflow/experiments/search?max_results=1"


@pytest.fixture
def auth(
    monkeypatch: pytest.MonkeyPatch, secrets_file: Callable[[object], None]
) -> Iterator[Callable[..., SecretAuth]]:
    """Build a SecretAuth from variables; closed after the test."""
    built: list[SecretAuth] = []

    def make(**variables: str) -> SecretAuth:
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")
        for name, value in variables.items():
            monkeypatch.setenv(name, value)
        built.append(build_auth())
        return built[-1]

    yield make
    for one in built:
        one.client.close()


class TestAllowlist:
    def test_refused_host_gets_no_header_and_a_warning(
        self,
        gate: Gate,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A host outside the list is sent nothing, and the warning names it."""
        secrets_file({"token": "t"})
        port = gate.url.rsplit(":", 1)[1]
        sender = auth(SECRETKIT_MLFLOW_ALLOWED_HOSTS=f"LOCALHOST:{port}")
        gate.reset(expected="Bearer t")
        with caplog.at_level("WARNING", logger="secretkit.mlflow"):
            refused = requests.get(gate.url + SEARCH, auth=sender, timeout=30)
            allowed = requests.get(
                f"http://localhost:{port}{SEARCH}", auth=sender, timeout=30
            )
        assert (refused.status_code, allowed.status_code) == (401, 200)
        assert gate.seen == [None, "Bearer t"]
        assert f"127.0.0.1:{port}" in caplog.text

    def test_checked_on_every_request(
        self,
        gate: Gate,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
    ) -> None:
        """One auth object used for two hosts decides per request, not once."""
        secrets_file({"token": "t"})
        sender = auth(SECRETKIT_MLFLOW_ALLOWED_HOSTS="127.0.0.1")
        gate.reset(expected="Bearer t")
        port = gate.url.rsplit(":", 1)[1]
        with requests.Session() as session:
            session.auth = sender
            codes = [
                session.get(f"{host}{SEARCH}", timeout=30).status_code
                for host in (gate.url, f"http://localhost:{port}", gate.url)
            ]
        assert codes == [200, 401, 200]
        assert gate.seen == ["Bearer t", None, "Bearer t"]


class TestRenewal:
    def test_second_refusal_is_returned_as_is(
        self,
        tracking: Tracking,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
    ) -> None:
        """A new secret the server still refuses: one resend, then the 401 itself."""
        name, password = tracking.new_user()
        secrets_file({"username": name, "password": password})
        sender = auth(SECRETKIT_MLFLOW_AUTH_MODE="basic")
        assert requests.get(tracking.url + SEARCH, auth=sender, timeout=30).ok
        tracking.set_password(name, password + "-server")
        secrets_file({"username": name, "password": password + "-store"})
        answer = requests.get(tracking.url + SEARCH, auth=sender, timeout=30)
        assert answer.status_code == 401
        assert [r.status_code for r in answer.history] == [401]

    def test_same_secret_is_not_resent(
        self,
        tracking: Tracking,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
    ) -> None:
        """When the store still holds the refused secret, the 401 comes back at once."""
        name, password = tracking.new_user()
        secrets_file({"username": name, "password": password})
        sender = auth(SECRETKIT_MLFLOW_AUTH_MODE="basic")
        tracking.set_password(name, password + "-server")
        answer = requests.get(tracking.url + SEARCH, auth=sender, timeout=30)
        assert (answer.status_code, answer.history) == (401, [])
        assert sender.client.stats().backend_calls == 2  # first fetch, one renewal

    def test_concurrent_refusals_share_one_fetch(
        self,
        tracking: Tracking,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
    ) -> None:
        """Eight requests refused together cause one more backend call, and all pass."""
        name, password = tracking.new_user()
        secrets_file({"username": name, "password": password})
        sender = auth(SECRETKIT_MLFLOW_AUTH_MODE="basic")
        sender.header()
        tracking.set_password(name, password + "-new")
        secrets_file({"username": name, "password": password + "-new"})
        codes: list[int] = []
        start = threading.Barrier(8)

        def one() -> None:
            start.wait()
            answer = requests.get(tracking.url + SEARCH, auth=sender, timeout=60)
            codes.append(answer.status_code)

        threads = [threading.Thread(target=one) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert codes == [200] * 8
        assert sender.client.stats().backend_calls == 2


class TestFailures:
    def test_missing_secret_raises_and_sends_nothing(
        self,
        gate: Gate,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """SecretNotFound stops the request before it leaves."""
        secrets_file({"token": "t"})
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://nope")
        sender = build_auth()
        try:
            with pytest.raises(SecretNotFound, match="nope"):
                requests.get(gate.url + SEARCH, auth=sender, timeout=30)
        finally:
            sender.client.close()
        assert gate.seen == []

    def test_unusable_secret_raises(
        self,
        gate: Gate,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
    ) -> None:
        """A secret without the fields the mode needs is a DecodeError, not no auth."""
        secrets_file({"something": "else"})
        with pytest.raises(DecodeError, match="file://mlflow/auth"):
            requests.get(gate.url + SEARCH, auth=auth(), timeout=30)
        assert gate.seen == []
