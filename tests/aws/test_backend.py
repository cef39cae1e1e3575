"""Secrets Manager reads through SecretClient, and check(), against a real moto."""

from __future__ import annotations

import json
import logging

import pytest

from secretkit.aws.backend import SecretsManagerBackend
from secretkit.aws.config import AwsSettings
from secretkit.core import SecretClient
from secretkit.core.errors import AccessDenied, BackendUnavailable, SecretNotFound
from secretkit.core.secret import SecretRef

from ._direct import opened, run
from ._loopback import Loopback, Reply, aws_error


@pytest.fixture
def loopback(moto_url):
    """A loopback server in front of moto."""
    with Loopback(moto_url) as server:
        yield server


async def test_string_secret_and_field(boto) -> None:
    """A SecretString comes back as text; #field selects a JSON field."""
    boto("secretsmanager").create_secret(
        Name="mlflow/auth", SecretString=json.dumps({"token": "t0k"})
    )
    async with SecretClient(default="aws", backends={"aws": {}}) as client:
        secret = await client.get("mlflow/auth")
        assert await client.get_value("mlflow/auth#token") == "t0k"
    assert secret.stages == ("AWSCURRENT",)
    assert secret.metadata["region"] == "us-east-1"
    assert secret.metadata["name"] == "mlflow/auth"


@pytest.mark.parametrize(
    "blob", [bytes(range(256)), b"aGVsbG8=", "caf\u00e9".encode(), b""]
)
async def test_binary_secret_stays_bytes(boto, blob: bytes) -> None:
    """A SecretBinary comes back as the same bytes, never decoded twice."""
    boto("secretsmanager").create_secret(Name="blob", SecretBinary=blob or b"\0")
    async with SecretClient(backends={"aws": {}}) as client:
        assert await client.get_value("aws://blob") == (blob or b"\0")


async def test_missing_secret(boto) -> None:
    """A name AWS does not know raises SecretNotFound naming it."""
    async with SecretClient(backends={"aws": {}}) as client:
        with pytest.raises(SecretNotFound, match="nope"):
            await client.get("aws://nope")


async def test_versions_and_stages(boto) -> None:
    """?stage= reads AWS stages and custom labels; ?version= reads a version id."""
    sm = boto("secretsmanager")
    first = sm.create_secret(Name="mlflow/auth", SecretString='{"token": "one"}')
    sm.put_secret_value(SecretId="mlflow/auth", SecretString='{"token": "two"}')
    sm.put_secret_value(
        SecretId="mlflow/auth",
        SecretString='{"token": "three"}',
        VersionStages=["AWSPENDING"],
    )
    sm.update_secret_version_stage(
        SecretId="mlflow/auth", VersionStage="blue", MoveToVersionId=first["VersionId"]
    )
    async with SecretClient(backends={"aws": {}}) as client:
        get = client.get_value
        assert await get("aws://mlflow/auth#token") == "two"
        assert await get("aws://mlflow/auth?stage=AWSCURRENT#token") == "two"
        assert await get("aws://mlflow/auth?stage=AWSPREVIOUS#token") == "one"
        assert await get("aws://mlflow/auth?stage=AWSPENDING#token") == "three"
        assert await get("aws://mlflow/auth?stage=blue#token") == "one"
        by_id = await client.get(f"aws://mlflow/auth?version={first['VersionId']}")
        with pytest.raises(SecretNotFound):
            await client.get("aws://mlflow/auth?stage=green")
    assert by_id.json() == {"token": "one"}
    assert by_id.version == first["VersionId"]
    assert set(by_id.stages) == {"AWSPREVIOUS", "blue"}


async def test_names_keep_their_characters(boto) -> None:
    """Names with / _ + = . @ - are read as written (no '+' turns into a space)."""
    name = "team/a_b+c=d.e@f-g"
    boto("secretsmanager").create_secret(Name=name, SecretString="v")
    async with SecretClient(backends={"aws": {}}) as client:
        assert await client.get_value(f"aws://{name}") == "v"
        assert await client.get_value(name.replace("+", "%2B")) == "v"


async def test_full_and_partial_arns(boto) -> None:
    """A full ARN and a partial ARN (without the random suffix) both read the secret."""
    arn = boto("secretsmanager").create_secret(Name="db/main", SecretString="pw")["ARN"]
    async with SecretClient(backends={"aws": {}}) as client:
        assert await client.get_value(f"aws://{arn}") == "pw"
        assert await client.get_value(f"aws://{arn[:-7]}?stage=AWSCURRENT") == "pw"


async def test_arn_region_wins_and_clients_are_reused(boto) -> None:
    """A full ARN's region wins over the configured one; one client per region."""
    arn = boto("secretsmanager", "eu-west-1").create_secret(
        Name="far", SecretString="away"
    )["ARN"]
    boto("secretsmanager").create_secret(Name="near", SecretString="here")
    async with SecretClient(backends={"aws": {"region": "us-east-1"}}) as client:
        far = await client.get(f"aws://{arn}")
        for ref in ("near", f"{arn}?stage=AWSCURRENT", "near?stage=AWSCURRENT"):
            await client.get(f"aws://{ref}")
        with pytest.raises(SecretNotFound):
            await client.get("aws://far")  # not in the configured region
        backend = client.backend("aws")
        assert isinstance(backend, SecretsManagerBackend)
        opened_clients = sorted(key for key in backend.pool._clients)
    assert far.reveal() == "away"
    assert far.metadata["region"] == "eu-west-1"
    assert opened_clients == [
        ("secretsmanager", "eu-west-1"),
        ("secretsmanager", "us-east-1"),
    ]


class TestRegionFailover:
    """``regions``: the next region only when one is unavailable."""

    @pytest.mark.parametrize(
        "outage",
        [aws_error("ServiceUnavailable", status=503), Reply(drop=True)],
        ids=["503", "connection-dropped"],
    )
    async def test_next_region_when_unavailable(
        self, boto, loopback: Loopback, outage: Reply
    ) -> None:
        """An unreachable first region hands the read to the replica region."""
        boto("secretsmanager", "us-west-2").create_secret(Name="db", SecretString="r")
        loopback.rules.append(
            lambda seen: outage if seen.region == "eu-west-1" else None
        )
        options = {
            "regions": ["eu-west-1", "us-west-2"],
            "endpoint_url": loopback.url,
            "max_attempts": 1,
        }
        async with SecretClient(backends={"aws": options}) as client:
            secret = await client.get("aws://db")
        assert secret.reveal() == "r"
        assert secret.metadata["region"] == "us-west-2"
        calls = loopback.calls("GetSecretValue")
        assert [seen.region for seen in calls] == ["eu-west-1", "us-west-2"]

    async def test_no_failover_when_a_region_answers_no(
        self, boto, loopback: Loopback
    ) -> None:
        """A secret missing from the first region is not looked for in the next."""
        boto("secretsmanager", "us-west-2").create_secret(Name="db", SecretString="r")
        options = {"regions": ["us-east-1", "us-west-2"], "endpoint_url": loopback.url}
        async with SecretClient(backends={"aws": options}) as client:
            with pytest.raises(SecretNotFound):
                await client.get("aws://db")
        assert [s.region for s in loopback.calls("GetSecretValue")] == ["us-east-1"]

    async def test_every_region_unavailable(self, loopback: Loopback) -> None:
        """When no region answers, the read raises BackendUnavailable."""
        loopback.rules.append(lambda seen: Reply(drop=True))
        options = {
            "regions": ["eu-west-1", "us-west-2"],
            "endpoint_url": loopback.url,
            "max_attempts": 1,
        }
        async with SecretClient(backends={"aws": options}) as client:
            with pytest.raises(BackendUnavailable):
                await client.get("aws://db")
        assert len(loopback.calls("GetSecretValue")) == 2


async def test_get_many_with_a_missing_name_fields_and_stages(boto) -> None:
    """get_many returns what exists and one error per missing secret."""
    sm = boto("secretsmanager")
    sm.create_secret(Name="db/main", SecretString='{"password": "p1"}')
    sm.put_secret_value(SecretId="db/main", SecretString='{"password": "p2"}')
    sm.create_secret(Name="api/openai", SecretString="sk")
    refs = [
        "db/main#password",
        "db/main?stage=AWSPREVIOUS#password",
        "api/openai",
        "does/not/exist",
    ]
    async with SecretClient(default="aws", backends={"aws": {}}) as client:
        batch = await client.get_many(refs)
    assert batch["db/main#password"].reveal() == "p2"
    assert batch["db/main?stage=AWSPREVIOUS#password"].reveal() == "p1"
    assert batch["api/openai"].reveal() == "sk"
    assert set(batch.errors) == {"does/not/exist"}
    assert isinstance(batch.errors["does/not/exist"], SecretNotFound)


async def test_values_never_reach_logs_or_reprs(boto, caplog) -> None:
    """With DEBUG logging everywhere, botocore included, no value is ever logged."""
    canary = "CANARY-7f3a9c-do-not-log"
    caplog.set_level(logging.DEBUG)
    for name in ("botocore", "aiobotocore", "aioboto3", "secretkit", "urllib3"):
        caplog.set_level(logging.DEBUG, logger=name)  # restored after the test
    boto("secretsmanager").create_secret(Name="other", SecretString=f"{canary}-2")
    async with opened() as backend:
        stored = await run(
            backend.put, SecretRef.parse("leak/test"), f'{{"k": "{canary}"}}'
        )
        await run(backend.put, SecretRef.parse("leak/test"), canary.encode())
        info = await run(backend.describe, SecretRef.parse("leak/test"))
    async with SecretClient(default="aws", backends={"aws": {}}) as client:
        secret = await client.get("leak/test?stage=AWSPREVIOUS")
        batch = await client.get_many(["leak/test", "other", "missing"])
        shown = [repr(secret), str(secret), repr(batch), repr(client)]
    shown += [repr(stored), repr(info), repr(backend), str(batch.errors["missing"])]
    assert secret.reveal() == f'{{"k": "{canary}"}}'
    assert any(r.name.startswith("botocore") for r in caplog.records)  # DEBUG is on
    for record in caplog.records:
        assert canary not in record.getMessage()
        assert canary not in repr(record.args)
    assert canary not in caplog.text
    assert not any(canary in text for text in shown)


class TestCheck:
    """check(): identity, region, endpoint, and whether check_secret reads."""

    async def test_identity_region_and_endpoint(self, moto_url: str) -> None:
        """check() names the caller, the region and the endpoint."""
        async with opened(region="eu-west-1", endpoint_url=moto_url) as backend:
            line = await run(backend.check)
        assert line.startswith("arn:aws:")
        assert "region eu-west-1" in line
        assert f"endpoint {moto_url}" in line

    async def test_check_secret_readable_never_shown(self, boto) -> None:
        """With check_secret, check() says it is readable without its value."""
        boto("secretsmanager").create_secret(Name="probe", SecretString="s3cr3t")
        async with opened(check_secret="probe") as backend:
            line = await run(backend.check)
        assert "'probe' is readable in us-east-1" in line
        assert "s3cr3t" not in line

    async def test_check_secret_missing(self) -> None:
        """A check_secret that cannot be read fails check(), naming who asked."""
        async with opened(check_secret="absent") as backend:
            with pytest.raises(SecretNotFound, match=r"absent.*checked as arn:aws:"):
                await run(backend.check)

    async def test_check_secret_refused(self, loopback: Loopback) -> None:
        """A refused check_secret is AccessDenied, naming the identity."""
        loopback.rules.append(
            lambda seen: (
                aws_error("AccessDeniedException")
                if seen.operation == "GetSecretValue"
                else None
            )
        )
        settings = {"endpoint_url": loopback.url, "check_secret": "probe"}
        async with opened(**settings) as backend:
            with pytest.raises(AccessDenied, match="checked as arn:aws:"):
                await run(backend.check)


def test_repr_names_instance_and_regions() -> None:
    """The backend's repr shows its name and regions, nothing else."""
    backend = SecretsManagerBackend(
        AwsSettings(regions=("eu-west-1", "us-west-2")), name="prod"
    )
    assert repr(backend) == (
        "SecretsManagerBackend('prod', regions=('eu-west-1', 'us-west-2'))"
    )
