"""SecretClient and SyncSecretClient: routing, fields, batches, hooks, loops, fork."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from contextlib import aclosing

import anyio
import anyio.lowlevel
import anyio.to_thread
import pytest

from secretkit.core import CachePolicy, SecretClient, SyncSecretClient, hookimpl
from secretkit.core.backend import Backend, SecretValue
from secretkit.core.backends.memory import MemoryBackend
from secretkit.core.errors import (
    BackendError,
    BackendNotFound,
    BackendUnavailable,
    ConfigurationError,
    DecodeError,
    InvalidReference,
    SecretkitError,
    SecretNotFound,
)
from secretkit.core.hookspecs import FetchEvent
from secretkit.core.plugins import Registry
from secretkit.core.secret import SecretRef

from .fakes import BatchingBackend


class TestRouting:
    async def test_default_is_the_only_backend(self, counting) -> None:
        """With one configured backend, bare names go to it."""
        async with SecretClient(backends={"t": counting}) as client:
            assert client.default == "t"
            assert (await client.get("db/main")).backend == "t"

    async def test_several_instances_of_one_type(self) -> None:
        """Two memory instances live side by side under their own names."""
        async with SecretClient(
            default="a",
            backends={
                "a": {"type": "memory", "secrets": {"db/main": "from-a"}},
                "prod": {"type": "memory", "secrets": {"db/main": "from-prod"}},
            },
        ) as client:
            assert await client.get_value("db/main") == "from-a"
            assert await client.get_value("prod://db/main") == "from-prod"
            assert await client.get_value("a://db/main") == "from-a"

    async def test_installed_type_works_without_configuration(
        self, monkeypatch
    ) -> None:
        """env://NAME reads the environment with no configuration at all."""
        monkeypatch.setenv("MLFLOW_AUTH", "tok")
        async with SecretClient() as client:
            assert client.default == "env"
            assert await client.get_value("env://mlflow/auth") == "tok"
            assert await client.get_value("mlflow/auth") == "tok"

    def test_unknown_backend_names_installed_ones_and_the_extra(self) -> None:
        """An unknown backend's error says what is installed and what to get."""
        from secretkit.core.backends import plugin as builtin

        core_only = Registry.load(entry_points=False)  # as if secretkit-aws were absent
        core_only.register(builtin, name="builtin")
        client = SecretClient(backends={"m": {"type": "memory"}}, plugins=core_only)
        with pytest.raises(BackendNotFound) as caught:
            anyio.run(client.get, "aws://db/main")
        message = str(caught.value)
        assert "memory" in message and "env" in message
        assert "secretkit[aws]" in message

    def test_unknown_type_in_configuration(self) -> None:
        """A configured backend whose type is not installed fails at construction."""
        from secretkit.core.backends import plugin as builtin

        core_only = Registry.load(
            entry_points=False
        )  # as if secretkit-vault were absent
        core_only.register(builtin, name="builtin")
        with pytest.raises(BackendNotFound, match="secretkit\\[vault\\]"):
            SecretClient(backends={"kv": {"type": "vault"}}, plugins=core_only)

    def test_unknown_option_is_a_configuration_error(self) -> None:
        """An option the backend does not know fails at construction, naming it."""
        with pytest.raises(ConfigurationError, match=r"backends\.m\.colour"):
            SecretClient(backends={"m": {"type": "memory", "colour": "blue"}})

    async def test_bad_reference(self, counting) -> None:
        """A malformed reference raises InvalidReference before any backend call."""
        async with SecretClient(backends={"t": counting}) as client:
            with pytest.raises(InvalidReference):
                await client.get("db/main?colour=blue")
        assert counting.calls == 0

    async def test_secretref_objects_are_accepted(self, counting) -> None:
        """A SecretRef works wherever reference text does."""
        async with SecretClient(backends={"t": counting}) as client:
            secret = await client.get(SecretRef(name="db/main", field="user"))
        assert secret.reveal() == "u"


class TestValues:
    async def test_fields_and_pointers(self, counting) -> None:
        """#field, field= and JSON pointers select parts of a JSON value."""
        counting.canary = "pw"
        async with SecretClient(backends={"t": counting}) as client:
            assert await client.get_value("db/main#password") == "pw-1"
            assert await client.get_value("db/main", field="user") == "u"
            assert await client.get_value("db/main#/user") == "u"
            assert counting.calls == 1
            with pytest.raises(DecodeError, match="no field"):
                await client.get("db/main#nope")
            with pytest.raises(SecretkitError, match="both"):
                await client.get("db/main#user", field="password")

    async def test_binary_values_stay_bytes(self) -> None:
        """A bytes secret comes back as bytes."""
        async with SecretClient(
            backends={"m": MemoryBackend({"blob": b"\x00\xff"})}
        ) as client:
            assert await client.get_value("blob") == b"\x00\xff"

    async def test_metadata_without_revealing(self) -> None:
        """Name, version, stages and backend are readable; repr stays masked."""
        async with SecretClient(backends={"m": MemoryBackend({"a": "v"})}) as client:
            secret = await client.get("a")
        assert (secret.name, secret.version, secret.backend) == ("a", "1", "m")
        assert secret.stages == ("current",)
        assert repr(secret) == "Secret('a', ****)"

    async def test_version_selection(self) -> None:
        """?version= fetches an older version, cached separately from the newest."""
        memory = MemoryBackend({"a": "one"})
        memory.set("a", "two")
        async with SecretClient(backends={"m": memory}) as client:
            assert await client.get_value("a?version=1") == "one"
            assert await client.get_value("a") == "two"

    async def test_backend_bug_becomes_a_backend_error(self) -> None:
        """An unexpected exception from a backend surfaces as BackendError."""

        class Broken(Backend):
            async def fetch(self, ref: SecretRef) -> SecretValue:
                raise KeyError("internal")

        async with SecretClient(backends={"b": Broken()}) as client:
            with pytest.raises(BackendError, match="KeyError") as caught:
                await client.get("x")
        assert isinstance(caught.value.__cause__, KeyError)


class TestGetMany:
    async def test_one_failure_never_fails_the_others(self, counting) -> None:
        """get_many returns what it found and an error per failure."""
        counting.missing.add("gone")
        async with SecretClient(backends={"t": counting}) as client:
            batch = await client.get_many(["a", "b#user", "gone"])
        assert sorted(batch) == ["a", "b#user"]
        assert batch["b#user"].reveal() == "u"
        assert isinstance(batch.errors["gone"], SecretNotFound)
        assert "s3cr3t" not in repr(batch)

    async def test_raise_on_error(self, counting) -> None:
        """raise_on_error=True raises the first failure."""
        counting.missing.add("gone")
        async with SecretClient(backends={"t": counting}) as client:
            with pytest.raises(SecretNotFound):
                await client.get_many(["a", "gone"], raise_on_error=True)

    async def test_shares_fetches_with_concurrent_gets(self, counting) -> None:
        """Refs that differ only by field cost one backend call."""
        async with SecretClient(backends={"t": counting}) as client:
            batch = await client.get_many(["a#user", "a#password", "a"])
        assert len(batch) == 3
        assert counting.calls == 1


class TestBatches:
    async def test_batch_api_costs_one_call(self) -> None:
        """Misses on a backend with fetch_many cost one batch call in total."""
        backend = BatchingBackend()
        backend.missing.add("gone")
        async with SecretClient(backends={"b": backend}) as client:
            batch = await client.get_many(["a", "b", "c#x", "gone"])
            assert backend.batches == [["a", "b", "c", "gone"]]
            assert backend.calls == 0
            assert batch["a"].reveal() == "batched-a"
            assert isinstance(batch.errors["gone"], SecretNotFound)
            assert isinstance(batch.errors["c#x"], DecodeError)
            again = await client.get_many(["a", "b"])
            assert len(again) == 2
            assert len(backend.batches) == 1
            with pytest.raises(SecretNotFound):
                await client.get("gone")  # remembered by the batch
            assert backend.calls == 0

    async def test_concurrent_get_joins_the_batch(self) -> None:
        """A get() of a key the batch is fetching waits for the batch."""
        backend = BatchingBackend()
        backend.gate = anyio.Event()
        async with SecretClient(backends={"b": backend}) as client:
            got: list[str | bytes] = []

            async def single() -> None:
                got.append(await client.get_value("b"))

            async with anyio.create_task_group() as tg:
                tg.start_soon(client.get_many, ["a", "b"])
                await anyio.wait_all_tasks_blocked()
                tg.start_soon(single)
                await anyio.wait_all_tasks_blocked()
                backend.gate.set()
        assert got == ["batched-b"]
        assert backend.calls == 0
        assert len(backend.batches) == 1

    async def test_failed_batch_is_not_asked_again_one_by_one(self) -> None:
        """A batch that fails for every ref reports each failure; no single reads."""
        backend = BatchingBackend()
        backend.fail = BackendUnavailable("down", backend="b")
        async with SecretClient(backends={"b": backend}) as client:
            batch = await client.get_many([f"s{i}" for i in range(20)])
        assert len(batch.errors) == 20
        assert all(isinstance(e, BackendUnavailable) for e in batch.errors.values())
        assert (len(backend.batches), backend.calls) == (1, 0)

    async def test_failed_batch_serves_stale_values(self, clock) -> None:
        """Through an outage, a batch serves what max_stale still allows."""
        backend = BatchingBackend()
        policy = CachePolicy(ttl=10, max_stale=100, refresh_ahead=0, jitter=0)
        async with SecretClient(
            backends={"b": backend}, cache=policy, clock=clock
        ) as client:
            await client.get_many(["a", "b"])
            backend.fail = BackendUnavailable("down", backend="b")
            clock.advance(20)
            await anyio.wait_all_tasks_blocked()
            batch = await client.get_many(["a", "b"])
        assert sorted(batch) == ["a", "b"]
        assert (len(backend.batches), backend.calls) == (2, 0)

    async def test_refused_batch_falls_back_to_single_fetches(self) -> None:
        """A backend whose fetch_many says NotSupported is read key by key."""
        backend = BatchingBackend(refuse=True)
        async with SecretClient(backends={"b": backend}) as client:
            batch = await client.get_many(["a", "b"])
        assert len(batch) == 2
        assert backend.calls == 2


class TestLifetime:
    async def test_context_manager_closes_backends(self, counting) -> None:
        """Leaving the client closes its backends; using it after raises."""
        async with SecretClient(backends={"t": counting}) as client:
            await client.get("a")
        assert counting.closed
        with pytest.raises(SecretkitError, match="closed"):
            await client.get("b")

    async def test_errors_inside_the_block_are_not_wrapped(self, counting) -> None:
        """An error raised inside `async with client` comes out as itself."""
        counting.missing.add("gone")
        with pytest.raises(SecretNotFound):
            async with SecretClient(backends={"t": counting}) as client:
                await client.get("gone")

    async def test_unconfigured_type_that_needs_options(self) -> None:
        """file:// without configuration says which option is missing."""
        async with SecretClient(backends={"m": MemoryBackend()}) as client:
            with pytest.raises(ConfigurationError, match=r"backends\.file\.path"):
                await client.get("file://db/main")

    async def test_repr_names_backends_only(self, counting) -> None:
        """The client's repr lists backends, nothing else."""
        client = SecretClient(backends={"t": counting})
        assert repr(client) == "SecretClient(default='t', backends=['t'])"
        await client.aclose()


class _Recorder:
    def __init__(self) -> None:
        self.started: list[FetchEvent] = []
        self.finished: list[FetchEvent] = []

    @hookimpl
    def secretkit_fetch_started(self, event: FetchEvent) -> None:
        self.started.append(event)

    @hookimpl
    def secretkit_fetch_finished(self, event: FetchEvent) -> None:
        self.finished.append(event)


class TestObservability:
    async def test_hooks_see_misses_hits_and_failures(self, counting) -> None:
        """fetch hooks carry backend, name, version, outcome, cache result, duration."""
        counting.missing.add("gone")
        plugins = Registry.load()
        recorder = _Recorder()
        plugins.register(recorder, name="recorder")
        async with SecretClient(backends={"t": counting}, plugins=plugins) as client:
            await client.get("a")
            await client.get("a")
            with pytest.raises(SecretNotFound):
                await client.get("gone")
        assert [e.cache for e in recorder.finished] == ["miss", "hit", "miss"]
        assert [e.outcome for e in recorder.finished] == ["ok", "ok", "not_found"]
        assert [e.name for e in recorder.started] == ["a", "gone"]
        miss = recorder.finished[0]
        assert (miss.backend, miss.version) == ("t", "1")
        assert miss.duration >= 0
        assert recorder.finished[2].error == "SecretNotFound"
        assert not hasattr(miss, "value")

    async def test_debug_log_plugin(self, counting, caplog) -> None:
        """With secretkit.fetch at DEBUG, every lookup is logged without its value."""
        caplog.set_level(logging.DEBUG, logger="secretkit.fetch")
        async with SecretClient(backends={"t": counting}) as client:
            await client.get("a")
            await client.get("a")
        lines = [r.getMessage() for r in caplog.records if r.name == "secretkit.fetch"]
        assert any("t://a" in line and "cache=miss" in line for line in lines)
        assert any("cache=hit" in line for line in lines)
        assert "s3cr3t" not in caplog.text

    async def test_no_observers_no_events(self, counting) -> None:
        """Without hook implementations or DEBUG logging, hits build no events."""
        client = SecretClient(backends={"t": counting})
        assert client._reader.observers.active is False
        await client.aclose()


class AsyncioOnly(Backend):
    """A backend whose SDK needs a running asyncio loop."""

    runs = "asyncio"

    async def fetch(self, ref: SecretRef) -> SecretValue:
        import asyncio

        asyncio.get_running_loop()  # raises under trio
        await asyncio.sleep(0)
        async with anyio.Lock():  # anyio must see asyncio here, not the caller's trio
            await anyio.lowlevel.checkpoint()
        return SecretValue(
            value="from-asyncio", version=threading.current_thread().name
        )


class Blocking(Backend):
    """A backend that calls a blocking SDK through the core's worker threads."""

    def __init__(self) -> None:
        self.threads: set[str] = set()

    async def fetch(self, ref: SecretRef) -> SecretValue:
        def read() -> str:
            self.threads.add(threading.current_thread().name)
            return "from-thread"

        return SecretValue(value=await self.run_blocking(read))


class TestEventLoops:
    async def test_asyncio_only_backend_under_any_loop(self, anyio_backend) -> None:
        """An asyncio-only backend works under trio through the private loop thread."""
        async with SecretClient(backends={"a": AsyncioOnly()}) as client:
            secret = await client.get("x")
        assert secret.reveal() == "from-asyncio"
        if anyio_backend == "trio":
            assert secret.version == "secretkit-asyncio"

    async def test_blocking_backend_runs_in_worker_threads(self) -> None:
        """run_blocking runs SDK calls off the event loop thread."""
        backend = Blocking()
        async with SecretClient(backends={"b": backend}) as client:
            assert await client.get_value("x") == "from-thread"
        assert threading.current_thread().name not in backend.threads


class Gauge(Backend):
    """A blocking backend that records how many of its calls run at once."""

    def __init__(self) -> None:
        self.running = self.peak = 0
        self.lock = threading.Lock()
        self.two_running = threading.Event()
        self.release = threading.Event()

    async def fetch(self, ref: SecretRef) -> SecretValue:
        def read() -> str:
            with self.lock:
                self.running += 1
                self.peak = max(self.peak, self.running)
                if self.running == 2:
                    self.two_running.set()
            self.release.wait(5)
            with self.lock:
                self.running -= 1
            return "v"

        return SecretValue(value=await self.run_blocking(read))


async def test_blocking_calls_are_bounded_by_max_threads() -> None:
    """No more than max_threads blocking calls run at once, however many misses."""
    from secretkit.core.backend import BackendFactory
    from secretkit.core.options import Options

    gauge = Gauge()

    class Plugin:
        @hookimpl
        def secretkit_register_backends(self) -> list[BackendFactory]:
            def create(options: Options) -> Backend:
                return gauge

            return [BackendFactory(type="gauge", create=create, runs="blocking")]

    plugins = Registry.load()
    plugins.register(Plugin(), name="gauge")
    async with (
        SecretClient(
            backends={"g": {"type": "gauge"}}, max_threads=2, plugins=plugins
        ) as client,
        anyio.create_task_group() as tg,
    ):
        for index in range(10):
            tg.start_soon(client.get, f"s{index}")
        assert await anyio.to_thread.run_sync(gauge.two_running.wait, 5)
        await anyio.wait_all_tasks_blocked()  # the other eight wait for a thread
        gauge.release.set()
    assert gauge.peak == 2


class TestSyncClient:
    def test_get_fields_and_values(self, counting) -> None:
        """The blocking facade returns what the async client would."""
        with SyncSecretClient(backends={"t": counting}) as client:
            assert client.get_value("a#user") == "u"
            assert client.get("a").version == "1"
            assert client.get_value("a", field="user") == "u"
            assert sorted(client.get_many(["a", "b"])) == ["a", "b"]
        assert counting.closed

    def test_hit_stays_on_the_calling_thread(self, counting) -> None:
        """After the first miss, hits never touch the loop thread."""
        with SyncSecretClient(backends={"t": counting}) as client:
            client.get("a#user")
            client.get("a")

            def forbidden(*args: object) -> None:
                raise AssertionError("a cache hit went to the loop thread")

            original = client._thread.call
            client._thread.call = forbidden  # type: ignore[method-assign,assignment]
            for _ in range(100):
                assert client.get("a").version == "1"
                assert client.get_value("a#user") == "u"
            client._thread.call = original  # type: ignore[method-assign]
        assert client.stats().hits >= 200

    def test_thread_safe_under_many_threads(self, counting) -> None:
        """Many threads missing one key at once cause one backend call."""
        with SyncSecretClient(backends={"t": counting}) as client:
            results: list[str] = []

            def work() -> None:
                results.append(str(client.get_value("a#user")))

            threads = [threading.Thread(target=work) for _ in range(32)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert results == ["u"] * 32
        assert counting.calls == 1

    def test_invalidate_and_clear(self, counting) -> None:
        """invalidate() and clear() make the next get ask the backend."""
        with SyncSecretClient(backends={"t": counting}) as client:
            client.get("a")
            client.invalidate("a")
            client.get("a")
            client.clear()
            client.get("a")
        assert counting.calls == 3

    def test_watch_push(self) -> None:
        """The blocking watch yields now and after each change."""
        memory = MemoryBackend({"a": "one"})
        with SyncSecretClient(backends={"m": memory}) as client:
            changes = client.watch("a")
            assert next(changes).reveal() == "one"
            client._thread.call(memory.put, SecretRef(name="a", backend="m"), "two")
            assert next(changes).reveal() == "two"
            changes.close()


class TestWatch:
    async def test_push_backend_wakes_the_watcher(self) -> None:
        """With a backend that pushes, each change yields the new secret."""
        memory = MemoryBackend({"db/main": "v1"})
        async with SecretClient(backends={"m": memory}) as client:
            seen: list[str] = []
            with anyio.fail_after(5):
                async with aclosing(client.watch("db/main")) as changes:
                    async for secret in changes:
                        seen.append(str(secret.reveal()))
                        if len(seen) == 3:
                            break
                        await memory.put(SecretRef(name="db/main"), f"v{len(seen) + 1}")
        assert seen == ["v1", "v2", "v3"]

    async def test_polling_sees_rotation(self, counting) -> None:
        """Without push, the watcher polls through the cache and yields on change."""
        async with SecretClient(
            backends={"t": counting}, cache=CachePolicy(ttl=0.05, jitter=0)
        ) as client:
            versions: list[str | None] = []
            with anyio.fail_after(5):
                async with aclosing(client.watch("db/main", interval=0.01)) as changes:
                    async for secret in changes:
                        versions.append(secret.version)
                        if len(versions) == 2:
                            break
                        counting.version = 2
        assert versions == ["1", "2"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork()")
class TestFork:
    def test_child_gets_its_own_loop_and_connections(self) -> None:
        """A forked child keeps cached values but not the parent's loop or backends."""
        made: list[int] = []

        class PerProcess(Backend):
            def __init__(self) -> None:
                made.append(os.getpid())
                self.pid = os.getpid()

            async def fetch(self, ref: SecretRef) -> SecretValue:
                return SecretValue(value=f"{ref.name}@{self.pid}")

        from secretkit.core.backend import BackendFactory
        from secretkit.core.options import Options

        plugins = Registry.load()

        class Plugin:
            @hookimpl
            def secretkit_register_backends(self) -> list[BackendFactory]:
                def create(options: Options) -> Backend:
                    return PerProcess()

                return [BackendFactory(type="perproc", create=create)]

        plugins.register(Plugin(), name="perproc")
        client = SyncSecretClient(backends={"p": {"type": "perproc"}}, plugins=plugins)
        parent = os.getpid()
        assert client.get_value("a") == f"a@{parent}"
        parent_thread = client._thread.portal()
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: report and leave without running pytest's cleanup
            try:
                child = [
                    str(client.get_value("a")),
                    str(client.get_value("b")),
                    str(client._thread.portal() is not parent_thread),
                ]
                os.write(write, "|".join(child).encode())
            finally:
                os._exit(0)
        os.close(write)
        with os.fdopen(read) as pipe:
            report = pipe.read()
        os.waitpid(pid, 0)
        cached, fresh, new_thread = report.split("|")
        assert cached == f"a@{parent}"  # the parent's cache came along
        assert fresh.startswith("b@")
        assert fresh != f"b@{parent}"  # a new backend object: new connections
        assert new_thread == "True"
        client.close()


class TestExit:
    SCRIPT = """
import sys
from secretkit.core import SyncSecretClient
from secretkit.core.backends.memory import MemoryBackend

class Closing(MemoryBackend):
    async def aclose(self):
        print("closed", flush=True)
        await super().aclose()

client = SyncSecretClient(backends={"m": Closing({"a": "1"})})
print(client.get_value("m://a"), flush=True)
"""

    def test_unclosed_client_exits_and_closes_backends(self) -> None:
        """A process that never closes its client still exits, closing backends."""
        done = subprocess.run(
            [sys.executable, "-c", self.SCRIPT],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stdout, done.stderr) == (0, "1\nclosed\n", "")


def test_testing_fixture_pattern() -> None:
    """secretkit.core.testing.memory_client builds a client over a memory backend."""
    from secretkit.core.testing import memory_client

    client = memory_client({"mlflow/auth": {"token": "t"}})
    assert anyio.run(client.get_value, "mlflow/auth#token") == "t"
    assert sys.modules["secretkit.core.backends.memory"]
