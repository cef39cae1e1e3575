"""get_many through BatchGetSecretValue: our limits, pages, per-secret errors, fallback.

moto serves BatchGetSecretValue but does not enforce AWS's limit of 20 ids per
call, so a loopback server in front of it counts what each call carries.
"""

from __future__ import annotations

import threading

import pytest

from secretkit.aws._batch import MAX_IDS, MAX_IN_FLIGHT
from secretkit.core import SecretClient
from secretkit.core.backend import SecretValue
from secretkit.core.errors import BackendUnavailable, SecretNotFound
from secretkit.core.secret import SecretRef

from ._direct import opened, run
from ._loopback import Loopback, Reply, Seen, aws_error

_BATCH = "BatchGetSecretValue"
_GET = "GetSecretValue"


@pytest.fixture
def loopback(moto_url):
    """A loopback server in front of moto."""
    with Loopback(moto_url) as server:
        yield server


def _client(loopback: Loopback, **options: object) -> SecretClient:
    backend = {"endpoint_url": loopback.url, "max_attempts": 1, **options}
    return SecretClient(default="aws", backends={"aws": backend})


def _create(boto, count: int, prefix: str = "s", region: str = "us-east-1") -> list:
    sm = boto("secretsmanager", region)
    names = [f"{prefix}{i:03}" for i in range(count)]
    for name in names:
        sm.create_secret(Name=name, SecretString=f"v-{name}")
    return names


async def test_no_call_carries_more_than_20_ids(boto, loopback: Loopback) -> None:
    """45 names cost three concurrent calls of at most 20 ids, and no single gets."""
    names = _create(boto, 45)
    loopback.gate = (_BATCH, threading.Barrier(3, timeout=10))
    async with _client(loopback) as client:
        batch = await client.get_many(names)
    assert {name: batch[name].reveal() for name in names} == {
        name: f"v-{name}" for name in names
    }
    sizes = sorted(len(seen.body["SecretIdList"]) for seen in loopback.calls(_BATCH))
    assert sizes == [5, 20, 20]
    assert max(sizes) <= MAX_IDS
    assert loopback.calls(_GET) == []
    assert loopback.most_in_flight == 3  # the chunks overlapped


async def test_next_token_pages_are_followed(boto, loopback: Loopback) -> None:
    """An answer split over NextToken pages is read to its end."""
    names = _create(boto, 5)

    def paged(seen: Seen) -> Reply | None:
        if seen.operation != _BATCH:
            return None
        body = dict(seen.body)
        token = body.pop("NextToken", None)
        answer = loopback.forward(seen, body).json()
        values = sorted(answer["SecretValues"], key=lambda entry: entry["Name"])
        if token is None:
            return Reply(body={**answer, "SecretValues": values[:2], "NextToken": "p2"})
        assert token == "p2"
        return Reply(body={**answer, "SecretValues": values[2:]})

    loopback.rules.append(paged)
    async with _client(loopback) as client:
        batch = await client.get_many(names)
    assert sorted(batch) == names
    tokens = [seen.body.get("NextToken") for seen in loopback.calls(_BATCH)]
    assert tokens == [None, "p2"]


async def test_per_secret_errors_come_back_per_secret(boto) -> None:
    """A missing and a deleted secret fail alone; the batch still answers the rest."""
    names = _create(boto, 3)
    boto("secretsmanager").delete_secret(SecretId=names[0])
    async with SecretClient(default="aws", backends={"aws": {}}) as client:
        batch = await client.get_many([*names, "absent"])
    assert sorted(batch) == names[1:]
    assert set(batch.errors) == {names[0], "absent"}
    deleted, absent = batch.errors[names[0]], batch.errors["absent"]
    assert isinstance(deleted, SecretNotFound)
    assert "scheduled for deletion" in str(deleted)
    assert deleted.ref == names[0]
    assert isinstance(absent, SecretNotFound)
    assert "'absent'" in str(absent)
    assert "ResourceNotFoundException" in str(absent.__cause__)


async def test_versions_and_stages_are_read_alone(boto, loopback: Loopback) -> None:
    """Refs with ?stage= or ?version= go to GetSecretValue; the rest to one batch."""
    names = _create(boto, 3)
    sm = boto("secretsmanager")
    sm.put_secret_value(SecretId=names[0], SecretString="new")
    refs = [*names, f"{names[0]}?stage=AWSPREVIOUS"]
    async with _client(loopback) as client:
        batch = await client.get_many(refs)
    assert batch[names[0]].reveal() == "new"
    assert batch[f"{names[0]}?stage=AWSPREVIOUS"].reveal() == f"v-{names[0]}"
    assert [seen.body["SecretIdList"] for seen in loopback.calls(_BATCH)] == [names]
    assert [seen.body for seen in loopback.calls(_GET)] == [
        {"SecretId": names[0], "VersionStage": "AWSPREVIOUS"}
    ]


async def test_arns_across_regions_batch_per_region(boto, loopback: Loopback) -> None:
    """Full and partial ARNs match their answers; each region gets its own call."""
    east = _create(boto, 2)
    sm_west = boto("secretsmanager", "us-west-2")
    arns = [
        sm_west.create_secret(Name=f"w{i}", SecretString=f"west-{i}")["ARN"]
        for i in range(2)
    ]
    refs = [*east, arns[0], arns[1][:-7]]
    async with _client(loopback) as client:
        batch = await client.get_many(refs)
    assert batch[arns[0]].reveal() == "west-0"
    assert batch[arns[1][:-7]].reveal() == "west-1"
    assert batch[arns[1][:-7]].metadata["region"] == "us-west-2"
    assert batch[east[0]].reveal() == f"v-{east[0]}"
    regions = sorted(seen.region for seen in loopback.calls(_BATCH))
    assert regions == ["us-east-1", "us-west-2"]
    assert loopback.calls(_GET) == []


async def test_unanswered_ids_are_read_alone(boto, loopback: Loopback) -> None:
    """An id the batch answer does not account for is asked for by itself."""
    names = _create(boto, 3)

    def forgetful(seen: Seen) -> Reply | None:
        if seen.operation != _BATCH:
            return None
        answer = loopback.forward(seen).json()
        kept = [entry for entry in answer["SecretValues"] if entry["Name"] != names[1]]
        return Reply(body={**answer, "SecretValues": kept})

    loopback.rules.append(forgetful)
    async with _client(loopback) as client:
        batch = await client.get_many(names)
    assert sorted(batch) == names
    assert [seen.body for seen in loopback.calls(_GET)] == [{"SecretId": names[1]}]


async def test_a_failed_chunk_fails_only_its_secrets(boto, loopback: Loopback) -> None:
    """A chunk throttled past its retries fails its own secrets, each by name."""
    names = _create(boto, 25)
    throttled = aws_error("ThrottlingException", "Rate exceeded")
    loopback.rules.append(
        lambda seen: (
            throttled
            if seen.operation == _BATCH and names[0] in seen.body["SecretIdList"]
            else None
        )
    )
    refs = [SecretRef.parse(name) for name in names]
    async with opened(endpoint_url=loopback.url, max_attempts=1) as backend:
        outcomes = await run(backend.fetch_many, refs)
    failed = {ref.name: o for ref, o in outcomes.items() if isinstance(o, Exception)}
    read = {r.name: o.value for r, o in outcomes.items() if isinstance(o, SecretValue)}
    assert sorted(failed) == names[:MAX_IDS]  # sorted names make the chunks
    assert read == {name: f"v-{name}" for name in names[MAX_IDS:]}
    error = failed[names[3]]
    assert isinstance(error, BackendUnavailable)
    assert error.ref == names[3]
    assert f"{names[3]!r}" in str(error)
    assert "ThrottlingException" in str(error)
    assert loopback.calls(_GET) == []


class TestRefusedBatch:
    """Where BatchGetSecretValue is refused, secrets are read one by one."""

    @pytest.mark.parametrize(
        "refusal",
        [
            aws_error("AccessDeniedException", "not authorized to BatchGet"),
            aws_error("UnknownOperationException"),
        ],
        ids=["access-denied", "unknown-operation"],
    )
    async def test_falls_back_and_remembers(
        self, boto, loopback: Loopback, refusal: Reply
    ) -> None:
        """After one refusal every secret is read alone, that call and later ones."""
        names = _create(boto, 6)
        loopback.rules.append(
            lambda seen: refusal if seen.operation == _BATCH else None
        )
        async with _client(loopback) as client:
            first = await client.get_many(names[:3])
            later = await client.get_many([*names[3:], "absent"])
        assert sorted(first) == names[:3]
        assert sorted(later) == names[3:]
        assert isinstance(later.errors["absent"], SecretNotFound)
        assert len(loopback.calls(_BATCH)) == 1
        assert len(loopback.calls(_GET)) == 7

    async def test_one_by_one_is_bounded(self, boto, loopback: Loopback) -> None:
        """The fallback keeps exactly MAX_IN_FLIGHT reads in flight, no more."""
        names = _create(boto, 2 * MAX_IN_FLIGHT)
        loopback.rules.append(
            lambda seen: (
                aws_error("AccessDeniedException") if seen.operation == _BATCH else None
            )
        )
        loopback.gate = (_GET, threading.Barrier(MAX_IN_FLIGHT, timeout=10))
        async with _client(loopback) as client:
            batch = await client.get_many(names)
        assert sorted(batch) == names
        assert len(loopback.calls(_GET)) == len(names)
        assert loopback.most_in_flight == MAX_IN_FLIGHT
