"""Run a real server process for the tests: start it, wait until it answers, stop it."""

from __future__ import annotations

__all__ = ("free_port", "running")

import socket
import subprocess
import time
import urllib.request
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping, Sequence
    from pathlib import Path


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running(
    argv: Sequence[str],
    *,
    probe: str,
    log: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Iterator[None]:
    """Start ``argv``, wait until ``probe`` answers over HTTP, stop it on exit.

    :param probe: a URL that answers once the server is ready
    :param log: the server's output (shown if it does not come up)
    :param env: the server's whole environment (default: ours)
    :raises RuntimeError: the server exited or did not answer within ``timeout``
    """
    with log.open("wb") as out:
        server = subprocess.Popen(
            list(argv), stdout=out, stderr=subprocess.STDOUT, env=env
        )
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                urllib.request.urlopen(probe, timeout=1).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{argv[0]} did not start: {log.read_text()}"
                    ) from None
                time.sleep(0.05)
        yield
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:
            server.kill()
