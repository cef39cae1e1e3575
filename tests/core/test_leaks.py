"""The canary test: a secret value, fetched through every path, never shows.

With DEBUG logging on everywhere, a canary value goes through a miss, a hit, a
field, a batch, a stale serve, a refresh, errors, a watch, the sync facade and the
CLI. It must never appear in logs, reprs, strs, exception messages or tracebacks,
nor in CLI output, unless revealed on purpose.
"""

from __future__ import annotations

import json
import logging
import pickle
import traceback
from contextlib import aclosing

import anyio
import pytest

from secretkit.core import CachePolicy, SecretClient, SyncSecretClient
from secretkit.core.backend import Backend, SecretValue
from secretkit.core.backends.memory import MemoryBackend
from secretkit.core.cli import main
from secretkit.core.errors import BackendUnavailable, SecretkitError
from secretkit.core.secret import SecretRef
from secretkit.core.testing import FakeClock

CANARY = "CANARY-9d1e-leak"
VALUE = json.dumps({"password": CANARY, "user": "svc"})


class Flaky(Backend):
    """Serves the canary, then fails on command."""

    def __init__(self) -> None:
        self.name = "flaky"
        self.fail: Exception | None = None

    async def fetch(self, ref: SecretRef) -> SecretValue:
        if self.fail is not None:
            raise self.fail
        return SecretValue(value=VALUE, version="v1", metadata={"tag": "prod"})


def _shown(obj: object) -> str:
    """Everything a person or a log might see of an object."""
    parts = [repr(obj), str(obj), f"{obj}", "%s %r" % (obj, obj)]  # noqa: UP031
    if isinstance(obj, BaseException):
        parts.append("".join(traceback.format_exception(obj)))
    return "\n".join(parts)


@pytest.fixture
def debug_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """DEBUG logging on for every logger, secretkit's fetch log included."""
    caplog.set_level(logging.DEBUG)
    return caplog


async def test_every_async_path(debug_logs: pytest.LogCaptureFixture) -> None:
    """Miss, hit, field, batch, stale, refresh, errors and watch leak nothing."""
    flaky = Flaky()
    memory = MemoryBackend({"db/main": VALUE})
    clock = FakeClock()
    seen: list[str] = []
    policy = CachePolicy(ttl=60, max_stale=600, refresh_ahead=0.5, jitter=0)
    async with SecretClient(
        default="flaky",
        backends={"flaky": flaky, "mem": memory},
        cache=policy,
        clock=clock,
    ) as client:
        miss = await client.get("db/main")
        hit = await client.get("db/main")
        field = await client.get("db/main#password")
        value = await client.get_value("db/main", field="user")
        batch = await client.get_many(["db/main#password", "db/main#nope", "x?y=1"])
        seen += [_shown(s) for s in (miss, hit, field, value, batch, client)]
        seen += [_shown(e) for e in batch.errors.values()]
        seen.append(_shown(client.stats()))
        clock.advance(40)  # refresh-ahead window: a background refresh
        await anyio.wait_all_tasks_blocked()
        await client.get("db/main")
        await anyio.wait_all_tasks_blocked()
        flaky.fail = BackendUnavailable("network down", backend="flaky")
        clock.advance(61)  # expired: served stale through the outage
        await anyio.wait_all_tasks_blocked()
        seen.append(_shown(await client.get("db/main")))
        stats = client.stats()
        assert (stats.stale, stats.refreshes) == (1, 1)  # both paths were taken
        flaky.fail = RuntimeError(f"SDK bug quoting {CANARY}")
        await client.invalidate("db/main")
        with pytest.raises(SecretkitError) as caught:
            await client.get("db/main")
        seen.append(str(caught.value))
        seen.append(repr(caught.value))
        with pytest.raises(SecretkitError) as decode:
            await client.get("mem://db/main#missing")
        seen.append(_shown(decode.value))
        async with aclosing(client.watch("mem://db/main")) as changes:
            async for secret in changes:
                seen.append(_shown(secret))
                if secret.version == "2":
                    break
                await memory.put(SecretRef(name="db/main"), VALUE.replace("svc", "s2"))
    for text in seen:
        assert CANARY not in text
    assert CANARY not in debug_logs.text
    assert any(r.name == "secretkit.fetch" for r in debug_logs.records)
    with pytest.raises(SecretkitError):
        pickle.dumps(field)
    assert field.reveal() == CANARY  # revealed on purpose: the value is there


def test_sync_facade(debug_logs: pytest.LogCaptureFixture) -> None:
    """The blocking facade's hits and misses leak nothing."""
    with SyncSecretClient(backends={"m": MemoryBackend({"a": VALUE})}) as client:
        shown = [_shown(client.get("a")), _shown(client.get("a#password"))]
        shown.append(_shown(client.get_many(["a", "a#password"])))
        shown.append(_shown(client))
    assert all(CANARY not in text for text in shown)
    assert CANARY not in debug_logs.text


def test_cli_masks_unless_revealed(
    tmp_path, capsys: pytest.CaptureFixture[str], monkeypatch
) -> None:
    """The CLI prints the value only with --reveal, whatever the verbosity."""
    for name in [v for v in __import__("os").environ if v.startswith("SECRETKIT_")]:
        monkeypatch.delenv(name)
    secrets = tmp_path / "secrets.json"
    secrets.write_text(json.dumps({"db": {"main": {"password": CANARY}}}))
    config = tmp_path / "secretkit.toml"
    config.write_text(f'default = "file"\n[backends.file]\npath = "{secrets}"\n')
    base = ["--config", str(config), "-v"]
    for argv in (
        ["get", "db/main"],
        ["get", "db/main", "--field", "password"],
        ["get", "db/main#password", "--json"],
        ["get", "db/main#nope"],
        ["ls"],
        ["info"],
        ["doctor"],
    ):
        main([*base, *argv])
        out, err = capsys.readouterr()
        assert CANARY not in out, argv
        assert CANARY not in err, argv
    assert main([*base, "get", "db/main#password", "--reveal"]) == 0
    assert CANARY in capsys.readouterr().out
