"""SecretAuth on real requests: allowlist, redirects, renewal, loud failures."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import pytest
import requests

from secretkit.core.errors import DecodeError, SecretNotFound
from secretkit.mlflow.auth import SecretAuth, build_auth

from .conftest import CANARY

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

    from .loopback import Answer, Loopback, Seen
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


def _rotated(
    auth: Callable[..., SecretAuth],
    secrets_file: Callable[[object], None],
    old: str,
    new: str,
    **env: str,
) -> SecretAuth:
    """An auth whose cache holds the token ``old`` while the store holds ``new``."""
    secrets_file({"token": old})
    sender = auth(**env)
    sender.header()
    secrets_file({"token": new})
    return sender


def _to(url: str, status: str = "302 Found") -> Callable[[Seen], Answer]:
    return lambda seen: (status, [("Location", url)])


def _never_saw_the_secret(server: Loopback, header: str) -> None:
    assert server.seen, "the redirect was not followed"
    for seen in server.seen:
        assert header.lower() not in seen.headers
        assert CANARY not in seen.text()


class TestRedirects:
    @pytest.mark.parametrize("header", ["Authorization", "X-Api-Key"])
    @pytest.mark.parametrize("status", ["302 Found", "307 Temporary Redirect"])
    def test_another_host_never_sees_the_secret(
        self,
        first: Loopback,
        second: Loopback,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
        header: str,
        status: str,
    ) -> None:
        """302 or 307 to another host: the header, whatever its name, stays behind."""
        secrets_file({"token": CANARY})
        sender = auth(SECRETKIT_MLFLOW_HEADER=header)
        first.rule = _to(f"http://localhost:{second.port}/landing", status)
        answer = requests.post(
            first.url + "/api", data=b'{"run": 1}', auth=sender, timeout=30
        )
        assert answer.status_code == 200
        assert CANARY in first.seen[0].headers[header.lower()]
        _never_saw_the_secret(second, header)
        if status.startswith("307"):  # the body goes along, the secret does not
            assert second.seen[0].body == b'{"run": 1}'

    def test_same_origin_keeps_the_header(
        self,
        first: Loopback,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
    ) -> None:
        """A redirect to a path of the same server keeps the custom header."""
        secrets_file({"token": "t"})
        sender = auth(SECRETKIT_MLFLOW_HEADER="X-Api-Key")
        first.rule = lambda seen: (
            ("302 Found", [("Location", "/landing")])
            if seen.path == "/api"
            else ("200 OK", [])
        )
        assert requests.get(first.url + "/api", auth=sender, timeout=30).ok
        assert [s.headers.get("x-api-key") for s in first.seen] == ["t", "t"]

    def test_another_port_and_an_allowed_host_still_drop_it(
        self,
        first: Loopback,
        second: Loopback,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
    ) -> None:
        """Same host name, other port, both in the allowlist: still dropped."""
        secrets_file({"token": CANARY})
        sender = auth(
            SECRETKIT_MLFLOW_HEADER="X-Api-Key",
            SECRETKIT_MLFLOW_ALLOWED_HOSTS="127.0.0.1,localhost",
        )
        first.rule = _to(f"http://127.0.0.1:{second.port}/landing")
        assert requests.get(first.url, auth=sender, timeout=30).ok
        _never_saw_the_secret(second, "X-Api-Key")

    def test_redirect_after_a_renewal(
        self,
        first: Loopback,
        second: Loopback,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
    ) -> None:
        """Refused, resent with the new secret, redirected away: nothing follows."""
        sender = _rotated(
            auth,
            secrets_file,
            CANARY + "-old",
            CANARY + "-new",
            SECRETKIT_MLFLOW_HEADER="X-Api-Key",
        )
        away = _to(f"http://localhost:{second.port}/landing")
        first.rule = lambda seen: (
            away(seen)
            if seen.headers.get("x-api-key") == CANARY + "-new"
            else ("401 Unauthorized", [])
        )
        answer = requests.get(first.url, auth=sender, timeout=30)
        assert answer.status_code == 200
        sent = [seen.headers.get("x-api-key") for seen in first.seen]
        assert sent == [CANARY + "-old", CANARY + "-new"]
        _never_saw_the_secret(second, "X-Api-Key")

    def test_through_mlflow(
        self,
        first: Loopback,
        second: Loopback,
        monkeypatch: pytest.MonkeyPatch,
        secrets_file: Callable[[object], None],
    ) -> None:
        """MLflow's client follows a 307 to another host; the custom header does not."""
        import mlflow

        secrets_file({"token": CANARY})
        monkeypatch.setenv("SECRETKIT_MLFLOW_REF", "file://mlflow/auth")
        monkeypatch.setenv("MLFLOW_AUTH_HEADER_NAME", "X-Api-Key")
        first.rule = lambda seen: (
            "307 Temporary Redirect",
            [("Location", f"http://localhost:{second.port}{seen.path}")],
        )
        found = mlflow.MlflowClient(tracking_uri=first.url).search_experiments()
        assert list(found) == []
        assert first.seen[0].headers["x-api-key"] == CANARY
        assert second.seen[0].path.startswith("/api/2.0/mlflow/experiments/search")
        _never_saw_the_secret(second, "X-Api-Key")


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

    @pytest.mark.parametrize("status", ["401 Unauthorized", "403 Forbidden"])
    def test_refusal_codes(
        self,
        first: Loopback,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
        status: str,
    ) -> None:
        """A 401 and a 403 both renew the secret and resend the request once."""
        sender = _rotated(auth, secrets_file, "old", "new")
        first.rule = lambda seen: (
            ("200 OK", [])
            if seen.headers.get("authorization") == "Bearer new"
            else (status, [])
        )
        answer = requests.get(first.url, auth=sender, timeout=30)
        assert answer.status_code == 200
        assert [r.status_code for r in answer.history] == [int(status[:3])]
        sent = [seen.headers.get("authorization") for seen in first.seen]
        assert sent == ["Bearer old", "Bearer new"]

    def test_generator_body_is_not_resent(
        self,
        gate: Gate,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
    ) -> None:
        """A streamed body gets its 401 back; the next request has the new secret."""
        sender = _rotated(auth, secrets_file, "old", "new")
        gate.reset(expected="Bearer new")

        def body() -> Iterator[bytes]:
            yield b'{"max_results": 1}'

        answer = requests.post(
            gate.url + "/api/2.0/mlflow/experiments/search",
            data=body(),
            auth=sender,
            timeout=30,
        )
        assert (answer.status_code, answer.history) == (401, [])
        assert gate.seen == ["Bearer old"]
        assert requests.get(gate.url + SEARCH, auth=sender, timeout=30).ok
        assert gate.seen == ["Bearer old", "Bearer new"]
        assert sender.client.stats().backend_calls == 2

    def test_file_body_is_rewound_and_resent(
        self,
        gate: Gate,
        auth: Callable[..., SecretAuth],
        secrets_file: Callable[[object], None],
        tmp_path: Path,
    ) -> None:
        """A file body (as MLflow uploads artifacts) goes again from its start."""
        sender = _rotated(auth, secrets_file, "old", "new")
        gate.reset(expected="Bearer new")
        query = tmp_path / "query.json"
        query.write_text('{"max_results": 1, "filter": "name = \'Default\'"}')
        with query.open("rb") as body:
            answer = requests.post(
                gate.url + "/api/2.0/mlflow/experiments/search",
                data=body,
                headers={"Content-Type": "application/json"},
                auth=sender,
                timeout=30,
            )
        assert [r.status_code for r in [*answer.history, answer]] == [401, 200]
        assert [e["name"] for e in answer.json()["experiments"]] == ["Default"]
        assert gate.seen == ["Bearer old", "Bearer new"]


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
