"""Writes for migration tools: put, delete, describe and list, on the backend itself."""

from __future__ import annotations

import pytest

from secretkit.core import SecretClient
from secretkit.core.errors import ConfigurationError, NotSupported, SecretNotFound
from secretkit.core.secret import SecretRef

from ._direct import names, opened, run
from ._loopback import Loopback, aws_error


@pytest.fixture
def loopback(moto_url):
    """A loopback server in front of moto."""
    with Loopback(moto_url) as server:
        yield server


def ref(text: str) -> SecretRef:
    """A parsed reference."""
    return SecretRef.parse(text)


class TestPut:
    """put(): create, or store a new version."""

    async def test_creates_with_description_and_tags(self, boto) -> None:
        """A new secret is created with its value, description and tags."""
        async with opened() as backend:
            stored = await run(
                backend.put,
                ref("app/db"),
                "pw",
                description="the app's database",
                tags={"team": "ml", "env": "prod"},
            )
        described = boto("secretsmanager").describe_secret(SecretId="app/db")
        value = boto("secretsmanager").get_secret_value(SecretId="app/db")
        assert value["SecretString"] == "pw"
        assert stored.version == value["VersionId"]
        assert stored.stages == ("AWSCURRENT",)
        assert stored.value == "pw"
        assert described["Description"] == "the app's database"
        assert {t["Key"]: t["Value"] for t in described["Tags"]} == {
            "team": "ml",
            "env": "prod",
        }

    async def test_binary_round_trip(self) -> None:
        """Bytes are stored as SecretBinary and read back as the same bytes."""
        blob = bytes(range(256))
        async with opened() as backend:
            await run(backend.put, ref("blob"), blob)
            value = await run(backend.fetch, ref("blob"))
        assert value.value == blob

    async def test_stage_moves_after_put(self, boto) -> None:
        """A new value becomes AWSCURRENT; the old one AWSPREVIOUS, still readable."""
        async with opened() as backend:
            old = await run(backend.put, ref("mlflow/auth"), '{"token": "old"}')
            new = await run(backend.put, ref("mlflow/auth"), '{"token": "new"}')
            info = await run(backend.describe, ref("mlflow/auth"))
        assert new.version != old.version
        assert new.stages == ("AWSCURRENT",)
        assert info.version == new.version
        assert info.versions == {
            new.version: ("AWSCURRENT",),
            old.version: ("AWSPREVIOUS",),
        }
        async with SecretClient(backends={"aws": {}}) as client:
            assert await client.get_value("aws://mlflow/auth#token") == "new"
            previous = await client.get("aws://mlflow/auth?stage=AWSPREVIOUS#token")
        assert previous.reveal() == "old"
        assert previous.version == old.version

    async def test_stages_given_do_not_move_current(self) -> None:
        """stages=["AWSPENDING"] stages a new version and leaves AWSCURRENT alone."""
        async with opened() as backend:
            await run(backend.put, ref("rotating"), "current")
            pending = await run(
                backend.put, ref("rotating"), "next", stages=["AWSPENDING"]
            )
            current = await run(backend.fetch, ref("rotating"))
            staged = await run(backend.fetch, ref("rotating?stage=AWSPENDING"))
        assert pending.stages == ("AWSPENDING",)
        assert current.value == "current"
        assert staged.value == "next"

    async def test_create_with_custom_stage(self) -> None:
        """A new secret's first version is AWSCURRENT plus the labels asked for."""
        async with opened() as backend:
            stored = await run(backend.put, ref("fresh?stage=blue"), "v1")
            blue = await run(backend.fetch, ref("fresh?stage=blue"))
        assert stored.stages == ("AWSCURRENT", "blue")
        assert blue.version == stored.version
        assert set(blue.stages) == {"AWSCURRENT", "blue"}

    async def test_version_becomes_the_request_token(self) -> None:
        """?version= names the new version (AWS's idempotency token)."""
        token = "0123456789abcdef0123456789abcdef"
        async with opened() as backend:
            await run(backend.put, ref("tokened"), "v1")
            stored = await run(backend.put, ref(f"tokened?version={token}"), "v2")
            read = await run(backend.fetch, ref(f"tokened?version={token}"))
        assert stored.version == token
        assert read.value == "v2"

    async def test_existing_secret_gets_description_and_tags(self, boto) -> None:
        """put() on an existing secret updates its description and adds tags."""
        boto("secretsmanager").create_secret(Name="app/db", SecretString="one")
        async with opened() as backend:
            await run(
                backend.put, ref("app/db"), "two", description="now", tags={"k": "v"}
            )
            info = await run(backend.describe, ref("app/db"))
        assert info.metadata["description"] == "now"
        assert info.metadata["tags"] == {"k": "v"}

    async def test_no_create_on_missing_secret(self, boto) -> None:
        """create=False never creates: a missing secret is SecretNotFound."""
        async with opened() as backend:
            with pytest.raises(SecretNotFound, match="'ghost'"):
                await run(backend.put, ref("ghost"), "v", create=False)
        assert boto("secretsmanager").list_secrets()["SecretList"] == []

    @pytest.mark.parametrize(
        ("operation", "message", "create"),
        [
            (
                "CreateSecret",
                "You can't create this secret because a secret with this name is "
                "already scheduled for deletion.",
                True,
            ),
            (
                "PutSecretValue",
                "You can't perform this operation on the secret because it was "
                "marked for deletion.",
                False,
            ),
        ],
    )
    async def test_put_to_a_secret_scheduled_for_deletion(
        self, loopback: Loopback, operation: str, message: str, create: bool
    ) -> None:
        """Writing to a secret scheduled for deletion says so.

        moto answers CreateSecret with ResourceExistsException and lets
        PutSecretValue through, so the loopback answers these calls as AWS does.
        """
        refusal = aws_error("InvalidRequestException", message)
        loopback.rules.append(
            lambda seen: refusal if seen.operation == operation else None
        )
        async with opened(endpoint_url=loopback.url) as backend:
            with pytest.raises(SecretNotFound, match="scheduled for deletion"):
                await run(backend.put, ref("doomed"), "v2", create=create)

    async def test_put_by_arn_writes_in_its_region(self, boto) -> None:
        """An ARN is never created: put() stores a new version in the ARN's region."""
        arn = boto("secretsmanager", "eu-west-1").create_secret(
            Name="far", SecretString="v1"
        )["ARN"]
        async with opened(region="us-east-1") as backend:
            stored = await run(backend.put, ref(arn), "v2")
        assert stored.metadata["region"] == "eu-west-1"
        got = boto("secretsmanager", "eu-west-1").get_secret_value(SecretId="far")
        assert got["SecretString"] == "v2"


class TestDelete:
    """delete(): a recovery window, or force."""

    async def test_recovery_window(self, boto, loopback: Loopback) -> None:
        """A deleted secret is kept for recovery_window_days, and reads say why."""
        boto("secretsmanager").create_secret(Name="old", SecretString="v")
        async with opened(endpoint_url=loopback.url, recovery_window_days=7) as b:
            await run(b.delete, ref("old"))
            info = await run(b.describe, ref("old"))
            with pytest.raises(SecretNotFound, match="scheduled for deletion"):
                await run(b.fetch, ref("old"))
        assert loopback.calls("DeleteSecret")[0].body == {
            "SecretId": "old",
            "RecoveryWindowInDays": 7,
        }
        assert "deleted" in info.metadata
        boto("secretsmanager").restore_secret(SecretId="old")

    @pytest.mark.parametrize("days", [6, 31])
    def test_recovery_window_is_checked(self, days: int) -> None:
        """recovery_window_days outside AWS's 7 to 30 fails at configuration."""
        with pytest.raises(ConfigurationError, match="recovery_window_days"):
            SecretClient(backends={"aws": {"recovery_window_days": days}})

    async def test_force(self, boto) -> None:
        """force=True deletes at once: the secret is gone, not scheduled."""
        boto("secretsmanager").create_secret(Name="old", SecretString="v")
        async with opened() as backend:
            await run(backend.delete, ref("old"), force=True)
            with pytest.raises(SecretNotFound) as caught:
                await run(backend.describe, ref("old"))
        assert "scheduled" not in str(caught.value)

    async def test_a_version_cannot_be_deleted(self, boto) -> None:
        """A reference with a version or stage is refused, and nothing is deleted."""
        boto("secretsmanager").create_secret(Name="keep", SecretString="v")
        async with opened() as backend:
            with pytest.raises(NotSupported, match="whole secrets"):
                await run(backend.delete, ref("keep?stage=AWSPREVIOUS"))
            assert (await run(backend.fetch, ref("keep"))).value == "v"

    async def test_missing(self) -> None:
        """Deleting a secret that does not exist is SecretNotFound."""
        async with opened() as backend:
            with pytest.raises(SecretNotFound):
                await run(backend.delete, ref("never"))


class TestDescribeAndList:
    """describe() and list(): metadata and names, never values."""

    async def test_describe(self, boto) -> None:
        """describe() gives versions, stages, dates, tags and the KMS key."""
        sm = boto("secretsmanager")
        sm.create_secret(
            Name="svc/api",
            SecretString="v1",
            Description="api key",
            KmsKeyId="alias/app",
            Tags=[{"Key": "team", "Value": "ml"}],
        )
        put = sm.put_secret_value(SecretId="svc/api", SecretString="v2")
        async with opened() as backend:
            info = await run(backend.describe, ref("svc/api"))
        assert info.name == "svc/api"
        assert info.version == put["VersionId"]
        assert info.stages == ("AWSCURRENT",)
        assert len(info.versions) == 2
        assert info.created is not None and info.updated is not None
        assert info.metadata["description"] == "api key"
        assert info.metadata["kms_key_id"] == "alias/app"
        assert info.metadata["tags"] == {"team": "ml"}
        assert info.metadata["rotation_enabled"] is False
        assert info.metadata["region"] == "us-east-1"
        assert "v1" not in repr(info) and "v2" not in repr(info)

    async def test_list_with_prefix_follows_pages(self, boto, loopback) -> None:
        """list(prefix) yields every matching name across NextToken pages."""
        sm = boto("secretsmanager")
        wanted = [f"app/s{i:02}" for i in range(12)]
        for name in [*wanted, "other/x", "apple"]:
            sm.create_secret(Name=name, SecretString="v")
        sm.delete_secret(SecretId=wanted.pop())  # scheduled: not listed
        async with opened(endpoint_url=loopback.url) as backend:
            backend.page_size = 5
            found = await names(backend, "app/")
            everything = await names(backend)
        assert sorted(found) == wanted
        assert sorted(everything) == sorted([*wanted, "other/x", "apple"])
        calls = loopback.calls("ListSecrets")
        assert calls[0].body["Filters"] == [{"Key": "name", "Values": ["app/"]}]
        assert [seen.body.get("NextToken") is not None for seen in calls[:3]] == [
            False,
            True,
            True,
        ]

    async def test_list_prefix_no_name_can_have(self, loopback: Loopback) -> None:
        """A prefix with characters no name holds lists nothing, without a call."""
        async with opened(endpoint_url=loopback.url) as backend:
            assert await names(backend, "!app") == []
            assert await names(backend, "a b") == []
        assert loopback.calls("ListSecrets") == []
