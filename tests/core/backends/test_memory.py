"""The ``memory`` backend: an in-process store with versions and push watch."""

from __future__ import annotations

import traceback
from contextlib import aclosing

import anyio
import pytest

from secretkit.core.backends import plugin
from secretkit.core.backends.memory import MemoryBackend
from secretkit.core.errors import (
    BackendUnavailable,
    ConfigurationError,
    NotSupported,
    SecretNotFound,
)
from secretkit.core.options import Options
from secretkit.core.secret import SecretRef

# Marked here, not only by the conftest hook, so parametrized async tests keep
# their parameters (the hook runs after parametrization).
pytestmark = pytest.mark.anyio

CANARY = "CANARY-7f3a"


def make(**values: object) -> MemoryBackend:
    """Build a ``memory`` backend through its factory, as a client does."""
    (factory,) = [f for f in plugin.secretkit_register_backends() if f.type == "memory"]
    backend = factory.create(Options(values, instance="x", source="test"))
    assert isinstance(backend, MemoryBackend)
    return backend


def ref(text: str) -> SecretRef:
    return SecretRef.parse(text)


class TestFetch:
    """Initial secrets and reading versions."""

    async def test_initial_secrets_are_version_one(self) -> None:
        """Each initial secret is version "1", current; dicts and lists become JSON."""
        backend = make(
            secrets={
                "text": "v",
                "blob": b"\x00\xff",
                "table": {"user": "u", "port": 5432},
                "items": [1, "a"],
            }
        )
        text = await backend.fetch(ref("text"))
        assert (text.value, text.version, text.stages) == ("v", "1", ("current",))
        assert text.created is not None
        assert (await backend.fetch(ref("blob"))).value == b"\x00\xff"
        table = await backend.fetch(ref("table#user"))
        assert table.value == '{"user":"u","port":5432}'
        assert (await backend.fetch(ref("items"))).value == '[1,"a"]'

    async def test_versions_and_stages(self) -> None:
        """Each put adds a version; old ones stay readable by number."""
        backend = make(secrets={"db": "one"})
        stored = await backend.put(ref("db"), "two")
        assert (stored.version, stored.stages) == ("2", ("current",))
        newest = await backend.fetch(ref("db"))
        assert (newest.value, newest.version) == ("two", "2")
        old = await backend.fetch(ref("db?version=1"))
        assert (old.value, old.version, old.stages) == ("one", "1", ())
        assert (await backend.fetch(ref("db?stage=current"))).value == "two"
        assert (await backend.fetch(ref("db?version=2&stage=current"))).value == "two"

    @pytest.mark.parametrize(
        "query",
        [
            "?version=3",
            "?version=0",
            "?version=01",
            "?version=x",
            pytest.param(f"?version={'9' * 5000}", id="?version=999..."),
            "?stage=old",
        ],
    )
    async def test_unknown_versions_and_stages(self, query: str) -> None:
        """A version or stage that does not exist is SecretNotFound, value unshown."""
        backend = make(secrets={"db": CANARY})
        await backend.put(ref("db"), "two")
        with pytest.raises(SecretNotFound) as caught:
            await backend.fetch(ref(f"db{query}"))
        assert caught.value.ref == "db"
        assert CANARY not in "".join(traceback.format_exception(caught.value))

    async def test_old_version_is_not_current(self) -> None:
        """``?version=1&stage=current`` fails once version 2 exists."""
        backend = make(secrets={"db": "one"})
        backend.set("db", "two")
        with pytest.raises(SecretNotFound, match="stage"):
            await backend.fetch(ref("db?version=1&stage=current"))

    async def test_missing(self) -> None:
        """An unknown name is SecretNotFound naming it and the backend."""
        with pytest.raises(SecretNotFound, match="'nope'") as caught:
            await make().fetch(ref("nope"))
        assert caught.value.backend == "x"


class TestWrites:
    """put, delete and the sync helpers."""

    async def test_put_without_create(self) -> None:
        """``create=False`` on a missing name is SecretNotFound and stores nothing."""
        backend = make()
        with pytest.raises(SecretNotFound, match="create=True"):
            await backend.put(ref("new"), "v", create=False)
        assert [name async for name in backend.list()] == []
        await backend.put(ref("new"), "v")
        assert (await backend.put(ref("new"), "w", create=False)).version == "2"

    async def test_delete(self) -> None:
        """Delete removes every version; deleting again is SecretNotFound."""
        backend = make(secrets={"db": "one"})
        await backend.delete(ref("db"))
        with pytest.raises(SecretNotFound):
            await backend.fetch(ref("db"))
        with pytest.raises(SecretNotFound):
            await backend.delete(ref("db"))
        assert (await backend.put(ref("db"), "again")).version == "1"

    async def test_put_refuses_other_types(self) -> None:
        """A value that is not text, bytes, dict or list raises NotSupported."""
        backend = make()
        with pytest.raises(NotSupported, match="int"):
            backend.set("n", 5)
        assert await backend.check() == "memory (0 secrets)"

    async def test_set_and_calls(self) -> None:
        """``set`` stores synchronously and ``calls`` counts fetches."""
        backend = make()
        assert backend.set("a", "1").version == "1"
        assert backend.calls == 0
        await backend.fetch(ref("a"))
        with pytest.raises(SecretNotFound):
            await backend.fetch(ref("b"))
        assert backend.calls == 2

    async def test_fail_with_simulates_an_outage(self) -> None:
        """While ``fail_with`` is set, fetch raises it; clearing it recovers."""
        backend = make(secrets={"a": "1"})
        backend.fail_with = BackendUnavailable("down", backend="x")
        with pytest.raises(BackendUnavailable, match="down"):
            await backend.fetch(ref("a"))
        backend.fail_with = None
        assert (await backend.fetch(ref("a"))).value == "1"
        assert backend.calls == 2


class TestListAndCheck:
    """Names and identity."""

    async def test_list_prefix(self) -> None:
        """list yields sorted names under the prefix, never values."""
        backend = make(secrets={"db/b": CANARY, "db/a": "x", "api/key": "y"})
        assert [n async for n in backend.list("db/")] == ["db/a", "db/b"]
        assert [n async for n in backend.list()] == ["api/key", "db/a", "db/b"]

    async def test_check_and_repr(self) -> None:
        """check() counts secrets; repr shows no value."""
        backend = make(secrets={"a": CANARY, "b": "x"})
        assert await backend.check() == "memory (2 secrets)"
        assert CANARY not in repr(backend)
        assert CANARY not in repr(await backend.fetch(ref("a")))


class TestWatch:
    """Push notifications for put and delete."""

    async def test_put_and_delete_wake_the_watcher(self) -> None:
        """Each put or delete of the name wakes the watcher; others do not."""
        backend = make(secrets={"db": "one"})
        woken: list[None] = []
        with anyio.fail_after(5):
            async with aclosing(backend.watch(ref("db"))) as changes:

                async def consume() -> None:
                    async for change in changes:
                        woken.append(change)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(consume)
                    await anyio.wait_all_tasks_blocked()
                    backend.set("other", "x")
                    await anyio.wait_all_tasks_blocked()
                    assert woken == []
                    await backend.put(ref("db"), "two")
                    await anyio.wait_all_tasks_blocked()
                    assert len(woken) == 1
                    await backend.delete(ref("db"))
                    await anyio.wait_all_tasks_blocked()
                    assert len(woken) == 2
                    tg.cancel_scope.cancel()

    async def test_change_after_watch_call_is_not_missed(self) -> None:
        """A put between ``watch()`` and the first ``anext`` is still reported."""
        backend = make(secrets={"db": "one"})
        with anyio.fail_after(5):
            async with aclosing(backend.watch(ref("db"))) as changes:
                backend.set("db", "two")
                backend.set("db", "three")
                await anext(changes)  # two puts, coalesced into one wake-up


class TestOptions:
    """The factory's option checks."""

    def test_unknown_option(self) -> None:
        """An unknown option raises ConfigurationError naming the key."""
        with pytest.raises(ConfigurationError, match=r"secret\b") as caught:
            make(secret={"a": "b"})
        assert caught.value.key == "backends.x.secret"

    def test_bad_secret_type(self) -> None:
        """A secret of an unsupported type is a ConfigurationError on ``secrets``."""
        with pytest.raises(ConfigurationError, match=r"'n'.*int") as caught:
            make(secrets={"n": 5})
        assert caught.value.key == "backends.x.secrets"

    def test_secrets_must_be_a_table(self) -> None:
        """``secrets`` that is not a table is a ConfigurationError hiding its value."""
        with pytest.raises(ConfigurationError, match="secrets") as caught:
            make(secrets=[CANARY])
        assert CANARY not in str(caught.value)
