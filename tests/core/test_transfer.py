"""``secretkit.core.transfer``: plans and how they are applied, in-process backends."""

from __future__ import annotations

import pickle
from collections.abc import AsyncIterator, Mapping, Sequence

import pytest

from secretkit.core import SecretClient, transfer
from secretkit.core.backend import Backend, SecretInfo, SecretValue
from secretkit.core.backends.memory import MemoryBackend
from secretkit.core.errors import (
    BackendError,
    BackendUnavailable,
    ConfigurationError,
    InvalidReference,
    NotSupported,
    SecretNotFound,
)
from secretkit.core.secret import SecretRef

CANARY = "CANARY-transfer-91d4"


class Store(Backend):
    """A versioned dict that records each put's options; can fail on command.

    :ivar puts: (name, options) of every put that stored something
    :ivar fail_after: after this many stored puts, every put raises ``failure``
    :ivar keeps: the put options it accepts; others raise NotSupported, as Vault's
    """

    def __init__(
        self,
        name: str,
        secrets: Mapping[str, str | bytes] | None = None,
        *,
        metadata: Mapping[str, Mapping[str, object]] | None = None,
        keeps: tuple[str, ...] = ("description", "tags"),
    ) -> None:
        self.name = name
        self.versions: dict[str, list[str | bytes]] = {
            key: [value] for key, value in (secrets or {}).items()
        }
        self.metadata = dict(metadata or {})
        self.keeps = keeps
        self.puts: list[tuple[str, dict[str, object]]] = []
        self.fetches = 0
        self.fail_after: int | None = None
        self.failure: Exception = BackendUnavailable("the store is down")

    async def fetch(self, ref: SecretRef) -> SecretValue:
        self.fetches += 1
        if ref.name not in self.versions:
            raise SecretNotFound(f"no {ref.name!r}", ref=ref.name, backend=self.name)
        history = self.versions[ref.name]
        return SecretValue(value=history[-1], version=str(len(history)))

    async def describe(self, ref: SecretRef) -> SecretInfo:
        if ref.name not in self.versions:
            raise SecretNotFound(f"no {ref.name!r}", ref=ref.name, backend=self.name)
        return SecretInfo(name=ref.name, metadata=self.metadata.get(ref.name, {}))

    async def put(
        self,
        ref: SecretRef,
        value: str | bytes,
        *,
        create: bool = True,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        stages: Sequence[str] = (),
    ) -> SecretValue:
        options = {"description": description, "tags": tags}
        given: dict[str, object] = {
            key: item for key, item in options.items() if item is not None
        }
        if set(given) - set(self.keeps):
            raise NotSupported("this store keeps no such metadata", backend=self.name)
        if self.fail_after is not None and len(self.puts) >= self.fail_after:
            raise self.failure
        if not create and ref.name not in self.versions:
            raise SecretNotFound(f"no {ref.name!r}", ref=ref.name, backend=self.name)
        self.versions.setdefault(ref.name, []).append(value)
        self.puts.append((ref.name, given))
        return SecretValue(value=value, version=str(len(self.versions[ref.name])))

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        for name in sorted(self.versions):
            if name.startswith(prefix):
                yield name


class TypedStore(Store):
    """A store whose put also takes ``content_type``, as Azure Key Vault's does."""

    async def put(
        self,
        ref: SecretRef,
        value: str | bytes,
        *,
        create: bool = True,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        stages: Sequence[str] = (),
        content_type: str | None = None,
    ) -> SecretValue:
        stored = await super().put(
            ref, value, create=create, description=description, tags=tags
        )
        self.puts[-1][1]["content_type"] = content_type
        return stored


def client_for(*backends: Backend) -> SecretClient:
    """A client over the given backends, the first one the default."""
    return SecretClient(
        default=backends[0].name, backends={b.name: b for b in backends}
    )


class TestPlan:
    async def test_actions(self) -> None:
        """Missing is create, equal is unchanged, different is conflict, or update."""
        src = Store("src", {"new": "a", "same": "b", "other": "c"})
        dst = Store("dst", {"same": "b", "other": "old"})
        pairs = [(f"src://{n}", f"dst://{n}") for n in ("new", "same", "other")]
        async with client_for(src, dst) as client:
            kept = await transfer.plan(client, pairs)
            replacing = await transfer.plan(client, pairs, overwrite=True)
        assert [s.action for s in kept.steps] == ["create", "unchanged", "conflict"]
        assert [s.action for s in replacing.steps] == ["create", "unchanged", "update"]
        assert kept.counts() == {"create": 1, "unchanged": 1, "conflict": 1}
        assert not kept.ok
        assert replacing.ok
        assert dst.puts == []

    async def test_json_objects_compare_as_objects(self) -> None:
        """The same JSON object, spaced or ordered otherwise, is unchanged."""
        src = Store("src", {"obj": '{"user": "u", "password": "p"}', "arr": "[1, 2]"})
        dst = Store("dst", {"obj": '{"password":"p","user":"u"}', "arr": "[1,2]"})
        async with client_for(src, dst) as client:
            planned = await transfer.plan(
                client, [("src://obj", "dst://obj"), ("src://arr", "dst://arr")]
            )
        assert [s.action for s in planned.steps] == ["unchanged", "conflict"]

    async def test_binary_and_text_differ(self) -> None:
        """The same bytes as binary on one side and text on the other differ."""
        src = Store("src", {"k": b"abc", "raw": b"\xff\x00"})
        dst = Store("dst", {"k": "abc", "raw": b"\xff\x00"})
        async with client_for(src, dst) as client:
            planned = await transfer.plan(
                client, [("src://k", "dst://k"), ("src://raw", "dst://raw")]
            )
        assert [s.action for s in planned.steps] == ["conflict", "unchanged"]

    async def test_unreadable_source_is_a_skip(self) -> None:
        """A missing source is a skip holding its error; the others still plan."""
        src = Store("src", {"here": "a"})
        dst = Store("dst")
        async with client_for(src, dst) as client:
            planned = await transfer.plan(
                client, [("src://gone", "dst://gone"), ("src://here", "dst://here")]
            )
        gone, here = planned.steps
        assert gone.action == "skip"
        assert isinstance(gone.error, SecretNotFound)
        assert "cannot read the source" in gone.reason
        assert here.action == "create"

    async def test_unreadable_destination_is_a_skip(self) -> None:
        """A destination that fails other than by not-found is a skip, not a create."""
        src = Store("src", {"a": "1"})
        dst = MemoryBackend(name="dst")
        dst.fail_with = BackendUnavailable("down", backend="dst")
        async with client_for(src, dst) as client:
            planned = await transfer.plan(client, [("src://a", "dst://a")])
        (step,) = planned.steps
        assert (step.action, type(step.error)) == ("skip", BackendUnavailable)
        assert step.reason.startswith("cannot read the destination")

    async def test_bare_names_use_the_default_backend(self) -> None:
        """A reference without backend:// resolves to the client's default."""
        src = Store("src", {"a": "1"})
        dst = Store("dst")
        async with client_for(src, dst) as client:
            planned = await transfer.plan(client, [("a", "dst://a")])
        assert planned.steps[0].source == SecretRef(name="a", backend="src")

    @pytest.mark.parametrize(
        ("pairs", "error"),
        [
            ([("src://a#f", "dst://a")], InvalidReference),
            ([("src://a", "dst://a?version=2")], InvalidReference),
            ([("src://a", "src://a")], ConfigurationError),
            ([("src://a", "dst://x"), ("src://b", "dst://x")], ConfigurationError),
        ],
    )
    async def test_refusals_before_any_read(
        self, pairs: list[tuple[str, str]], error: type[Exception]
    ) -> None:
        """Fields, destination versions, self-copies and clashes fail before I/O."""
        src = Store("src", {"a": "1", "b": "2"})
        dst = Store("dst")
        async with client_for(src, dst) as client:
            with pytest.raises(error):
                await transfer.plan(client, pairs)
        assert src.fetches == dst.fetches == 0

    async def test_same_pair_twice_is_one_step(self) -> None:
        """A pair given twice is planned once."""
        src, dst = Store("src", {"a": "1"}), Store("dst")
        async with client_for(src, dst) as client:
            planned = await transfer.plan(
                client, [("src://a", "dst://a"), ("src://a", "dst://a")]
            )
        assert len(planned.steps) == 1

    async def test_plans_hold_no_visible_value(self) -> None:
        """A plan's repr never shows a value, and it refuses to be pickled."""
        src, dst = Store("src", {"a": CANARY}), Store("dst", {"b": "x"})
        async with client_for(src, dst) as client:
            planned = await transfer.plan(
                client, [("src://a", "dst://a"), ("src://a", "dst://b")], overwrite=True
            )
            report = await transfer.apply(client, planned)
        assert CANARY not in repr(planned) + str(planned) + repr(report)
        with pytest.raises(NotSupported):
            pickle.dumps(planned)

    async def test_batch_reads(self) -> None:
        """A backend with a batch API is read in one call per plan side."""
        from .fakes import BatchingBackend

        batching = BatchingBackend()
        dst = Store("dst")
        async with SecretClient(default="t", backends={"t": batching, "dst": dst}) as c:
            planned = await transfer.plan(
                c, [(f"t://n{i}", f"dst://n{i}") for i in range(5)]
            )
        assert batching.batches == [[f"n{i}" for i in range(5)]]
        assert batching.calls == 0
        assert planned.counts() == {"create": 5}


class TestPrefixPairs:
    async def test_maps_names_under_a_prefix(self) -> None:
        """Each name under the source prefix gets the destination prefix instead."""
        src = Store("src", {"app/a": "1", "app/x/b": "2", "other": "3"})
        dst = Store("dst")
        async with client_for(src, dst) as client:
            pairs = await transfer.prefix_pairs(client, "app/", "dst://prod/app/")
        assert [(str(s), str(d)) for s, d in pairs] == [
            ("src://app/a", "dst://prod/app/a"),
            ("src://app/x/b", "dst://prod/app/x/b"),
        ]

    async def test_refuses_query_and_field(self) -> None:
        """A prefix with ? or # is not a prefix."""
        async with client_for(Store("src"), Store("dst")) as client:
            with pytest.raises(InvalidReference):
                await transfer.prefix_pairs(client, "src://app/#x", "dst://app/")


class TestApply:
    async def test_writes_then_rerun_writes_nothing(self) -> None:
        """Apply creates and updates; planning again finds everything unchanged."""
        src = Store("src", {"a": "1", "b": b"\x00\xff", "c": "3"})
        dst = Store("dst", {"c": "old"})
        pairs = [(f"src://{n}", f"dst://{n}") for n in "abc"]
        async with client_for(src, dst) as client:
            report = await transfer.apply(
                client, await transfer.plan(client, pairs, overwrite=True)
            )
            again = await transfer.plan(client, pairs, overwrite=True)
            second = await transfer.apply(client, again)
        assert report.ok
        assert report.counts() == {"done": 3}
        assert [r.version for r in report.results] == ["1", "1", "2"]
        assert dst.versions == {"a": ["1"], "b": [b"\x00\xff"], "c": ["old", "3"]}
        assert again.counts() == {"unchanged": 3}
        assert (second.results, len(dst.puts)) == ((), 3)

    async def test_metadata_carried_where_kept(self) -> None:
        """Description, tags and content type go along where put takes them."""
        metadata = {
            "a": {"description": "db", "tags": {"team": "ml"}, "content_type": "json"}
        }
        src = Store("src", {"a": "1"}, metadata=metadata)
        plain, typed = Store("plain"), TypedStore("typed")
        async with client_for(src, plain, typed) as client:
            planned = await transfer.plan(
                client, [("src://a", "plain://a"), ("src://a", "typed://a")]
            )
            report = await transfer.apply(client, planned)
        assert planned.steps[0].carried == transfer.Carried(
            description="db", tags={"team": "ml"}, content_type="json"
        )
        assert plain.puts == [("a", {"description": "db", "tags": {"team": "ml"}})]
        assert typed.puts[0][1]["content_type"] == "json"
        assert [r.dropped for r in report.results] == [("content_type",), ()]

    async def test_value_alone_where_metadata_is_refused(self) -> None:
        """A destination that refuses tags (Vault) gets the value, and says so."""
        src = Store("src", {"a": "1"}, metadata={"a": {"tags": {"k": "v"}}})
        bare = Store("bare", keeps=())
        async with client_for(src, bare) as client:
            report = await transfer.apply(
                client, await transfer.plan(client, [("src://a", "bare://a")])
            )
        (result,) = report.results
        assert (result.outcome, result.dropped) == ("done", ("tags",))
        assert bare.versions == {"a": ["1"]}

    async def test_failure_midway_then_rerun_finishes(self) -> None:
        """An outage stops the run and says what was not done; a rerun finishes it."""
        names = [f"s{i}" for i in range(6)]
        src = Store("src", {n: f"{CANARY}-{n}" for n in names})
        dst = Store("dst")
        dst.fail_after = 2
        pairs = [(f"src://{n}", f"dst://{n}") for n in names]
        async with client_for(src, dst) as client:
            first = await transfer.apply(
                client, await transfer.plan(client, pairs), concurrency=1
            )
            dst.fail_after = None
            again = await transfer.plan(client, pairs)
            second = await transfer.apply(client, again)
        assert [r.outcome for r in first.results] == [
            "done",
            "done",
            "failed",
            "not attempted",
            "not attempted",
            "not attempted",
        ]
        assert isinstance(first.results[2].error, BackendUnavailable)
        assert first.errors() == [first.results[2].error]
        assert not first.ok
        assert again.counts() == {"unchanged": 2, "create": 4}
        assert second.ok
        assert sorted(dst.versions) == names
        assert all(len(history) == 1 for history in dst.versions.values())

    async def test_one_secret_failing_stops_nothing(self) -> None:
        """A failure of one secret alone (not an outage) leaves the others going."""
        src = Store("src", {n: n for n in "abc"})
        dst = Store("dst")
        dst.fail_after = 1
        dst.failure = NotSupported("no binary here", backend="dst")
        async with client_for(src, dst) as client:
            report = await transfer.apply(
                client,
                await transfer.plan(
                    client, [(f"src://{n}", f"dst://{n}") for n in "abc"]
                ),
                concurrency=1,
            )
        assert [r.outcome for r in report.results] == ["done", "failed", "failed"]

    async def test_a_backend_bug_fails_its_secret_only(self) -> None:
        """An unexpected exception from put becomes that write's BackendError."""
        src = Store("src", {"a": "1"})
        dst = Store("dst")
        dst.fail_after = 0
        dst.failure = RuntimeError(f"bug quoting {CANARY}")
        async with client_for(src, dst) as client:
            report = await transfer.apply(
                client, await transfer.plan(client, [("src://a", "dst://a")])
            )
        (result,) = report.results
        assert type(result.error) is BackendError
        assert CANARY not in result.error.message
        assert isinstance(result.error.__cause__, RuntimeError)

    async def test_progress(self) -> None:
        """progress(finished, total) is called once per write, up to the total."""
        src, dst = Store("src", {n: n for n in "abcd"}), Store("dst", {"d": "d"})
        seen: list[tuple[int, int]] = []
        async with client_for(src, dst) as client:
            planned = await transfer.plan(
                client, [(f"src://{n}", f"dst://{n}") for n in "abcd"]
            )
            await transfer.apply(
                client, planned, progress=lambda *args: seen.append(args)
            )
        assert seen == [(1, 3), (2, 3), (3, 3)]

    async def test_source_version_is_read(self) -> None:
        """A source ?version= copies that version, into a new version of the copy."""
        memory = MemoryBackend({"a": "v1"}, name="mem")
        memory.set("a", "v2")
        dst = Store("dst")
        async with client_for(memory, dst) as client:
            report = await transfer.apply(
                client, await transfer.plan(client, [("mem://a?version=1", "dst://a")])
            )
        assert report.ok
        assert dst.versions == {"a": ["v1"]}


def test_step_knows_what_writes() -> None:
    """Only creates and updates write."""
    ref = SecretRef(name="a", backend="x")
    steps = {
        action: transfer.Step(source=ref, destination=ref, action=action)
        for action in ("create", "update", "unchanged", "conflict", "skip")
    }
    assert [a for a, s in steps.items() if s.writes] == ["create", "update"]
