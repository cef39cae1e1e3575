"""SSM Parameter Store (``aws-ssm``) through SecretClient and directly, against moto.

Direct backend calls go through ``_run``: aiobotocore is asyncio-only, so under trio
they run on the core's asyncio loop thread, as the client would run them.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from secretkit.aws.config import read_settings
from secretkit.aws.ssm import ParameterStoreBackend
from secretkit.core import SecretClient
from secretkit.core._loops import on_asyncio, running_trio
from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import (
    AccessDenied,
    BackendUnavailable,
    InvalidReference,
    NotSupported,
    SecretNotFound,
)
from secretkit.core.options import Options
from secretkit.core.plugins import registry
from secretkit.core.secret import SecretRef

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from secretkit.core.backend import SecretInfo
    from secretkit.core.errors import BackendError


async def _run(func: Callable[[], Awaitable[Any]]) -> Any:
    """Await a backend call on the loop aiobotocore needs."""
    if running_trio():
        return await on_asyncio(func)  # type: ignore[arg-type]  # a coroutine fn
    return await func()


def _ssm_backend(**options: object) -> ParameterStoreBackend:
    return ParameterStoreBackend(
        read_settings(Options(options, instance="aws-ssm", source="test"))
    )


@pytest.fixture
async def backend() -> AsyncIterator[ParameterStoreBackend]:
    """A Parameter Store backend with default options, closed after the test."""
    made = _ssm_backend()
    yield made
    await _run(made.aclose)


@pytest.fixture
def ssm(boto: Callable[..., Any]) -> Any:
    """A plain boto3 SSM client, to arrange what a test reads."""
    return boto("ssm")


def ref(text: str) -> SecretRef:
    """A reference to the ``aws-ssm`` backend."""
    return SecretRef.parse(f"aws-ssm://{text}")


def value_of(outcome: SecretValue | BackendError) -> str | bytes:
    """The value of a fetch_many outcome that must be one."""
    assert isinstance(outcome, SecretValue), outcome
    return outcome.value


async def names(backend: Backend, prefix: str) -> list[str]:
    """Every name ``list(prefix)`` yields, in order."""

    async def collect() -> list[str]:
        return [name async for name in backend.list(prefix)]

    found: list[str] = await _run(collect)
    return found


class _Recording:
    """An SSM client stand-in that records calls and can hold or refuse some.

    :param client: the real aiobotocore client
    """

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.barrier = 0  # hold GetParameters until this many are in flight
        self._everyone: anyio.Event | None = None
        self.refuse_batches = False

    def __getattr__(self, method: str) -> Any:
        real = getattr(self._client, method)
        if not callable(real) or method.startswith("_") or method == "meta":
            return real

        async def call(**params: Any) -> Any:
            self.calls.append((method, params))
            if method == "get_parameters" and self.refuse_batches:
                from botocore.exceptions import ClientError

                denied = {"Code": "AccessDeniedException", "Message": "not all"}
                raise ClientError({"Error": denied}, "GetParameters")  # type: ignore[typeddict-item]  # stubs want every key
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                if method == "get_parameters" and self.barrier:
                    # Made here, on the loop the calls run on (asyncio under trio).
                    everyone = self._everyone = self._everyone or anyio.Event()
                    if self.in_flight >= self.barrier:
                        everyone.set()
                    with anyio.fail_after(10):  # sequential calls would time out
                        await everyone.wait()
                return await real(**params)
            finally:
                self.in_flight -= 1

        return call

    def sizes(self, method: str) -> list[int]:
        """How many names each call of ``method`` carried."""
        return [len(params["Names"]) for name, params in self.calls if name == method]


@pytest.fixture
async def recording(backend: ParameterStoreBackend) -> _Recording:
    """Record every SSM call ``backend`` makes (its clients stay real)."""
    region = backend.settings.region_order[0]
    real = await _run(lambda: backend.pool.client("ssm", region))
    spy = _Recording(real)
    backend.pool._clients[("ssm", region)] = spy
    return spy


def test_registered_as_asyncio_backend() -> None:
    """``aws-ssm`` is an installed backend type that declares asyncio."""
    factory = registry().factory("aws-ssm")
    assert factory.runs == "asyncio"
    assert ParameterStoreBackend.runs == "asyncio"


class TestFetch:
    async def test_secure_string_decrypted(self, ssm: Any) -> None:
        """A SecureString comes back decrypted, its leading slash kept in the name."""
        ssm.put_parameter(Name="/app/db/password", Value="s3cr3t", Type="SecureString")
        async with SecretClient() as client:
            secret = await client.get("aws-ssm:///app/db/password")
        assert secret.reveal() == "s3cr3t"
        assert secret.name == "/app/db/password"
        assert secret.version == "1"
        assert secret.metadata["type"] == "SecureString"
        assert secret.metadata["data_type"] == "text"
        assert str(secret.metadata["arn"]).endswith(":parameter/app/db/password")
        assert secret.created is not None

    async def test_string_and_string_list(self, ssm: Any) -> None:
        """String and StringList come back as the text SSM holds."""
        ssm.put_parameter(Name="/cfg/plain", Value="hello", Type="String")
        ssm.put_parameter(Name="/cfg/hosts", Value="a,b,c", Type="StringList")
        backends = {"ssm": {"type": "aws-ssm"}}
        async with SecretClient(default="ssm", backends=backends) as client:
            assert await client.get_value("/cfg/plain") == "hello"
            hosts = await client.get("ssm:///cfg/hosts")
        assert hosts.reveal() == "a,b,c"
        assert hosts.metadata["type"] == "StringList"

    async def test_versions(self, ssm: Any) -> None:
        """?version=N and the native name:N read an older version."""
        ssm.put_parameter(Name="/app/key", Value="one", Type="SecureString")
        ssm.put_parameter(Name="/app/key", Value="two", Overwrite=True)
        async with SecretClient() as client:
            latest = await client.get("aws-ssm:///app/key")
            first = await client.get("aws-ssm:///app/key?version=1")
            native = await client.get_value("aws-ssm:///app/key:1")
        assert (latest.reveal(), latest.version) == ("two", "2")
        assert (first.reveal(), first.version) == ("one", "1")
        assert native == "one"

    async def test_labels(self, ssm: Any) -> None:
        """?stage=LABEL and the native name:LABEL read the labelled version."""
        ssm.put_parameter(Name="/app/key", Value="one", Type="SecureString")
        ssm.put_parameter(Name="/app/key", Value="two", Overwrite=True)
        ssm.label_parameter_version(
            Name="/app/key", ParameterVersion=1, Labels=["prod"]
        )
        async with SecretClient() as client:
            prod = await client.get("aws-ssm:///app/key?stage=prod")
            native = await client.get("aws-ssm:///app/key:prod")
        assert (prod.reveal(), prod.version, prod.stages) == ("one", "1", ("prod",))
        assert native.reveal() == "one"

    async def test_hierarchical_and_flat_names(self, ssm: Any) -> None:
        """Deep paths and names without a slash both read."""
        ssm.put_parameter(Name="/a/b/c/d/e", Value="deep", Type="String")
        ssm.put_parameter(Name="flat.name-1_x", Value="flat", Type="String")
        async with SecretClient() as client:
            assert await client.get_value("aws-ssm:///a/b/c/d/e") == "deep"
            assert await client.get_value("aws-ssm://flat.name-1_x") == "flat"

    async def test_json_field(self, ssm: Any) -> None:
        """#field reads a JSON key of a parameter's value."""
        ssm.put_parameter(Name="/app/auth", Value='{"token": "t0k"}', Type="String")
        async with SecretClient() as client:
            assert await client.get_value("aws-ssm:///app/auth#token") == "t0k"

    @pytest.mark.parametrize(
        "text",
        ["/app/absent", "/app/key?version=9", "/app/key:9", "/app/key?stage=nolabel"],
    )
    async def test_missing_names_the_parameter(self, ssm: Any, text: str) -> None:
        """A missing parameter, version or label raises SecretNotFound naming it."""
        ssm.put_parameter(Name="/app/key", Value="one", Type="String")
        async with SecretClient() as client:
            with pytest.raises(SecretNotFound, match=text[:8]) as caught:
                await client.get(f"aws-ssm://{text}")
        assert caught.value.__cause__ is not None

    @pytest.mark.parametrize(
        "text",
        [
            "/app/key?version=1&stage=prod",
            "/app/key:2?version=1",
            "/app/key:prod?stage=prod",
            "/app/key?version=latest",
            "/app/key?stage=1st",
            "/app/key:",
        ],
    )
    async def test_conflicting_selectors(
        self, backend: ParameterStoreBackend, text: str
    ) -> None:
        """Two selectors, or a malformed one, raise InvalidReference before any call."""
        with pytest.raises(InvalidReference, match="/app/key"):
            await backend.fetch(ref(text))


class TestArnsAndRegions:
    async def test_arn_with_selector_reads_its_region(self, boto: Any) -> None:
        """A full ARN (with a native selector) is read in the ARN's region."""
        west = boto("ssm", "eu-west-1")
        west.put_parameter(Name="/app/key", Value="one", Type="SecureString")
        west.put_parameter(Name="/app/key", Value="two", Overwrite=True)
        arn = "arn:aws:ssm:eu-west-1:123456789012:parameter/app/key"
        async with SecretClient() as client:
            latest = await client.get(f"aws-ssm://{arn}")
            first = await client.get_value(f"aws-ssm://{arn}:1")
            batch = await client.get_many([f"aws-ssm://{arn}", "aws-ssm:///app/key"])
        assert (latest.reveal(), latest.metadata["region"]) == ("two", "eu-west-1")
        assert first == "one"
        assert batch[f"aws-ssm://{arn}"].reveal() == "two"
        assert isinstance(batch.errors["aws-ssm:///app/key"], SecretNotFound)

    async def test_failover_reads_next_region_writes_do_not(self, ssm: Any) -> None:
        """With ``regions``, a read skips an unreachable region; a write does not."""
        from botocore.exceptions import EndpointConnectionError

        class Down:
            meta = None

            def __getattr__(self, method: str) -> Any:
                async def call(**params: Any) -> Any:
                    raise EndpointConnectionError(endpoint_url="https://down.invalid")

                return call

        ssm.put_parameter(Name="/app/key", Value="east", Type="String")
        made = _ssm_backend(regions=["us-west-2", "us-east-1"])
        made.pool._clients[("ssm", "us-west-2")] = Down()
        try:
            value = await _run(lambda: made.fetch(ref("/app/key")))
            with pytest.raises(BackendUnavailable, match="/app/key"):
                await _run(lambda: made.put(ref("/app/key"), "west"))
        finally:
            await _run(made.aclose)
        assert (value.value, value.metadata["region"]) == ("east", "us-east-1")
        assert ssm.get_parameter(Name="/app/key")["Parameter"]["Value"] == "east"


class TestFetchMany:
    async def test_missing_name_inside(self, ssm: Any) -> None:
        """One missing name is a SecretNotFound for it alone; the rest come back."""
        ssm.put_parameter(Name="/app/a", Value="A", Type="SecureString")
        ssm.put_parameter(Name="/app/b", Value="B1", Type="String")
        ssm.put_parameter(Name="/app/b", Value="B2", Overwrite=True)
        wanted = [
            "aws-ssm:///app/a",
            "aws-ssm:///app/missing",
            "aws-ssm:///app/b",
            "aws-ssm:///app/b?version=1",
            "aws-ssm:///app/b:9",
        ]
        async with SecretClient() as client:
            batch = await client.get_many(wanted)
            stats = client.stats()
        assert {key: batch[key].reveal() for key in batch} == {
            "aws-ssm:///app/a": "A",
            "aws-ssm:///app/b": "B2",
            "aws-ssm:///app/b?version=1": "B1",
        }
        assert sorted(batch.errors) == ["aws-ssm:///app/b:9", "aws-ssm:///app/missing"]
        for key, error in batch.errors.items():
            assert isinstance(error, SecretNotFound)
            assert key.removeprefix("aws-ssm://") in str(error)
        assert stats.backend_calls == 1

    async def test_ten_names_per_call_concurrently(
        self, ssm: Any, backend: ParameterStoreBackend, recording: _Recording
    ) -> None:
        """26 names cost three GetParameters calls of at most ten, all at once."""
        for index in range(25):
            ssm.put_parameter(
                Name=f"/many/p{index:02}", Value=str(index), Type="String"
            )
        refs = [ref(f"/many/p{index:02}") for index in range(25)] + [ref("/many/nope")]
        recording.barrier = 3
        outcomes = await _run(lambda: backend.fetch_many(refs))
        assert sorted(recording.sizes("get_parameters")) == [6, 10, 10]
        assert recording.most_in_flight == 3
        assert all(params["WithDecryption"] for _, params in recording.calls)
        assert isinstance(outcomes[refs[-1]], SecretNotFound)
        values = {r.name: value_of(outcomes[r]) for r in refs[:-1]}
        assert values == {f"/many/p{index:02}": str(index) for index in range(25)}

    async def test_one_name_twice_never_shares_a_call(
        self, ssm: Any, backend: ParameterStoreBackend, recording: _Recording
    ) -> None:
        """``x`` and ``x:1`` go in separate calls: each answer maps to one ref."""
        ssm.put_parameter(Name="/x", Value="one", Type="String")
        ssm.put_parameter(Name="/x", Value="two", Overwrite=True)
        refs = [ref("/x"), ref("/x:1"), ref("/x?version=2"), ref("/x:1")]
        outcomes = await _run(lambda: backend.fetch_many(refs))
        assert [value_of(outcomes[r]) for r in refs] == ["two", "one", "two", "one"]
        for _, params in recording.calls:
            bare = [name.split(":")[0] for name in params["Names"]]
            assert len(bare) == len(set(bare))

    async def test_refused_batch_falls_back_per_name(
        self, ssm: Any, backend: ParameterStoreBackend, recording: _Recording
    ) -> None:
        """A GetParameters refused by IAM is retried name by name.

        moto does not enforce IAM, so the recording client answers GetParameters
        with AccessDeniedException, as AWS does when one name is not allowed.
        """
        ssm.put_parameter(Name="/app/a", Value="A", Type="String")
        recording.refuse_batches = True
        refs = [ref("/app/a"), ref("/app/missing")]
        outcomes = await _run(lambda: backend.fetch_many(refs))
        assert value_of(outcomes[refs[0]]) == "A"
        assert isinstance(outcomes[refs[1]], SecretNotFound)
        methods = [method for method, _ in recording.calls]
        assert methods.count("get_parameters") == 1
        assert methods.count("get_parameter") == 2

    async def test_refused_single_name_is_access_denied(
        self, backend: ParameterStoreBackend, recording: _Recording
    ) -> None:
        """A one-name batch that IAM refuses reports AccessDenied for that name."""
        recording.refuse_batches = True
        refs = [ref("/app/a")]
        outcomes = await _run(lambda: backend.fetch_many(refs))
        assert isinstance(outcomes[refs[0]], AccessDenied)
        assert "/app/a" in str(outcomes[refs[0]])

    async def test_invalid_reference_fails_alone(
        self, ssm: Any, backend: ParameterStoreBackend
    ) -> None:
        """A reference with two selectors fails alone; the others come back."""
        ssm.put_parameter(Name="/app/a", Value="A", Type="String")
        refs = [ref("/app/a"), ref("/app/a:1?version=1")]
        outcomes = await _run(lambda: backend.fetch_many(refs))
        assert value_of(outcomes[refs[0]]) == "A"
        assert isinstance(outcomes[refs[1]], InvalidReference)


class TestList:
    @pytest.fixture
    def tree(self, ssm: Any) -> None:
        """Parameters in hierarchies and flat names."""
        for name in (
            "/app/db/password",
            "/app/db/user",
            "/app/api/key",
            "/apple/x",
            "/other/y",
            "plain-a",
            "plain-b",
            "plainly",
        ):
            ssm.put_parameter(Name=name, Value="v", Type="SecureString")

    @pytest.mark.parametrize(
        ("prefix", "expected"),
        [
            ("/app/", ["/app/api/key", "/app/db/password", "/app/db/user"]),
            ("/app/db", ["/app/db/password", "/app/db/user"]),
            ("/app", ["/app/api/key", "/app/db/password", "/app/db/user", "/apple/x"]),
            ("/nothing/", []),
            ("plain", ["plain-a", "plain-b", "plainly"]),
            ("plain-", ["plain-a", "plain-b"]),
        ],
    )
    async def test_prefix(
        self,
        tree: None,
        backend: ParameterStoreBackend,
        recording: _Recording,
        prefix: str,
        expected: list[str],
    ) -> None:
        """Names starting with the prefix, by path for ``/`` prefixes, never values."""
        assert sorted(await names(backend, prefix)) == expected
        method, params = recording.calls[0]
        if prefix.startswith("/"):
            assert method == "get_parameters_by_path"
            assert params["WithDecryption"] is False
            assert params["Recursive"] is True
        else:
            assert method == "describe_parameters"

    async def test_everything(self, tree: None, backend: ParameterStoreBackend) -> None:
        """An empty prefix lists every parameter, flat names too."""
        assert len(await names(backend, "")) == 8

    async def test_pages(
        self, ssm: Any, backend: ParameterStoreBackend, recording: _Recording
    ) -> None:
        """Every page is followed, by path and by filter."""
        for index in range(23):
            ssm.put_parameter(Name=f"/many/p{index:02}", Value="v", Type="String")
            ssm.put_parameter(Name=f"many-{index:02}", Value="v", Type="String")
        assert len(await names(backend, "/many/")) == 23
        assert len(await names(backend, "many-")) == 23
        assert sum(1 for _, params in recording.calls if "NextToken" in params) >= 4

    async def test_through_client(self, tree: None) -> None:
        """``client.backend("aws-ssm").list`` is what ``secretkit ls`` reads."""
        async with SecretClient(backends={"aws-ssm": {}}) as client:
            found = await names(client.backend("aws-ssm"), "/app/db/")
        assert sorted(found) == ["/app/db/password", "/app/db/user"]


class TestWrite:
    async def test_put_creates_secure_string(
        self, ssm: Any, backend: ParameterStoreBackend
    ) -> None:
        """A new parameter is a SecureString with its description and tags."""
        stored = await _run(
            lambda: backend.put(
                ref("/app/new"), "v1", description="the db", tags={"team": "data"}
            )
        )
        assert (stored.version, stored.value) == ("1", "v1")
        found = ssm.get_parameter(Name="/app/new", WithDecryption=True)["Parameter"]
        assert (found["Type"], found["Value"]) == ("SecureString", "v1")
        tags = ssm.list_tags_for_resource(
            ResourceType="Parameter", ResourceId="/app/new"
        )
        assert tags["TagList"] == [{"Key": "team", "Value": "data"}]

    async def test_put_overwrites_and_moves_labels(
        self, ssm: Any, backend: ParameterStoreBackend
    ) -> None:
        """Each put is a new version; tags on update are added; labels move."""
        await _run(lambda: backend.put(ref("/app/k"), "v1", stages=["prod"]))
        second = await _run(
            lambda: backend.put(
                ref("/app/k"), "v2", tags={"owner": "me"}, stages=["prod", "blue"]
            )
        )
        assert (second.version, second.stages) == ("2", ("prod", "blue"))
        info: SecretInfo = await _run(lambda: backend.describe(ref("/app/k")))
        assert info.version == "2"
        assert info.versions == {"1": (), "2": ("prod", "blue")}
        assert sorted(info.stages) == ["blue", "prod"]
        assert info.metadata["type"] == "SecureString"
        assert info.metadata["tags"] == {"owner": "me"}
        async with SecretClient() as client:
            assert await client.get_value("aws-ssm:///app/k?stage=prod") == "v2"
            assert await client.get_value("aws-ssm:///app/k?version=1") == "v1"

    async def test_put_keeps_the_existing_type(
        self, ssm: Any, backend: ParameterStoreBackend
    ) -> None:
        """Overwriting a String parameter keeps it a String."""
        ssm.put_parameter(Name="/cfg/plain", Value="one", Type="String")
        await _run(lambda: backend.put(ref("/cfg/plain"), "two", create=False))
        found = ssm.get_parameter(Name="/cfg/plain")["Parameter"]
        assert (found["Type"], found["Value"], found["Version"]) == ("String", "two", 2)

    async def test_put_without_create(self, backend: ParameterStoreBackend) -> None:
        """create=False on a missing name raises SecretNotFound and creates nothing."""
        with pytest.raises(SecretNotFound, match="/app/none"):
            await _run(lambda: backend.put(ref("/app/none"), "v", create=False))
        assert await names(backend, "/app/") == []

    async def test_put_bytes_not_supported(
        self, backend: ParameterStoreBackend
    ) -> None:
        """Bytes are refused: SSM stores text, and bytes must not read back as str."""
        with pytest.raises(NotSupported, match="text, not bytes"):
            await _run(lambda: backend.put(ref("/app/bin"), b"\x00\x01"))
        with pytest.raises(NotSupported):
            await _run(lambda: backend.put(ref("/app/bin"), b"utf8 text"))

    async def test_put_refuses_selectors(self, backend: ParameterStoreBackend) -> None:
        """put and delete take a plain name, not a version or label."""
        with pytest.raises(InvalidReference, match="put"):
            await backend.put(ref("/app/k?version=1"), "v")
        with pytest.raises(InvalidReference, match="delete"):
            await backend.delete(ref("/app/k:prod"))

    async def test_refused_label(self, backend: ParameterStoreBackend) -> None:
        """A label SSM refuses is an error naming it, after the version was stored."""
        from secretkit.core.errors import BackendError

        with pytest.raises(BackendError, match="awsbad"):
            await _run(lambda: backend.put(ref("/app/k"), "v", stages=["awsbad"]))

    async def test_delete(self, ssm: Any, backend: ParameterStoreBackend) -> None:
        """delete removes the parameter; deleting it again is SecretNotFound."""
        ssm.put_parameter(Name="/app/gone", Value="v", Type="String")
        await _run(lambda: backend.delete(ref("/app/gone"), force=True))
        with pytest.raises(SecretNotFound, match="/app/gone"):
            await _run(lambda: backend.fetch(ref("/app/gone")))
        with pytest.raises(SecretNotFound, match="/app/gone"):
            await _run(lambda: backend.delete(ref("/app/gone")))

    async def test_describe_missing(self, backend: ParameterStoreBackend) -> None:
        """describe of a missing parameter raises SecretNotFound naming it."""
        with pytest.raises(SecretNotFound, match="/app/none"):
            await _run(lambda: backend.describe(ref("/app/none")))


class TestCheck:
    async def test_identity_region_endpoint(
        self, moto_url: str, backend: ParameterStoreBackend
    ) -> None:
        """check() names the caller, the region and the endpoint."""
        line = await _run(backend.check)
        assert line.startswith("arn:aws:")
        assert "region us-east-1" in line
        assert moto_url in line

    async def test_check_secret(self, ssm: Any) -> None:
        """With check_secret, check() reads it and says so, without its value."""
        ssm.put_parameter(Name="/app/probe", Value="hush-hush", Type="SecureString")
        made = _ssm_backend(check_secret="/app/probe")
        try:
            line = await _run(made.check)
        finally:
            await _run(made.aclose)
        assert "'/app/probe' is readable" in line
        assert "hush-hush" not in line

    async def test_check_missing_secret(self) -> None:
        """A check_secret that does not exist fails the check with SecretNotFound."""
        made = _ssm_backend(check_secret="/app/absent")
        try:
            with pytest.raises(SecretNotFound, match="/app/absent"):
                await _run(made.check)
        finally:
            await _run(made.aclose)


async def test_secure_string_never_leaks(
    backend: ParameterStoreBackend, caplog: pytest.LogCaptureFixture
) -> None:
    """A SecureString value shows in no repr, message or DEBUG log on any path."""
    canary = f"canary-{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    stored: SecretValue = await _run(
        lambda: backend.put(ref("/leak/p"), canary, stages=["prod"])
    )
    await _run(lambda: backend.put(ref("/leak/p"), canary, tags={"t": "v"}))
    fetched = await _run(lambda: backend.fetch(ref("/leak/p?stage=prod")))
    many = await _run(lambda: backend.fetch_many([ref("/leak/p"), ref("/leak/q")]))
    info = await _run(lambda: backend.describe(ref("/leak/p")))
    shown += [repr(stored), repr(fetched), repr(many), repr(info), repr(backend)]
    shown += await names(backend, "/leak/")
    shown += await names(backend, "")
    async with SecretClient(backends={"aws-ssm": {}}) as client:
        secret = await client.get("aws-ssm:///leak/p")
        batch = await client.get_many(["aws-ssm:///leak/p", "aws-ssm:///leak/p:9"])
        shown += [repr(secret), str(secret), f"{secret}", repr(batch)]
        shown += [repr(error) for error in batch.errors.values()]
        with pytest.raises(SecretNotFound) as caught:
            await client.get("aws-ssm:///leak/p:7")
        shown += [str(caught.value), repr(caught.value)]
    assert secret.reveal() == canary
    assert fetched.value == canary
    assert caplog.records  # botocore and secretkit did log at DEBUG
    assert canary not in caplog.text
    assert not [text for text in shown if canary in text]
