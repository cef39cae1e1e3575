"""A real moto server for the AWS tests: started once, reset before every test."""

from __future__ import annotations

import os
import urllib.request
from typing import TYPE_CHECKING

import pytest

from .moto_process import identity, moto_server

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path
    from typing import Any


@pytest.fixture(scope="session")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a moto server on a free loopback port, for the whole session."""
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture(autouse=True)
def aws_env(
    moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> dict[str, str]:
    """Test credentials and region, no real ~/.aws, and a fresh moto state."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "SECRETKIT_")):
            monkeypatch.delenv(name)
    env = identity(tmp_path) | {
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": moto_url,
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    request = urllib.request.Request(f"{moto_url}/moto-api/reset", method="POST")
    urllib.request.urlopen(request, timeout=10).close()
    return env


@pytest.fixture
def boto(moto_url: str) -> Callable[..., Any]:
    """A plain boto3 client against moto, to arrange what a test reads."""
    import boto3

    def make(service: str, region: str = "us-east-1") -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=moto_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make
