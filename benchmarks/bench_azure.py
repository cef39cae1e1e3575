"""What the ``azure`` backend costs next to the Azure SDK, on the tests' fake Key Vault.

Run with ``python benchmarks/bench_azure.py`` from the repository root, where
secretkit-azure and ``cryptography`` are installed. Key Vault has no emulator on
the registries here, so the script starts the test suite's fake Key Vault
(``tests/azure/fake_keyvault.py``: HTTPS on a free loopback port, a CA made for
the run) in two child processes, so their CPU is not ours: one answers at once,
one holds every answer 20 ms on the server side before sending it, standing for a
same-region round trip. HTTPS makes a forwarding proxy harder than it is worth, so
the delay is the server's; it is honest for what is measured here, the client's
overlap of requests. Each server holds 100 secrets. Only loopback traffic; every
loop is bounded; it always exits 0: it is a report, with ``OK`` or ``MISS`` per
target.

(a) 100 distinct cold secrets, four ways: ``SecretClient.get_many`` (its cache
cleared before each run; ``max_concurrency`` as configured, default 32); a
sequential loop of the sync ``azure.keyvault.secrets.SecretClient``;
``asyncio.gather`` over the aio SDK client's ``get_secret`` with the transport our
backend uses (one TLS context trusting the CA, a pool of ``max_concurrency``
connections): like with like; and the same gather over an aio SDK client given
``connection_verify=<CA file>``, as the SDK documents it for a private CA: azure-core
then builds a TLS context per request, and aiohttp pools connections per context,
so every read opens a connection (what our backend did before it made its own
transport). Every client is built and warmed (connections, token) before timing;
the SDK clients are given a token the server accepts, ours signs in by client
secret while warming. The rows take turns ``--repeats`` times; the least wall time
counts (the median shows the spread), and client CPU per read is the least
``time.process_time`` over the same runs. Targets (through the 20 ms server):
``get_many`` at least 5 times faster than the sync loop, and no slower than the
like-with-like ``asyncio.gather``.

(b) A warm ``get`` (a cache hit) next to one aio SDK ``get_secret`` on the
undelayed server: nanoseconds per hit (best of ``--repeats`` loops) and
microseconds per SDK read (best of ``--repeats`` loops of 50).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import AsyncExitStack, ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
COUNT = 100
DELAY_MS = 20
NAMES = [f"bench-secret-{i:03d}" for i in range(COUNT)]
HOT = "bench-hot"
CLIENT_ID = "bench-client"
CLIENT_SECRET = "bench-client-secret"
OURS, SYNC = "secretkit get_many", "sync SDK, sequential"
GATHER, GATHER_CA = (
    "aio SDK, gather, same transport",
    "aio SDK, gather, connection_verify",
)
ROWS = (OURS, SYNC, GATHER, GATHER_CA)
WIDTH = 44


# -- the fake Key Vault, in a child process ----------------------------------------


def serve(delay_ms: int) -> None:
    """Child: serve the fake vault, print where, run until stdin closes."""
    sys.path.insert(0, str(ROOT))
    from tests.azure._tls import make_certificates
    from tests.azure.fake_keyvault import TENANT, FakeKeyVault

    with tempfile.TemporaryDirectory() as where:
        certs = make_certificates(Path(where))
        with FakeKeyVault(certs) as kv:
            kv.clients[CLIENT_ID] = CLIENT_SECRET
            token = "bench-static-token"
            kv.tokens.add(token)
            for name in [*NAMES, HOT]:
                kv.seed(name, json.dumps({"value": name}))
            kv.delay = delay_ms / 1000
            facts = {"url": kv.url, "ca": str(certs.ca), "token": token}
            print(json.dumps({**facts, "tenant": TENANT}), flush=True)
            sys.stdin.read()


@dataclass(frozen=True)
class Server:
    """A running fake vault: its URL, the CA to trust, a token it accepts."""

    url: str
    ca: str
    token: str
    tenant: str


def start_server(stack: ExitStack, delay_ms: int) -> Server:
    """Start a child serving the fake vault; stop it when ``stack`` closes."""
    child = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(delay_ms)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdin is not None
    assert child.stdout is not None

    def stop() -> None:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait(10)

    stack.callback(stop)
    return Server(**json.loads(child.stdout.readline()))


# -- the contenders ----------------------------------------------------------------


class StaticToken:
    """A credential (sync and aio) that always gives one token the server accepts."""

    def __init__(self, token: str) -> None:
        from azure.core.credentials import AccessToken

        self._token = AccessToken(token, int(time.time()) + 3600)

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """The token, sync."""
        return self._token


class AsyncStaticToken(StaticToken):
    """The aio face of :class:`StaticToken`."""

    async def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        """The token."""
        return self._token

    async def close(self) -> None:
        """Nothing to close."""


@dataclass
class Run:
    """One row's wall times and best client CPU, in seconds."""

    walls: list[float] = field(default_factory=list)
    cpu: float = float("inf")

    def add(self, wall: float, cpu: float) -> None:
        """Keep every wall time and the least CPU."""
        self.walls.append(wall)
        self.cpu = min(self.cpu, cpu)

    @property
    def wall(self) -> float:
        """The least wall time."""
        return min(self.walls)

    @property
    def median(self) -> float:
        """The median wall time."""
        return statistics.median(self.walls)


def same_transport(ca: str, connections: int) -> Any:
    """An aio SDK transport as our backend builds it: one TLS context, one pool."""
    import ssl

    import aiohttp
    from azure.core.pipeline.transport import AioHttpTransport

    connector = aiohttp.TCPConnector(
        ssl=ssl.create_default_context(cafile=ca), limit=connections
    )
    session = aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
    )
    return AioHttpTransport(session=session, session_owner=True)


class Contenders:
    """The four ways to read, against one server; build with :meth:`open`."""

    def __init__(self, server: Server, stack: AsyncExitStack) -> None:
        from azure.keyvault.secrets import SecretClient as SyncSDK
        from azure.keyvault.secrets.aio import SecretClient as AioSDK

        from secretkit.core import SecretClient

        s, extra = server, {"verify_challenge_resource": False}
        self.sync = SyncSDK(
            s.url, StaticToken(s.token), connection_verify=s.ca, **extra
        )
        ours = {
            "vault_url": s.url,
            "credential": "client_secret",
            "tenant_id": s.tenant,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "authority": s.url,
            "ca_bundle": s.ca,
            **extra,
        }
        self.client = SecretClient(default="azure", backends={"azure": ours})
        settings = getattr(self.client.backend("azure"), "settings", None)
        self.connections = int(getattr(settings, "max_concurrency", 32))
        token: Any = AsyncStaticToken(s.token)  # duck-typed aio credential
        self.aio = AioSDK(
            s.url,
            token,
            transport=same_transport(s.ca, self.connections),
            **extra,
        )
        self.aio_ca = AioSDK(s.url, token, connection_verify=s.ca, **extra)
        self.stack = stack

    @classmethod
    async def open(cls, server: Server, stack: AsyncExitStack) -> Contenders:
        """Build the four and warm them: connections, tokens, challenge caches."""
        self = cls(server, stack)
        stack.callback(self.sync.close)
        await stack.enter_async_context(self.aio)
        await stack.enter_async_context(self.aio_ca)
        await stack.enter_async_context(self.client)
        for row in ROWS:
            await self.read(row)
        return self

    async def read(self, row: str) -> int:
        """Read every secret once the ``row`` way; the number found."""
        if row == SYNC:  # blocks the loop, as a sync program would
            return sum(1 for n in NAMES if self.sync.get_secret(n).value)
        if row in (GATHER, GATHER_CA):
            sdk = self.aio if row == GATHER else self.aio_ca
            found = await asyncio.gather(*(sdk.get_secret(n) for n in NAMES))
            return sum(1 for secret in found if secret.value)
        await self.client.clear()
        return len(await self.client.get_many(NAMES))

    async def hits(self, iterations: int) -> float:
        """Nanoseconds per warm ``get``."""
        get = self.client.get
        await get(HOT)
        start = time.perf_counter_ns()
        for _ in range(iterations):
            await get(HOT)
        return (time.perf_counter_ns() - start) / iterations

    async def sdk_reads(self, iterations: int) -> float:
        """Microseconds per aio SDK ``get_secret``."""
        start = time.perf_counter()
        for _ in range(iterations):
            await self.aio.get_secret(HOT)
        return (time.perf_counter() - start) / iterations * 1e6


async def measure(rows: Contenders, turns: int) -> dict[str, Run]:
    """The rows, taking turns; the least wall and CPU of each."""
    runs = {row: Run() for row in ROWS}
    for _ in range(turns):
        for row in ROWS:
            wall, cpu = time.perf_counter(), time.process_time()
            found = await rows.read(row)
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            assert found == COUNT, f"{row}: found {found} of {COUNT}"
            runs[row].add(wall, cpu)
    return runs


# -- the report --------------------------------------------------------------------


def mark(ok: bool) -> str:
    """``OK`` or ``MISS``."""
    return "OK" if ok else "MISS"


def print_rows(title: str, runs: dict[str, Run]) -> None:
    """One table of (a)."""
    print(f"\n{title}")
    print(f"  {'':<{WIDTH}} {'wall ms':>9} {'median':>8} {'CPU us/read':>12}")
    for row in ROWS:
        run = runs[row]
        print(
            f"  {row:<{WIDTH}} {run.wall * 1e3:>9.1f} {run.median * 1e3:>8.1f} "
            f"{run.cpu / COUNT * 1e6:>12.0f}"
        )


def print_targets(runs: dict[str, Run], targets: bool) -> None:
    """get_many's speed-up over each peer (least walls), with the targets."""
    for peer, target in ((SYNC, 5.0), (GATHER, 1.0), (GATHER_CA, None)):
        ratio = runs[peer].wall / runs[OURS].wall
        label = f"get_many vs {peer}"
        tail = ""
        if targets and target is not None:
            tail = f"  >= {target:g}x    {mark(ratio >= target)}"
        print(f"  {label:<{WIDTH}} {ratio:>8.2f}x{tail}")


async def measure_all(
    fast_server: Server, slow_server: Server, turns: int, iterations: int
) -> tuple[dict[str, Run], dict[str, Run], float, float, int]:
    """(a) on both servers, then (b) on the undelayed one; and max_concurrency."""
    async with AsyncExitStack() as stack:
        direct = await Contenders.open(fast_server, stack)
        delayed = await Contenders.open(slow_server, stack)
        fast = await measure(direct, turns)
        slow = await measure(delayed, turns)
        hit_ns = min([await direct.hits(iterations) for _ in range(turns)])
        read_us = min([await direct.sdk_reads(50) for _ in range(turns)])
    return fast, slow, hit_ns, read_us, direct.connections


def report(args: argparse.Namespace) -> None:
    """Start the servers, measure, print the report."""
    try:
        import azure.keyvault.secrets
        import cryptography  # noqa: F401
    except ImportError as exc:
        print(f"bench_azure: skipped: {exc.name} is not installed")
        return
    turns = max(1, args.repeats)
    with ExitStack() as servers:
        fast_server = start_server(servers, 0)
        slow_server = start_server(servers, DELAY_MS)
        fast, slow, hit_ns, read_us, connections = asyncio.run(
            measure_all(fast_server, slow_server, turns, args.iterations)
        )
    version = azure.keyvault.secrets.__version__
    print(f"the azure backend next to azure-keyvault-secrets {version}, fake vault")
    print(
        f"\n(a) {COUNT} distinct cold secrets; least of {turns} turns; "
        f"max_concurrency {connections}"
    )
    print_rows("direct (client and server share the cores)", fast)
    print_targets(fast, targets=False)
    print_rows(f"server holding each answer {DELAY_MS} ms", slow)
    print_targets(slow, targets=True)
    print(f"\n(b) a warm get next to an SDK read; best of {turns} loops")
    print(f"  {'secretkit: await client.get(...) ns/hit':<{WIDTH}} {hit_ns:>9.0f}")
    print(f"  {'aio SDK: await get_secret(...) us/read':<{WIDTH}} {read_us:>9.0f}")
    ratio = read_us * 1000 / hit_ns
    print(f"  {'cache hit faster than an SDK read':<{WIDTH}} {ratio:>8.0f}x")


def main() -> None:
    """Parse the options; print the report (or serve, as a child)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve)
    else:
        report(args)


if __name__ == "__main__":
    main()
