"""The AWS credential chain, against a real moto server and loopback endpoints.

Every source botocore knows answers through the core's chain; an explicit
AssumeRole sits on top and renews ahead of expiry, once, on a clock the tests
control. moto records each AssumeRole (role, external ID, session name) under
``/moto-api/data.json``, and GetCallerIdentity names the identity whose keys
signed, which tells which source answered.
"""

from __future__ import annotations

import json
import logging
import time
import traceback
import urllib.request
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import pytest

from secretkit.aws import _clients
from secretkit.aws.config import read_settings
from secretkit.aws.credentials import AwsKeys, credential_factories, session_for
from secretkit.core import SecretClient
from secretkit.core._loops import on_asyncio, running_trio
from secretkit.core.credentials import (
    CredentialChain,
    CredentialProviderFactory,
    StaticProvider,
    build_chain,
)
from secretkit.core.errors import CredentialError
from secretkit.core.hookspecs import hookimpl
from secretkit.core.options import Options
from secretkit.core.plugins import Registry

from .fake_servers import (
    closed_port,
    container_endpoint,
    instance_metadata,
    serve,
    sts_denying,
)

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterator

    from .fake_servers import FakeServer

ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/app"
BASE_KEY_ID = "AKIACANARYBASE000001"
CANARY = "cAnArY+SecretAccessKey/0123456789abcdefXY"
TOKEN_CANARY = "cAnArYSessionToken0123456789abcdefghijklmnop"
# botocore's advisory and mandatory windows, before a one-hour session's expiry.
ADVISORY_AT = 3600 - 900 + 60
MANDATORY_AT = 3600 - 600 + 60


class Clock:
    """Epoch seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    """A clock the tests move, for every chain the AWS backends build."""
    made = Clock()
    monkeypatch.setattr(_clients, "session_for", partial(session_for, clock=made))
    return made


async def _sdk(func: Callable[[], Awaitable[Any]]) -> Any:
    """Await ``func()`` on the loop aiobotocore needs (the core's, under trio)."""
    if running_trio():
        return await on_asyncio(func)  # type: ignore[arg-type]  # a coroutine fn
    return await func()


async def identity(client: SecretClient) -> str:
    """The caller ARN the AWS backend's check() reports."""
    line: str = await _sdk(client.backend("aws").check)
    return line.split(" ", 1)[0]


def assumed(moto_url: str) -> list[dict[str, Any]]:
    """Every AssumeRole and AssumeRoleWithWebIdentity moto recorded, in order."""
    with urllib.request.urlopen(f"{moto_url}/moto-api/data.json", timeout=10) as r:
        data = json.load(r)
    return list(data.get("sts", {}).get("AssumedRole", []))


def iam_user(boto: Callable[..., Any], name: str) -> dict[str, str]:
    """An IAM user in moto and an access key of theirs."""
    iam = boto("iam")
    iam.create_user(UserName=name)
    return dict(iam.create_access_key(UserName=name)["AccessKey"])


def role_keys(boto: Callable[..., Any], role: str) -> dict[str, Any]:
    """Temporary credentials of ``role``, minted by moto."""
    response = boto("sts").assume_role(
        RoleArn=f"arn:aws:iam::{ACCOUNT}:role/{role}", RoleSessionName=f"{role}-s"
    )
    return dict(response["Credentials"])


def no_env_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leave the environment without access keys."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")


class TestEnvironment:
    async def test_env_keys_and_session_token(
        self, boto, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Keys and session token from the environment sign the requests."""
        keys = role_keys(boto, "env-role")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["SecretAccessKey"])
        monkeypatch.setenv("AWS_SESSION_TOKEN", keys["SessionToken"])
        settings = read_settings(Options({}, instance="aws", source="test"))

        async def frozen() -> Any:
            found = await session_for(settings).get_credentials()
            assert found is not None
            return await found.get_frozen_credentials()

        signing = await _sdk(frozen)
        async with SecretClient(backends={"aws": {}}) as client:
            arn = await identity(client)
        assert (signing.access_key, signing.token) == (
            keys["AccessKeyId"],
            keys["SessionToken"],
        )
        assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/env-role/env-role-s"

    @pytest.fixture
    def nothing(self, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
        """No keys in the environment, empty config and credentials files."""
        no_env_keys(monkeypatch)
        for name in ("AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"):
            Path(aws_env[name]).write_text("")

    async def test_no_credentials_anywhere(self, boto, nothing: None) -> None:
        """With no source configured, a read fails naming every provider tried."""
        boto("secretsmanager").create_secret(Name="db", SecretString="x")
        async with SecretClient(backends={"aws": {}}) as client:
            with pytest.raises(CredentialError) as caught:
                await client.get("db")
        message = str(caught.value)
        assert "no aws credentials found" in message
        assert "tried: env, assume-role, assume-role-with-web-identity" in message
        assert message.endswith("container-role, iam-role")


class TestProfiles:
    @pytest.fixture
    def alice(
        self, boto, aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
    ) -> dict[str, str]:
        """Alice's keys under ``[dev]`` in the shared credentials file."""
        key = iam_user(boto, "alice")
        Path(aws_env["AWS_SHARED_CREDENTIALS_FILE"]).write_text(
            f"[dev]\naws_access_key_id = {key['AccessKeyId']}\n"
            f"aws_secret_access_key = {key['SecretAccessKey']}\n"
        )
        return key

    async def test_aws_profile_static_keys(
        self, alice, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """AWS_PROFILE picks a profile's keys from the shared credentials file."""
        no_env_keys(monkeypatch)
        monkeypatch.setenv("AWS_PROFILE", "dev")
        async with SecretClient(backends={"aws": {}}) as client:
            assert await identity(client) == f"arn:aws:iam::{ACCOUNT}:user/alice"

    async def test_profile_option_wins_over_env_keys(self, alice) -> None:
        """A profile given as an option is used even with keys in the environment."""
        async with SecretClient(backends={"aws": {"profile": "dev"}}) as client:
            assert await identity(client) == f"arn:aws:iam::{ACCOUNT}:user/alice"

    @pytest.fixture
    def ops(self, boto, aws_env: dict[str, str]) -> None:
        """Profile ``ops`` in the config file: a role, with ``base``'s keys."""
        key = iam_user(boto, "ops-base")
        Path(aws_env["AWS_CONFIG_FILE"]).write_text(
            f"[profile ops]\nrole_arn = arn:aws:iam::{ACCOUNT}:role/ops\n"
            "source_profile = base\nexternal_id = ops-ext-7\n"
            "role_session_name = ops-session\n\n"
            f"[profile base]\naws_access_key_id = {key['AccessKeyId']}\n"
            f"aws_secret_access_key = {key['SecretAccessKey']}\n"
        )

    async def test_config_profile_assumes_role_with_external_id(
        self, boto, moto_url, ops: None, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A config profile's source_profile, role_arn and external_id assume it."""
        boto("secretsmanager").create_secret(Name="db", SecretString="pw")
        no_env_keys(monkeypatch)
        monkeypatch.setenv("AWS_PROFILE", "ops")
        async with SecretClient(backends={"aws": {}}) as client:
            assert await client.get_value("db") == "pw"
            arn = await identity(client)
        [call] = assumed(moto_url)
        assert call["role_arn"] == f"arn:aws:iam::{ACCOUNT}:role/ops"
        assert (call["external_id"], call["session_name"]) == (
            "ops-ext-7",
            "ops-session",
        )
        assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/ops/ops-session"


class TestAssumeRole:
    async def test_options(self, boto, moto_url, clock: Clock) -> None:
        """role_arn, external_id, role_session_name and duration_seconds reach STS."""
        sm = boto("secretsmanager")
        sm.create_secret(Name="db", SecretString="pw")
        sm.create_secret(Name="api", SecretString="key")
        sm.create_secret(Name="web", SecretString="tls")
        options = {
            "role_arn": ROLE,
            "external_id": "ext-42",
            "role_session_name": "secretkit-test",
            "duration_seconds": 1800,
        }
        async with SecretClient(backends={"aws": options}) as client:
            assert await client.get_value("db") == "pw"
            arn = await identity(client)
            # 1800-second credentials are renewed 450 s before expiry, not at 1400 s.
            clock.advance(1800 - 450 - 60)
            assert await client.get_value("api") == "key"
            first = len(assumed(moto_url))
            clock.advance(60 + 30)
            assert await client.get_value("web") == "tls"
        calls = assumed(moto_url)
        assert (first, len(calls)) == (1, 2)
        assert {
            (c["role_arn"], c["external_id"], c["session_name"]) for c in calls
        } == {(ROLE, "ext-42", "secretkit-test")}
        assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/secretkit-test"

    async def test_seed_variables(
        self, boto, moto_url, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """AWS_ROLE_ARN, AWS_ROLE_SESSION_NAME and AWS_EXTERNAL_ID ask for it too."""
        monkeypatch.setenv("AWS_ROLE_ARN", ROLE)
        monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "from-env")
        monkeypatch.setenv("AWS_EXTERNAL_ID", "env-ext")
        boto("secretsmanager").create_secret(Name="db", SecretString="pw")
        async with SecretClient(backends={"aws": {}}) as client:
            assert await client.get_value("db") == "pw"
            arn = await identity(client)
        [call] = assumed(moto_url)
        assert (call["role_arn"], call["external_id"], call["session_name"]) == (
            ROLE,
            "env-ext",
            "from-env",
        )
        assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/app/from-env"

    async def test_short_sessions_are_not_renewed_per_request(
        self, boto, moto_url, clock: Clock
    ) -> None:
        """900-second credentials (the least AWS gives) last for many requests."""
        for name in ("a", "b", "c"):
            boto("secretsmanager").create_secret(Name=name, SecretString=name)
        options = {"role_arn": ROLE, "duration_seconds": 900}
        async with SecretClient(backends={"aws": options}) as client:
            for name in ("a", "b"):
                assert await client.get_value(name) == name
            clock.advance(600)
            assert await client.get_value("c") == "c"
        assert len(assumed(moto_url)) == 1


class TestRefresh:
    async def test_advisory_window_renews_once_for_all_readers(
        self, boto, moto_url, clock: Clock
    ) -> None:
        """Fifty concurrent reads in the advisory window cost one new AssumeRole."""
        sm = boto("secretsmanager")
        names = [f"app/{i}" for i in range(51)]
        for name in names:
            sm.create_secret(Name=name, SecretString=name)
        got: dict[str, str] = {}

        async def read(client: SecretClient, name: str) -> None:
            got[name] = str(await client.get_value(name))

        async with SecretClient(backends={"aws": {"role_arn": ROLE}}) as client:
            await read(client, names[0])
            clock.advance(ADVISORY_AT)
            async with anyio.create_task_group() as tg:
                for name in names[1:]:
                    tg.start_soon(read, client, name)
            renewed = len(assumed(moto_url))
            clock.advance(60)
            await read(client, "app/0")
        assert got == {name: name for name in names}
        assert renewed == 2
        assert len(assumed(moto_url)) == 2

    async def test_failed_renewal_names_the_role_not_the_keys(
        self, boto, moto_url, clock: Clock, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A failed advisory renewal keeps the keys; a mandatory one raises, once."""
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", BASE_KEY_ID)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
        names = [f"s{i}" for i in range(12)]
        for name in names:
            boto("secretsmanager").create_secret(Name=name, SecretString=name)
        errors: list[CredentialError] = []

        async def read(client: SecretClient, name: str) -> None:
            try:
                await client.get(name)
            except CredentialError as exc:
                errors.append(exc)

        options = {"role_arn": ROLE, "max_attempts": 1}
        with sts_denying() as sts:
            async with SecretClient(backends={"aws": options}) as client:
                assert await client.get_value("s0") == "s0"
                monkeypatch.setenv("AWS_ENDPOINT_URL_STS", sts.url)
                clock.advance(ADVISORY_AT)
                assert await client.get_value("s1") == "s1"
                clock.advance(MANDATORY_AT - ADVISORY_AT)
                async with anyio.create_task_group() as tg:
                    for name in names[2:]:
                        tg.start_soon(read, client, name)
        [call] = assumed(moto_url)
        shown = "".join(traceback.format_exception(errors[0]))
        assert len(errors) == 10
        assert len(sts.requests) == 2  # the advisory try, then one for all ten
        assert ROLE in errors[0].message
        assert "AccessDenied" in errors[0].message
        keys = (BASE_KEY_ID, CANARY, call["access_key_id"], call["secret_access_key"])
        for key in keys:
            assert key not in shown


class TestWebIdentity:
    async def test_token_file(
        self, boto, moto_url, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A token file and AWS_ROLE_ARN go through AssumeRoleWithWebIdentity."""
        token = tmp_path / "token"
        token.write_text("eyJhbGciOiJSUzI1NiJ9.pod-token.signature")
        no_env_keys(monkeypatch)
        monkeypatch.setenv("AWS_WEB_IDENTITY_TOKEN_FILE", str(token))
        monkeypatch.setenv("AWS_ROLE_ARN", f"arn:aws:iam::{ACCOUNT}:role/irsa")
        monkeypatch.setenv("AWS_ROLE_SESSION_NAME", "irsa-pod")
        boto("secretsmanager").create_secret(Name="db", SecretString="pw")
        async with SecretClient(backends={"aws": {}}) as client:
            assert await client.get_value("db") == "pw"
            arn = await identity(client)
        [call] = assumed(moto_url)
        assert (call["role_arn"], call["session_name"], call["external_id"]) == (
            f"arn:aws:iam::{ACCOUNT}:role/irsa",
            "irsa-pod",
            None,
        )
        assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/irsa/irsa-pod"


class TestContainerAndInstance:
    @pytest.fixture
    def container(
        self, boto, clock: Clock, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[FakeServer]:
        """An ECS credentials endpoint on loopback, handing out a task role's keys."""
        keys = role_keys(boto, "ecs-task")
        server = container_endpoint(
            keys, token="ecs-auth", expires_at=lambda: clock() + 3600
        )
        no_env_keys(monkeypatch)
        monkeypatch.setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", f"{server.url}/creds")
        monkeypatch.setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "ecs-auth")
        yield from serve(server)

    @pytest.fixture
    def imds(
        self, boto, clock: Clock, monkeypatch: pytest.MonkeyPatch
    ) -> Iterator[FakeServer]:
        """An IMDSv2 on loopback, handing out an instance profile's keys."""
        keys = role_keys(boto, "ec2-role")
        server = instance_metadata(
            keys, role="ec2-role", expires_at=lambda: clock() + 3600
        )
        no_env_keys(monkeypatch)
        monkeypatch.delenv("AWS_EC2_METADATA_DISABLED")
        monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url)
        yield from serve(server)

    async def test_container_role_renewed_once_ahead_of_expiry(
        self, boto, container: FakeServer, clock: Clock
    ) -> None:
        """ECS task credentials sign requests, and are fetched again once, early."""
        for i in range(21):
            boto("secretsmanager").create_secret(Name=f"s{i}", SecretString="v")
        async with SecretClient(backends={"aws": {}}) as client:
            arn = await identity(client)
            await client.get("s0")
            first = len(container.requests)
            clock.advance(ADVISORY_AT)
            async with anyio.create_task_group() as tg:
                for i in range(1, 21):
                    tg.start_soon(client.get, f"s{i}")
        assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/ecs-task/ecs-task-s"
        assert (first, len(container.requests)) == (1, 2)
        assert {r.headers["authorization"] for r in container.requests} == {"ecs-auth"}

    async def test_instance_role(self, imds: FakeServer) -> None:
        """On EC2, the instance profile's credentials come through IMDSv2."""
        async with SecretClient(backends={"aws": {}}) as client:
            arn = await identity(client)
        assert arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/ec2-role/ec2-role-s"
        assert imds.paths("PUT") == ["/latest/api/token"]
        assert (
            imds.paths("GET")[-1]
            == "/latest/meta-data/iam/security-credentials/ec2-role"
        )


class _VaultIssued:
    """A third party's plugin: AWS keys from elsewhere, ahead of every source."""

    def __init__(self, keys: AwsKeys) -> None:
        self.keys = keys

    @hookimpl
    def secretkit_register_credential_providers(
        self,
    ) -> list[CredentialProviderFactory]:
        return [
            CredentialProviderFactory(
                kind="aws",
                name="vault-issued",
                create=lambda options: StaticProvider("vault-issued", self.keys),
                order=5,
            )
        ]


async def test_plugin_provider_joins_the_chain(
    boto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider registered through the hook answers ahead of the environment."""
    key = iam_user(boto, "carol")
    plugins = Registry.load()
    plugins.register(
        _VaultIssued(
            AwsKeys(access_key=key["AccessKeyId"], secret_key=key["SecretAccessKey"])
        ),
        name="vault-issued",
    )
    monkeypatch.setattr(_clients, "session_for", partial(session_for, plugins=plugins))
    async with SecretClient(backends={"aws": {}}, plugins=plugins) as client:
        arn = await identity(client)
    names = [f.name for f in plugins.credential_factories("aws")]
    assert names[:3] == ["vault-issued", "env", "assume-role"]
    assert arn == f"arn:aws:iam::{ACCOUNT}:user/carol"


async def test_plugin_provider_must_return_aws_keys(
    boto, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A provider answering with anything but AwsKeys fails with a CredentialError."""
    boto("secretsmanager").create_secret(Name="db", SecretString="pw")
    plugins = Registry.load()
    plugins.register(_VaultIssued({"AccessKeyId": "AKIA"}), name="vault-issued")  # type: ignore[arg-type]  # the mistake under test
    monkeypatch.setattr(_clients, "session_for", partial(session_for, plugins=plugins))
    async with SecretClient(backends={"aws": {}}, plugins=plugins) as client:
        with pytest.raises(CredentialError, match="'vault-issued' returned dict"):
            await client.get("db")


async def test_canary_keys_never_show(
    boto,
    moto_url: str,
    clock: Clock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Secret key and session token show in no message, repr or DEBUG log."""
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", BASE_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", CANARY)
    monkeypatch.setenv("AWS_SESSION_TOKEN", TOKEN_CANARY)
    boto("secretsmanager").create_secret(Name="db", SecretString="pw")
    boto("secretsmanager").create_secret(Name="api", SecretString="key")
    options: dict[str, object] = {"role_arn": ROLE, "max_attempts": 1}
    async with SecretClient(backends={"aws": options}) as client:
        assert await client.get_value("db") == "pw"
        monkeypatch.setenv("AWS_ENDPOINT_URL_STS", f"http://127.0.0.1:{closed_port()}")
        clock.advance(MANDATORY_AT)
        with pytest.raises(CredentialError) as caught:
            await client.get("api")
        shown = [repr(client), repr(client.backend("aws"))]
    chain: CredentialChain[AwsKeys] = build_chain(
        "aws", credential_factories(), Options({}, instance="aws", source="t")
    )
    creds = await _sdk(chain.get)
    settings = read_settings(Options({}, instance="aws", source="test"))
    bridge = session_for(settings).get_component("credential_provider").providers[0]
    signing = await _sdk(bridge.load)
    shown += [repr(creds), str(creds.value), repr(chain), repr(bridge), repr(signing)]
    shown.append("".join(traceback.format_exception(caught.value)))
    [call] = assumed(moto_url)
    assert creds.value == AwsKeys(
        access_key=BASE_KEY_ID, secret_key=CANARY, token=TOKEN_CANARY
    )
    for canary in (
        CANARY,
        TOKEN_CANARY,
        call["secret_access_key"],
        call["session_token"],
    ):
        assert canary not in "\n".join(shown)
        assert canary not in caplog.text
