"""Run a real moto server on a free loopback port, for as long as a block lasts."""

from __future__ import annotations

__all__ = ("identity", "moto_server")

import os
import sys
from contextlib import contextmanager
from typing import TYPE_CHECKING

from tests.servers import free_port, running

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping
    from pathlib import Path


@contextmanager
def moto_server(log_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Start ``moto_server``, wait until it answers, yield its URL, stop it after.

    :param log_dir: where its output goes (shown if it fails to start)
    :param env: extra environment variables for the server (moto's own settings)
    """
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    argv = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with running(
        argv,
        probe=f"{url}/moto-api/",
        log=log_dir / "moto.log",
        env={**os.environ, **(env or {})},
    ):
        yield url


def identity(
    home: Path, *, key: str = "testing", secret: str = "testing"
) -> dict[str, str]:
    """AWS variables for a test identity: its keys, no real ~/.aws, no IMDS.

    :param home: a temporary folder; the config and credentials files named there
        do not exist, so nothing on this machine is read
    """
    return {
        "AWS_ACCESS_KEY_ID": key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_CONFIG_FILE": str(home / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / "aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }
