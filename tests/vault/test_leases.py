"""Leases of dynamic secrets: renewed instead of read anew, revoked on close.

Each test mounts its own ``rabbitmq`` engine (leases of 300 s, renewable) against
the loopback stand-in for RabbitMQ's management API.
"""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any

import anyio
import hvac.exceptions
import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import AccessDenied, ConfigurationError, SecretNotFound
from secretkit.core.options import Options
from secretkit.core.secret import SecretRef
from secretkit.core.testing import FakeClock
from secretkit.vault import _leases
from secretkit.vault.backend import VaultBackend
from secretkit.vault.config import read_settings

from .bao_process import ROOT_TOKEN
from .rabbitmq_api import rabbitmq_api

if TYPE_CHECKING:
    from collections.abc import Iterator


class Clock:
    """Monotonic seconds the test moves."""

    def __init__(self) -> None:
        self.now = time.monotonic()

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def rabbit(root: Any, unique: str) -> Iterator[tuple[str, list[str]]]:
    """A rabbitmq engine at ``unique`` with role ``app``; its creds path, API calls."""
    with rabbitmq_api() as (api, calls):
        root.sys.enable_secrets_engine("rabbitmq", path=unique)
        root.write(
            f"{unique}/config/connection",
            connection_uri=api,
            username="admin",
            password="admin",
            verify_connection=False,
        )
        root.write(f"{unique}/config/lease", ttl=300, max_ttl=600)
        root.write(f"{unique}/roles/app", vhosts='{"/": {"read": ".*"}}')
        yield f"{unique}/creds/app", calls
        root.sys.disable_secrets_engine(unique)


def _backend(url: str, clock: Clock, **values: object) -> VaultBackend:
    given = {"url": url, "token": ROOT_TOKEN, **values}
    options = Options(given, instance="v", source="test")
    return VaultBackend(read_settings(options, {}), name="v", clock=clock)


async def _fetch(backend: VaultBackend, name: str) -> tuple[dict[str, str], str, Any]:
    value = await backend.fetch(SecretRef(name=name))
    text = value.value if isinstance(value.value, str) else value.value.decode()
    return json.loads(text), str(value.metadata["lease_id"]), value


class TestRenewal:
    """A remembered, renewable lease is renewed on the next fetch."""

    async def test_renewal_keeps_credentials(self, root, vault_url, rabbit) -> None:
        """The next fetch renews the lease: same credentials, a later expiry."""
        path, calls = rabbit
        backend = _backend(vault_url, Clock())
        try:
            first, lease_id, _ = await _fetch(backend, path)
            before = root.sys.read_lease(lease_id)["data"]
            second, again, value = await _fetch(backend, path)
        finally:
            await backend.aclose()
        after = root.sys.read_lease(lease_id)["data"]
        assert (second, again) == (first, lease_id)
        assert value.ttl == 300
        assert before["last_renewal"] is None
        assert after["last_renewal"] is not None
        assert after["expire_time"] >= before["expire_time"]
        assert sum(call.startswith("PUT /api/users/") for call in calls) == 1

    async def test_expired_lease_reads_anew(self, vault_url, rabbit) -> None:
        """Past its expiry on the backend's clock, a lease is not renewed: new creds."""
        path, _ = rabbit
        clock = Clock()
        backend = _backend(vault_url, clock)
        try:
            first, lease_id, _ = await _fetch(backend, path)
            clock.now += 301
            second, other, _ = await _fetch(backend, path)
        finally:
            await backend.aclose()
        assert other != lease_id
        assert second["username"] != first["username"]

    async def test_revoked_elsewhere_reads_anew(self, root, vault_url, rabbit) -> None:
        """A lease revoked on the server cannot be renewed: the fetch reads anew."""
        path, _ = rabbit
        backend = _backend(vault_url, Clock())
        try:
            first, lease_id, _ = await _fetch(backend, path)
            root.sys.revoke_lease(lease_id)
            second, other, _ = await _fetch(backend, path)
        finally:
            await backend.aclose()
        assert other != lease_id
        assert second["username"] != first["username"]

    async def test_short_renewal_reads_anew(self, vault_url, rabbit, monkeypatch):
        """A renewal granting under half the lease (max_ttl near) reads anew."""
        path, _ = rabbit
        monkeypatch.setattr(_leases, "renew", lambda client, lease_id, inc: 10)
        backend = _backend(vault_url, Clock())
        try:
            first, lease_id, _ = await _fetch(backend, path)
            second, other, value = await _fetch(backend, path)
        finally:
            await backend.aclose()
        assert other != lease_id
        assert second != first
        assert value.ttl == 300

    async def test_client_refresh_renews(self, vault_url, rabbit, caplog) -> None:
        """Through SecretClient, a fetch after the cached copy expired renews it."""
        path, calls = rabbit
        caplog.set_level(logging.DEBUG)
        clock = FakeClock()
        options = {"url": vault_url, "token": ROOT_TOKEN}
        async with SecretClient(backends={"vault": options}, clock=clock) as client:
            first = await client.get(f"vault://{path}")
            clock.advance(400)  # the cache's clock: the copy is gone, the lease lives
            await anyio.wait_all_tasks_blocked()
            second = await client.get(f"vault://{path}")
        assert second.reveal() == first.reveal()
        assert sum(call.startswith("PUT /api/users/") for call in calls) == 1
        assert "renewed the Vault lease" in caplog.text
        for secret in json.loads(first.reveal()).values():
            assert secret not in caplog.text


class TestRevokeOnClose:
    """revoke_leases revokes every lease handed out when the backend closes."""

    async def test_revoked_on_close(self, root, vault_url, rabbit, caplog) -> None:
        """With revoke_leases, the leases are gone after aclose() (lookup fails)."""
        path, calls = rabbit
        caplog.set_level(logging.DEBUG)
        backend = _backend(vault_url, Clock(), revoke_leases=True)
        try:
            first, lease_id, _ = await _fetch(backend, path)
            await _fetch(backend, path)  # renewed: still one lease
        finally:
            await backend.aclose()
        with pytest.raises(hvac.exceptions.InvalidRequest):
            root.sys.read_lease(lease_id)
        assert f"DELETE /api/users/{first['username']}" in calls
        assert first["password"] not in caplog.text

    async def test_kept_by_default(self, root, vault_url, rabbit) -> None:
        """Without revoke_leases, closing leaves the lease to expire on its own."""
        path, _ = rabbit
        backend = _backend(vault_url, Clock())
        try:
            _, lease_id, _ = await _fetch(backend, path)
        finally:
            await backend.aclose()
        assert root.sys.read_lease(lease_id)["data"]["id"] == lease_id

    async def test_expired_not_revoked(self, root, vault_url, rabbit) -> None:
        """Leases already expired on the backend's clock are not sent to revoke."""
        path, _ = rabbit
        clock = Clock()
        backend = _backend(vault_url, clock, revoke_leases=True)
        try:
            _, lease_id, _ = await _fetch(backend, path)
            clock.now += 301
        finally:
            await backend.aclose()
        assert root.sys.read_lease(lease_id)["data"]["id"] == lease_id


class TestCheckSecret:
    """check() proves a named secret readable without showing it."""

    async def test_readable(self, root, vault_url, unique) -> None:
        """check_secret is read; the line names it and its version, not its value."""
        root.secrets.kv.v2.create_or_update_secret(unique, secret={"k": "v4lue"})
        backend = _backend(vault_url, Clock(), check_secret=f"secret/{unique}")
        try:
            line = await backend.check()
        finally:
            await backend.aclose()
        assert line.endswith(f"; 'secret/{unique}' readable (version 1)")
        assert "v4lue" not in line

    async def test_missing(self, vault_url, unique) -> None:
        """A check_secret that does not exist fails check() with SecretNotFound."""
        backend = _backend(vault_url, Clock(), check_secret=f"secret/{unique}")
        try:
            with pytest.raises(SecretNotFound):
                await backend.check()
        finally:
            await backend.aclose()

    async def test_denied(self, root, vault_url, unique) -> None:
        """A check_secret the token may not read fails check() with AccessDenied."""
        root.sys.create_or_update_policy("nothing", 'path "x/*" { capabilities = [] }')
        token = root.auth.token.create(policies=["nothing"], ttl="10m")["auth"]
        backend = _backend(
            vault_url,
            Clock(),
            token=token["client_token"],
            check_secret=f"secret/{unique}",
        )
        try:
            with pytest.raises(AccessDenied):
                await backend.check()
        finally:
            await backend.aclose()

    def test_invalid_reference(self) -> None:
        """A check_secret that is no valid reference is a ConfigurationError."""
        with pytest.raises(ConfigurationError, match="check_secret"):
            read_settings(
                Options({"check_secret": "?x"}, instance="v", source="test"), {}
            )
