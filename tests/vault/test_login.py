"""Auth methods of the ``vault`` chain against a real OpenBao dev server."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from secretkit.core.credentials import CredentialChain, Credentials
from secretkit.core.errors import CredentialError
from secretkit.core.options import Options
from secretkit.core.secret import SecretRef
from secretkit.vault._login import LoginProvider
from secretkit.vault.backend import VaultBackend
from secretkit.vault.config import read_settings
from secretkit.vault.credentials import chain_for

from .bao_process import ROOT_TOKEN

if TYPE_CHECKING:
    from pathlib import Path

CANARY = "canary-0d5e-secret-never-shown"


class Clock:
    """A clock the test moves; starts at the real time (the server's)."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class Counting:
    """A provider that counts how often the chain asks it."""

    def __init__(self, inner: LoginProvider) -> None:
        self.inner = inner
        self.name = inner.name
        self.loads = 0

    async def load(self) -> Credentials[str] | None:
        """Ask the wrapped provider, counting."""
        self.loads += 1
        return await self.inner.load()


@pytest.fixture
def kv(root: Any, unique: str) -> str:
    """A KV v2 secret the ``reader`` policy may read; its name."""
    root.secrets.kv.v2.create_or_update_secret(unique, secret={"k": "v"})
    return f"secret/{unique}"


def _settings(url: str, **values: object):
    return read_settings(Options({"url": url, **values}, instance="v", source="t"), {})


def _backend(url: str, method: str, clock: Clock | None = None, **values: object):
    """A backend whose chain has a Counting ``method`` provider, on ``clock``."""
    settings = _settings(url, **values)
    provider = Counting(LoginProvider(method, settings, clock=clock or time.time))
    chain: CredentialChain[str] = CredentialChain(
        [provider], kind="vault", advisory=60, mandatory=15, clock=clock or time.time
    )
    return VaultBackend(settings, name="v", chain=chain), chain, provider


async def _read(backend: VaultBackend, name: str) -> str:
    value = (await backend.fetch(SecretRef(name=name))).value
    return value if isinstance(value, str) else value.decode()


class TestLogins:
    """Each auth method logs in and its token reads a secret."""

    async def test_approle_detected_from_role_id(self, vault_url, logins, kv) -> None:
        """role_id + secret_id pick AppRole; the token carries its lease."""
        settings = _settings(
            vault_url, role_id=logins.role_id, secret_id=logins.secret_id
        )
        chain = chain_for(settings, name="v")
        backend = VaultBackend(settings, name="v", chain=chain)
        try:
            assert await _read(backend, kv) == '{"k":"v"}'
        finally:
            await backend.aclose()
        creds = await chain.get()
        assert chain.provider == "approle"
        assert creds.expires_at is not None
        assert 3500 < creds.expires_at - time.time() <= 3600
        assert creds.metadata["policies"] == ("default", "reader")

    async def test_approle_from_files(self, vault_url, logins, kv, tmp_path) -> None:
        """role_id_file and secret_id_file are read (and stripped) at login."""
        (tmp_path / "rid").write_text(logins.role_id + "\n")
        (tmp_path / "sid").write_text(logins.secret_id + "\n")
        backend, _, _ = _backend(
            vault_url,
            "approle",
            auth="approle",
            role_id_file=str(tmp_path / "rid"),
            secret_id_file=str(tmp_path / "sid"),
        )
        try:
            assert await _read(backend, kv) == '{"k":"v"}'
        finally:
            await backend.aclose()

    async def test_userpass(self, vault_url, logins, kv) -> None:
        """username + password log in through userpass."""
        settings = _settings(vault_url, username="alice", password="alice-pw")
        chain = chain_for(settings, name="v")
        assert (await chain.get()).metadata["auth"] == "userpass"
        assert chain.provider == "userpass"

    async def test_jwt(self, vault_url, logins, kv, tmp_path) -> None:
        """A JWT signed by a key in jwt_validation_pubkeys logs in as its role."""
        (tmp_path / "jwt").write_text(logins.jwt())
        backend, chain, _ = _backend(
            vault_url, "jwt", role="ci", jwt_file=str(tmp_path / "jwt")
        )
        try:
            assert await _read(backend, kv) == '{"k":"v"}'
        finally:
            await backend.aclose()
        assert chain.provider == "jwt"


class TestRenewal:
    """Tokens are renewed ahead of expiry, once for every waiter."""

    async def test_renew_self_ahead_of_expiry(self, vault_url, logins, kv) -> None:
        """Inside the mandatory window a renewable token is renewed, not replaced."""
        clock = Clock()
        backend, chain, provider = _backend(
            vault_url,
            "approle",
            clock,
            role_id=logins.role_id,
            secret_id=logins.secret_id,
        )
        try:
            first = await chain.get()
            assert first.expires_at is not None
            clock.now = first.expires_at - 10
            async with anyio.create_task_group() as tg:
                for _ in range(20):
                    tg.start_soon(_read, backend, kv)
            second = await chain.get()
        finally:
            await backend.aclose()
        assert provider.loads == 2
        assert second.value == first.value
        assert second.metadata["renewed"] is True
        assert second.expires_at is not None
        assert second.expires_at - clock.now > 3500

    async def test_batch_token_logs_in_again(self, vault_url, logins) -> None:
        """A token that cannot be renewed (a batch token) is replaced by a login."""
        clock = Clock()
        _, chain, provider = _backend(
            vault_url,
            "approle",
            clock,
            role_id=logins.batch_role_id,
            secret_id=logins.batch_secret_id,
        )
        first = await chain.get()
        assert first.expires_at is not None
        clock.now = first.expires_at - 30  # advisory: one caller renews
        second = await chain.get()
        assert provider.loads == 2
        assert second.value != first.value
        assert second.metadata["renewed"] is False

    async def test_revoked_token_one_login(self, root, vault_url, logins, kv) -> None:
        """Concurrent reads with a revoked token cause one re-login, then succeed."""
        backend, chain, provider = _backend(
            vault_url, "approle", role_id=logins.role_id, secret_id=logins.secret_id
        )
        try:
            await _read(backend, kv)
            root.auth.token.revoke((await chain.get()).value)
            results: list[str] = []

            async def read() -> None:
                results.append(await _read(backend, kv))

            async with anyio.create_task_group() as tg:
                for _ in range(10):
                    tg.start_soon(read)
        finally:
            await backend.aclose()
        assert results == ['{"k":"v"}'] * 10
        assert provider.loads == 2

    async def test_revoked_static_token(self, root, vault_url, kv) -> None:
        """A revoked token from the token option: CredentialError after one retry."""
        token = root.auth.token.create(policies=["reader"], ttl="1h")["auth"]
        root.auth.token.revoke(token["client_token"])
        settings = _settings(vault_url, token=token["client_token"])
        backend = VaultBackend(settings, name="v")
        try:
            with pytest.raises(CredentialError, match="invalid or expired") as caught:
                await _read(backend, kv)
        finally:
            await backend.aclose()
        assert token["client_token"] not in str(caught.value)


class TestFailures:
    """Bad credentials are CredentialErrors naming the method; secrets never show."""

    @pytest.mark.parametrize(
        ("values", "method"),
        [
            ({"role_id": "nope", "secret_id": CANARY}, "approle"),
            ({"username": "alice", "password": CANARY}, "userpass"),
            ({"role": "ci", "jwt": CANARY}, "jwt"),
        ],
    )
    async def test_bad_credentials(
        self, vault_url, logins, caplog, values, method
    ) -> None:
        """A refused login names method, mount and role, and never the canary."""
        caplog.set_level(logging.DEBUG)
        chain = chain_for(_settings(vault_url, **values), name="v")
        with pytest.raises(CredentialError, match=f"{method} login") as caught:
            await chain.get()
        text = [str(caught.value), repr(caught.value), caplog.text, repr(chain)]
        cause: BaseException | None = caught.value
        while cause is not None:
            text.append(str(cause))
            cause = cause.__cause__
        assert f"mount {method!r}" in str(caught.value)
        assert not any(CANARY in t for t in text)

    async def test_missing_file(self, vault_url, tmp_path: Path) -> None:
        """An explicit method whose file is absent says which file."""
        chain = chain_for(
            _settings(vault_url, auth="jwt", jwt_file=str(tmp_path / "no")), name="v"
        )
        with pytest.raises(CredentialError, match=r"jwt file .* does not exist"):
            await chain.get()


class TestChoice:
    """The auth option chooses a method; else it is detected from what is given."""

    def test_explicit_auth_needs_its_inputs(self, vault_url) -> None:
        """auth = userpass without a password is a ConfigurationError at build."""
        from secretkit.core.errors import ConfigurationError

        with pytest.raises(ConfigurationError, match="password"):
            chain_for(_settings(vault_url, auth="userpass", username="a"), name="v")

    def test_explicit_auth_beats_token_option(self, vault_url) -> None:
        """With auth = approle, a token option is not used."""
        settings = _settings(vault_url, auth="approle", role_id="r", token=ROOT_TOKEN)
        assert "'token'" not in repr(chain_for(settings, name="v"))

    async def test_kubernetes_detected_only_with_its_file(
        self, vault_url, tmp_path, monkeypatch
    ) -> None:
        """A role without the service-account file falls through to VAULT_TOKEN."""
        monkeypatch.setenv("VAULT_TOKEN", ROOT_TOKEN)
        settings = _settings(
            vault_url, role="web", kubernetes_token_file=str(tmp_path / "sa")
        )
        chain = chain_for(settings, name="v")
        assert (await chain.get()).provider == "env"
