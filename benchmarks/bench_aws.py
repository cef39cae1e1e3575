"""What the ``aws`` backend costs next to boto3 and AWS's own libraries, on moto.

Run with ``python benchmarks/bench_aws.py`` where secretkit-aws, ``moto[server]`` and
boto3 are installed; ``aws-lambda-powertools`` and ``aws-secretsmanager-caching``
add their rows when installed (else the row says "not installed").

The script starts one ``moto_server`` on a free loopback port (credentials
``testing``, region ``us-east-1``) and two small proxies in front of it (child
processes, so their CPU is not ours): one forwards at once, one sleeps 20 ms before
forwarding each request, standing for a network round trip (real AWS is 5-50 ms
away). Both count the requests they forward, by operation. It creates 100 secrets
whose names are no prefix of one another (Powertools filters by name, and AWS's
name filter matches prefixes). Only loopback traffic; every loop is bounded; it
always exits 0: it is a report, with ``OK`` or ``MISS`` per target.

(a) 100 distinct cold secrets, four ways: ``SecretClient.get_many`` (its cache
cleared before each run); a sequential boto3 ``get_secret_value`` loop; boto3
``batch_get_secret_value`` in sequential pages of 20 ids (the most AWS accepts);
and Powertools' ``SecretsProvider.get_multiple``, which ``get_secrets_by_name``
calls, in chunks of 10 names (the most values AWS accepts in one filter; moto does
not enforce either limit, so no row leans on that). Every client is built and
warmed (connections, credentials) before timing; the rows take turns
``--repeats`` times; the least wall time counts. Client CPU is the least
``time.process_time`` of this process over the same runs. Direct to moto, moto's
~6 ms of work per request dominates, so the floor is the sequential 20-per-page
row, which makes the fewest requests AWS allows; requests there are counted in one
more run of each row through the forwarding proxy. Then the same rows through the
20 ms proxy (counted as they run; half the turns), where requests can overlap:
the target there is against the fastest peer row.

(b) 500 concurrent ``get`` of one cold key, through the forwarding proxy, on a
client already warmed with another key: requests moto sees (target: exactly 1).

(c) A warm ``get`` (a cache hit) next to ``SecretCache.get_secret_string`` of
``aws-secretsmanager-caching`` after its first fetch: nanoseconds per hit, best of
``--repeats`` loops (the peer's loops are 20 times shorter).

(d) ``import secretkit.aws`` and ``import secretkit.aws.backend`` (what building
an ``aws`` backend loads) in fresh interpreters (best of ``--runs``, minus
``python -c pass``; ``import secretkit.core`` and ``import boto3`` for scale;
noise can make a near-zero figure negative), and whether ``botocore`` is in
``sys.modules`` after the import, after building a client and its ``aws``
backend, and after the first fetch (target: not before the fetch). The children
may write bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped from their
environment), as in ``bench_import.py``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, replace
from http.client import HTTPConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Callable

    from anyio.from_thread import BlockingPortal

    from secretkit.core import SecretClient

DESCRIPTION = "Print what the aws backend costs next to boto3 and AWS's libraries."
COUNT = 100  # distinct secrets in (a)
PAGE = 20  # ids per BatchGetSecretValue call: AWS's limit
CHUNK = 10  # names per Powertools call: AWS's limit on one filter's values
CONCURRENT = 500  # concurrent gets of one key in (b)
DELAY_MS = 20  # the stand-in network round trip
NAMES = [f"bench/{i:03d}-secret" for i in range(COUNT)]
HOT = "bench/hot-key"
WARM = "bench/warm-up"
OURS = "secretkit get_many"
LOOP = "boto3 get_secret_value loop"
PAGES = f"boto3 batch_get_secret_value, {PAGE} per page"
POWERTOOLS = f"Powertools get_secrets_by_name, {CHUNK} per call"
ROWS = (OURS, LOOP, PAGES, POWERTOOLS)
SHORT = {LOOP: "the loop", PAGES: f"{PAGE} per page", POWERTOOLS: "Powertools"}
# Compiling sources on every run would be measured as import time.
CHILD_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
WIDTH = 48


# -- the proxy: counts requests, optionally sleeps, forwards to moto ----------------


class _Forward(BaseHTTPRequestHandler):
    """Forward one keep-alive connection's requests to moto; one write per reply."""

    protocol_version = "HTTP/1.1"
    server: _ProxyServer
    _skip = frozenset(
        {"connection", "keep-alive", "transfer-encoding", "content-length"}
    )

    def setup(self) -> None:
        super().setup()
        # One write per reply and no Nagle: else delayed ACKs add ~40 ms a request.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.upstream = HTTPConnection("127.0.0.1", self.server.upstream_port)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet."""

    def _reply(self, status: str, headers: list[tuple[str, str]], body: bytes) -> None:
        lines = [f"HTTP/1.1 {status}", *(f"{k}: {v}" for k, v in headers)]
        lines += [f"Content-Length: {len(body)}", "Connection: keep-alive", "", ""]
        self.wfile.write("\r\n".join(lines).encode("latin-1") + body)

    def _send(self, body: bytes) -> Any:
        headers = {k: v for k, v in self.headers.items() if k.lower() not in self._skip}
        self.upstream.request(self.command, self.path, body=body, headers=headers)
        return self.upstream.getresponse()

    def _forward(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/__bench__/counts":
            self._reply("200 OK", [], json.dumps(self.server.take_counts()).encode())
            return
        target = self.headers.get("X-Amz-Target") or f"{self.command} {self.path}"
        self.server.count(target.rpartition(".")[2])
        if self.server.delay:
            time.sleep(self.server.delay)
        try:
            response = self._send(body)
        except OSError:  # moto closed an idle connection: reconnect once
            self.upstream.close()
            response = self._send(body)
        data = response.read()
        kept = [(k, v) for k, v in response.getheaders() if k.lower() not in self._skip]
        self._reply(f"{response.status} {response.reason}", kept, data)

    do_GET = do_POST = do_PUT = do_DELETE = _forward


class _ProxyServer(ThreadingHTTPServer):
    """A thread per client connection; counts shared under a lock."""

    daemon_threads = True

    def __init__(self, upstream_port: int, delay: float) -> None:
        super().__init__(("127.0.0.1", 0), _Forward)
        self.upstream_port = upstream_port
        self.delay = delay
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def count(self, operation: str) -> None:
        with self._lock:
            self._counts[operation] = self._counts.get(operation, 0) + 1

    def take_counts(self) -> dict[str, int]:
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts


def serve_proxy(upstream_port: int, delay_ms: int) -> None:
    """Run a proxy in this process: print its port, then serve until terminated."""
    server = _ProxyServer(upstream_port, delay_ms / 1000)
    print(server.server_address[1], flush=True)
    server.serve_forever()


@dataclass(frozen=True, slots=True, kw_only=True)
class Proxy:
    """A proxy child process in front of moto."""

    url: str

    def counts(self) -> dict[str, int]:
        """The requests forwarded since the last call, by operation."""
        with urllib.request.urlopen(f"{self.url}/__bench__/counts", timeout=5) as r:
            counts: dict[str, int] = json.load(r)
        return counts


# -- child processes -------------------------------------------------------------


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stopped(process: subprocess.Popen[Any]) -> Callable[[], None]:
    """A callback that terminates ``process`` (then kills it if it lingers)."""

    def stop() -> None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    return stop


def start_moto(stack: ExitStack) -> str:
    """Start moto_server on a free loopback port until ``stack`` closes; its URL."""
    port = free_port()
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    stack.callback(stopped(server))
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            return url
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"moto_server did not start; try: {' '.join(command)}"
                ) from None
            time.sleep(0.05)


def start_proxy(stack: ExitStack, moto_url: str, delay_ms: int) -> Proxy:
    """Start a counting proxy child in front of moto until ``stack`` closes."""
    port = moto_url.rpartition(":")[2]
    command = [sys.executable, __file__, "--proxy", port, "--delay-ms", str(delay_ms)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    stack.callback(stopped(process))
    assert process.stdout is not None
    return Proxy(url=f"http://127.0.0.1:{process.stdout.readline().strip()}")


def aws_env() -> dict[str, str]:
    """Test credentials and region; no real AWS configuration is read."""
    nothing = os.path.join(tempfile.gettempdir(), "secretkit-bench-no-aws-config")
    return {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": "us-east-1",
        "AWS_CONFIG_FILE": nothing,
        "AWS_SHARED_CREDENTIALS_FILE": nothing,
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def boto3_client(url: str) -> Any:
    """A plain boto3 Secrets Manager client against ``url``."""
    import boto3

    return boto3.client(
        "secretsmanager",
        region_name="us-east-1",
        endpoint_url=url,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def optional(module: str) -> Any:
    """An optional peer's module, or ``None`` when it is not installed."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def our_backends(url: str) -> dict[str, dict[str, object]]:
    """The ``backends=`` of our client against ``url``."""
    return {"aws": {"region": "us-east-1", "endpoint_url": url}}


# -- (a) 100 cold secrets ---------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """One timed fetch of the secrets."""

    wall: float  # seconds
    cpu: float  # CPU seconds of this process
    found: int
    requests: int | None = None


def timed(fetch: Callable[[], int]) -> Run:
    """Time one call of ``fetch``, which returns how many secrets it got."""
    cpu, wall = time.process_time(), time.perf_counter()
    found = fetch()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Run(wall=wall, cpu=cpu, found=found)


class Contenders:
    """Every row of (a) against one endpoint, each built and warmed once."""

    def __init__(self, url: str, portal: BlockingPortal, stack: ExitStack) -> None:
        from secretkit.core import SecretClient

        self.boto = boto3_client(url)
        self.powertools: Any = None
        parameters = optional("aws_lambda_powertools.utilities.parameters")
        if parameters is not None:
            self.powertools = parameters.SecretsProvider(boto3_client=self.boto)
        self.portal = portal
        client = SecretClient(default="aws", backends=our_backends(url))
        self.client = stack.enter_context(portal.wrap_async_context_manager(client))
        self.boto.get_secret_value(SecretId=WARM)  # connections, credentials
        portal.call(self.client.get, WARM)

    def run(self, row: str) -> Run | None:
        """One cold fetch of the names by ``row``; ``None``: not installed."""
        if row == OURS:
            self.portal.call(self.client.clear)
            return timed(self._ours)
        if row == LOOP:
            return timed(self._loop)
        if row == PAGES:
            return timed(self._pages)
        return None if self.powertools is None else timed(self._powertools)

    def _ours(self) -> int:
        return len(self.portal.call(self.client.get_many, NAMES))

    def _loop(self) -> int:
        return sum(bool(self.boto.get_secret_value(SecretId=n)) for n in NAMES)

    def _pages(self) -> int:
        found = 0
        for start in range(0, COUNT, PAGE):
            page = self.boto.batch_get_secret_value(SecretIdList=NAMES[start:][:PAGE])
            found += len(page["SecretValues"])
        return found

    def _powertools(self) -> int:
        found = 0
        for start in range(0, COUNT, CHUNK):
            chunk = NAMES[start:][:CHUNK]
            found += len(self.powertools.get_multiple(chunk, force_fetch=True))
        return found


def measure(rows: Contenders, turns: int, proxy: Proxy | None) -> dict[str, Run]:
    """Each row ``turns`` times, taking turns: least wall, least CPU, fewest found.

    :param proxy: the proxy in front of ``rows``' endpoint, to count requests
    """
    runs: dict[str, list[Run]] = {row: [] for row in ROWS}
    for row in ROWS:
        rows.run(row)  # untimed warm-up
    for _ in range(turns):
        for row in ROWS:
            if proxy:
                proxy.counts()
            run = rows.run(row)
            if run is not None:
                requests = sum(proxy.counts().values()) if proxy else None
                runs[row].append(replace(run, requests=requests))
    return {
        row: Run(
            wall=min(r.wall for r in done),
            cpu=min(r.cpu for r in done),
            found=min(r.found for r in done),
            requests=done[-1].requests,
        )
        for row, done in runs.items()
        if done
    }


def count_requests(rows: Contenders, proxy: Proxy) -> dict[str, int]:
    """Run each row once through ``proxy``; the requests each made."""
    counts = {}
    for row in ROWS:
        proxy.counts()
        if rows.run(row) is not None:
            counts[row] = sum(proxy.counts().values())
    return counts


# -- (b), (c), (d) -----------------------------------------------------------------


async def concurrent_gets(client: SecretClient) -> float:
    """``CONCURRENT`` concurrent gets of one key; the seconds they took."""
    import anyio

    start = time.perf_counter()
    async with anyio.create_task_group() as tg:
        for _ in range(CONCURRENT):
            tg.start_soon(client.get, HOT)
    return time.perf_counter() - start


def single_flight(
    proxy: Proxy, portal: BlockingPortal, stack: ExitStack
) -> tuple[float, dict[str, int]]:
    """(b) through ``proxy`` on a warmed client: seconds, and requests by operation."""
    from secretkit.core import SecretClient

    client = SecretClient(default="aws", backends=our_backends(proxy.url))
    client = stack.enter_context(portal.wrap_async_context_manager(client))
    portal.call(client.get, WARM)  # open the client, resolve credentials
    proxy.counts()
    spent = portal.call(concurrent_gets, client)
    return spent, proxy.counts()


async def our_hits(url: str, iterations: int, repeats: int) -> float:
    """Nanoseconds per warm ``await client.get(HOT)``, best of ``repeats`` loops."""
    from secretkit.core import SecretClient

    async with SecretClient(default="aws", backends=our_backends(url)) as client:
        get = client.get
        await get(HOT)
        best = float("inf")
        for _ in range(repeats):
            start = time.perf_counter_ns()
            for _ in range(iterations):
                await get(HOT)
            best = min(best, (time.perf_counter_ns() - start) / iterations)
    return best


def caching_hits(url: str, iterations: int, repeats: int) -> float | None:
    """Nanoseconds per ``SecretCache.get_secret_string`` hit (``None``: no peer)."""
    caching = optional("aws_secretsmanager_caching")
    if caching is None:
        return None
    config = caching.SecretCacheConfig()
    cache = caching.SecretCache(config=config, client=boto3_client(url))
    get = cache.get_secret_string
    get(HOT)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(iterations):
            get(HOT)
        best = min(best, (time.perf_counter_ns() - start) / iterations)
    return best


PROBE = """
import json, sys
import anyio
seen = {}
import secretkit.aws
seen["after import secretkit.aws"] = "botocore" in sys.modules
from secretkit.core import SecretClient
client = SecretClient(default="aws", backends={"aws": {"endpoint_url": sys.argv[1]}})
client.backend("aws")
seen["after building a client and its aws backend"] = "botocore" in sys.modules
async def first():
    async with client:
        await client.get(sys.argv[2])
anyio.run(first)
seen["after the first fetch"] = "botocore" in sys.modules
print(json.dumps(seen))
"""
IMPORTS = (
    "import secretkit.aws",
    "import secretkit.aws.backend",  # what building an aws backend imports
    "import secretkit.core",
    "import boto3",
)


def wall_ms(code: str, env: dict[str, str]) -> float:
    """Run ``code`` in a fresh interpreter; its wall time in milliseconds."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env)
    return (time.perf_counter() - start) * 1000


def import_times(runs: int) -> dict[str, float]:
    """Each import's least wall time over ``runs`` turns, minus ``python -c pass``."""
    env = {**CHILD_ENV, **aws_env()}
    codes = ("pass", *IMPORTS)
    for code in codes:
        wall_ms(code, env)  # write the .pyc files, warm the file cache
    best = dict.fromkeys(codes, float("inf"))
    for _ in range(runs):
        for code in codes:
            best[code] = min(best[code], wall_ms(code, env))
    return {code: best[code] - best["pass"] for code in IMPORTS}


def botocore_loaded(url: str) -> dict[str, bool]:
    """Whether botocore is loaded at each stage of a fresh interpreter's first use."""
    env = {**CHILD_ENV, **aws_env()}
    command = [sys.executable, "-c", PROBE, url, HOT]
    done = subprocess.run(command, check=True, env=env, capture_output=True, text=True)
    seen: dict[str, bool] = json.loads(done.stdout)
    return seen


# -- the report ----------------------------------------------------------------------


def mark(ok: bool) -> str:
    """``OK`` or ``MISS``."""
    return "OK" if ok else "MISS"


def print_rows(title: str, rows: dict[str, Run]) -> None:
    """One table of (a)."""
    print(f"\n{title}")
    print(f"  {'':<{WIDTH}} {'requests':>8} {'wall ms':>9} {'CPU s/100':>10}")
    for name in ROWS:
        row = rows.get(name)
        if row is None:
            print(f"  {name:<{WIDTH}} not installed")
            continue
        requests = "?" if row.requests is None else str(row.requests)
        short = "" if row.found == COUNT else f"  (only {row.found} found)"
        cpu = row.cpu * 100 / COUNT
        print(
            f"  {name:<{WIDTH}} {requests:>8} {row.wall * 1000:>9.1f} {cpu:>10.4f}"
            f"{short}"
        )


def print_target(label: str, value: float | None, target: str, ok: bool) -> None:
    """One line: a measured ratio, the target (if any), ``OK`` or ``MISS``."""
    if value is None:
        print(f"  {label:<{WIDTH}} {'n/a':>8}  (not installed)")
    elif not target:
        print(f"  {label:<{WIDTH}} {value:>7.2f}x")
    else:
        print(f"  {label:<{WIDTH}} {value:>7.2f}x  {target:<9} {mark(ok)}")


def speedup(rows: dict[str, Run], peer: str) -> float | None:
    """How many times less wall time our row took than ``peer``'s."""
    found = rows.get(peer)
    return None if found is None else found.wall / rows[OURS].wall


def print_direct(rows: dict[str, Run], turns: int) -> None:
    """(a) direct to moto, with its targets."""
    title = f"direct to moto: least of {turns} turns (requests: one more run, counted)"
    print_rows(title, rows)
    requests, fewest = rows[OURS].requests, COUNT // PAGE
    ok = requests is not None and requests <= fewest
    label = f"get_many: requests for {COUNT} names"
    print(f"  {label:<{WIDTH}} {requests!s:>8}  <= {fewest:<6} {mark(ok)}")
    floor = rows[OURS].wall / rows[PAGES].wall
    label = f"get_many: wall / sequential {PAGE}-per-page floor"
    print_target(label, floor, "<= 1.2x", floor <= 1.2)
    for peer, target in ((LOOP, 10.0), (POWERTOOLS, 1.5)):
        value = speedup(rows, peer)
        ok = value is not None and value >= target
        print_target(
            f"get_many: faster than {SHORT[peer]}", value, f">= {target:g}x", ok
        )


def print_delayed(rows: dict[str, Run], turns: int) -> None:
    """(a) through the slow proxy, with its target."""
    print_rows(
        f"through a proxy adding {DELAY_MS} ms a request: least of {turns}", rows
    )
    for peer in ROWS[1:]:
        print_target(
            f"get_many: faster than {SHORT[peer]}", speedup(rows, peer), "", True
        )
    peers = [speedup(rows, peer) for peer in ROWS[1:]]
    fastest = min((value for value in peers if value is not None), default=None)
    ok = fastest is not None and fastest >= 2.5
    print_target("get_many: faster than the fastest peer", fastest, ">= 2.5x", ok)


def report(args: argparse.Namespace) -> None:
    """Start moto and the proxies, measure everything, print the report."""
    try:
        import anyio.from_thread
        import boto3  # noqa: F401
        import moto
    except ImportError as exc:
        print(f"bench_aws: skipped: {exc.name} is not installed (moto[server], boto3)")
        return
    for name in [n for n in os.environ if n.startswith(("AWS_", "SECRETKIT_"))]:
        del os.environ[name]
    os.environ.update(aws_env())
    turns, slow_turns = args.repeats, max(1, args.repeats // 2)

    with ExitStack() as stack:
        moto_url = start_moto(stack)
        forwarding = start_proxy(stack, moto_url, 0)
        slow = start_proxy(stack, moto_url, DELAY_MS)
        seed = boto3_client(moto_url)
        for name in [*NAMES, HOT, WARM]:
            seed.create_secret(Name=name, SecretString=json.dumps({"value": name}))
        portal = stack.enter_context(anyio.from_thread.start_blocking_portal("asyncio"))
        direct = measure(Contenders(moto_url, portal, stack), turns, None)
        counted = count_requests(Contenders(forwarding.url, portal, stack), forwarding)
        direct = {k: replace(v, requests=counted.get(k)) for k, v in direct.items()}
        delayed = measure(Contenders(slow.url, portal, stack), slow_turns, slow)
        spent, hot_requests = single_flight(forwarding, portal, stack)
        hit_ns = portal.call(our_hits, moto_url, args.iterations, args.repeats)
        peer_hit_ns = caching_hits(moto_url, args.iterations // 20, args.repeats)
        imports = import_times(args.runs)
        botocore = botocore_loaded(moto_url)

    print(f"the aws backend next to boto3 and AWS's libraries, moto {moto.__version__}")
    print(f"\n(a) {COUNT} distinct cold secrets")
    print_direct(direct, turns)
    print_delayed(delayed, slow_turns)

    calls = sum(hot_requests.values())
    print(f"\n(b) {CONCURRENT} concurrent gets of one cold key: {spent * 1000:.1f} ms")
    label = "requests on the wire"
    print(f"  {label:<{WIDTH}} {calls:>8}  == 1      {mark(calls == 1)}")

    print(f"\n(c) a warm get (cache hit): ns per hit, least of {args.repeats} loops")
    print(f"  {'secretkit: await client.get(...)':<{WIDTH}} {hit_ns:>8.0f}")
    if peer_hit_ns is None:
        print(f"  {'aws-secretsmanager-caching':<{WIDTH}} not installed")
    else:
        label = "aws-secretsmanager-caching: get_secret_string"
        print(f"  {label:<{WIDTH}} {peer_hit_ns:>8.0f}")
        ratio = peer_hit_ns / hit_ns
        label = "faster than aws-secretsmanager-caching"
        print_target(label, ratio, ">= 100x", ratio >= 100)

    print(f"\n(d) import: ms, least of {args.runs} fresh interpreters minus start-up")
    for code, ms in imports.items():
        print(f"  {code:<{WIDTH}} {ms:>8.1f}")
    print("  botocore in sys.modules (target: not before the first fetch)")
    for stage, loaded in botocore.items():
        wanted = stage == "after the first fetch"
        print(f"    {stage:<{WIDTH - 2}} {loaded!s:>8}  {mark(loaded == wanted)}")


def main() -> None:
    """Parse the options; print the report (or serve as a proxy child)."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--proxy", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--delay-ms", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.proxy:
        serve_proxy(args.proxy, args.delay_ms)
    else:
        report(args)


if __name__ == "__main__":
    main()
