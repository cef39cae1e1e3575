"""What a cache hit costs, next to a dict lookup and a trivial ``await``.

Run with ``python benchmarks/bench_cache.py`` where the core is installed.

Measured, in nanoseconds per operation, all in this one process and run:

* ``d.get(k)`` on a small dict, and the empty loop every row includes;
* ``await noop()`` of a coroutine that returns at once, under asyncio and trio;
* ``await client.get("db/main")`` and ``await client.get("db/main#password")``
  inside an entered ``async with SecretClient(...)`` reading the embedded
  ``memory`` backend, after one miss filled the cache, under asyncio and trio;
* ``SyncSecretClient.get(...)`` for the same two references, after a first miss.

Each row is a ``for`` loop of ``--iterations`` operations timed with
``time.perf_counter_ns`` and the garbage collector off; the best (least) of
``--repeats`` loops counts. The empty loop's cost is **not** subtracted from any
row: every row includes it, as the baselines in FACTS.md do. Ratios against the
baselines are what to read; absolute numbers move 10-30 % between runs.

Targets: an async hit at most 3x a trivial await; a sync hit at most 10x a dict
lookup. The script always exits 0: it is a report, with ``OK`` or ``MISS`` per
target.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import anyio

from secretkit.core import SecretClient, SyncSecretClient

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

DESCRIPTION = "Print what a cache hit costs next to a dict lookup and an await."
REF = "db/main"
FIELD_REF = "db/main#password"
SECRETS = {REF: json.dumps({"user": "app", "password": "not-a-real-password"})}
BACKENDS: dict[str, dict[str, object]] = {"memory": {"secrets": SECRETS}}
ASYNC_TARGET = 3.0  # an async hit at most this many trivial awaits
SYNC_TARGET = 10.0  # a sync hit at most this many dict lookups
# For scale only; reported by the issue, NOT measured in this run.
PEERS = (
    ("aws-secretsmanager-caching (AWS's caching library)", "~100 us per hit"),
    ("AWS Lambda Powertools parameters", "~7 us per hit"),
    ("mlflow-secrets-auth, measured against moto", "~10 us per hit"),
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Plan:
    """How much to measure: ``repeats`` loops of ``iterations`` operations."""

    iterations: int
    repeats: int


def best(plan: Plan, run_once: Callable[[int], int]) -> float:
    """Return the least nanoseconds per operation over ``plan.repeats`` loops.

    :param run_once: runs ``n`` operations, returns the nanoseconds they took
    """
    times = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(plan.repeats):
            times.append(run_once(plan.iterations))
    finally:
        if enabled:
            gc.enable()
    return min(times) / plan.iterations


async def best_async(plan: Plan, run_once: Callable[[int], Awaitable[int]]) -> float:
    """Like :func:`best`, for a loop that runs on the event loop."""
    times = []
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(plan.repeats):
            times.append(await run_once(plan.iterations))
    finally:
        if enabled:
            gc.enable()
    return min(times) / plan.iterations


# -- the loops: each written out, so no row pays for an extra call ------------


def empty_loop(n: int) -> int:
    """Time ``n`` turns of an empty loop."""
    start = time.perf_counter_ns()
    for _ in range(n):
        pass
    return time.perf_counter_ns() - start


def dict_loop(n: int) -> int:
    """Time ``n`` lookups of a present key in a small dict."""
    d = {f"key/{i}": i for i in range(16)}
    get = d.get
    key = "key/7"
    start = time.perf_counter_ns()
    for _ in range(n):
        get(key)
    return time.perf_counter_ns() - start


async def noop() -> None:
    """The trivial coroutine: returns None at once."""


async def await_loop(n: int) -> int:
    """Time ``n`` awaits of a coroutine that returns at once."""
    start = time.perf_counter_ns()
    for _ in range(n):
        await noop()
    return time.perf_counter_ns() - start


def async_get_loop(client: SecretClient, ref: str) -> Callable[[int], Awaitable[int]]:
    """A loop timing ``n`` awaits of ``client.get(ref)``."""

    async def run(n: int) -> int:
        get = client.get
        start = time.perf_counter_ns()
        for _ in range(n):
            await get(ref)
        return time.perf_counter_ns() - start

    return run


def sync_get_loop(client: SyncSecretClient, ref: str) -> Callable[[int], int]:
    """A loop timing ``n`` calls of ``client.get(ref)``."""

    def run(n: int) -> int:
        get = client.get
        start = time.perf_counter_ns()
        for _ in range(n):
            get(ref)
        return time.perf_counter_ns() - start

    return run


# -- the measurements -----------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Rows:
    """Nanoseconds per operation by row, and backend calls made while timing."""

    ns: dict[str, float]
    stray_calls: int


async def measure_async(plan: Plan) -> Rows:
    """Measure the trivial await and both async hits on the running event loop."""
    ns = {"await noop()": await best_async(plan, await_loop)}
    async with SecretClient(default="memory", backends=BACKENDS) as client:
        for ref in (REF, FIELD_REF):
            await client.get(ref)  # the miss that fills the cache
        calls = client.stats().backend_calls
        for ref in (REF, FIELD_REF):
            timed = await best_async(plan, async_get_loop(client, ref))
            ns[f'await client.get("{ref}")'] = timed
        stray = client.stats().backend_calls - calls
    return Rows(ns=ns, stray_calls=stray)


def measure_sync(plan: Plan) -> Rows:
    """Measure both sync hits, served on this thread after a first miss."""
    ns: dict[str, float] = {}
    with SyncSecretClient(default="memory", backends=BACKENDS) as client:
        for ref in (REF, FIELD_REF):
            client.get(ref)  # the miss: starts the loop thread, fills the cache
        calls = client.stats().backend_calls
        for ref in (REF, FIELD_REF):
            ns[f'SyncSecretClient.get("{ref}")'] = best(
                plan, sync_get_loop(client, ref)
            )
        stray = client.stats().backend_calls - calls
    return Rows(ns=ns, stray_calls=stray)


def verdict(ratio: float, target: float) -> str:
    """``OK`` when ``ratio`` meets ``target``, else ``MISS``."""
    return "OK" if ratio <= target else "MISS"


def report(plan: Plan) -> None:
    """Measure every row and print the table, the ratios and the peers."""
    empty = best(plan, empty_loop)
    lookup = best(plan, dict_loop)
    runs = {
        name: anyio.run(measure_async, plan, backend=name)
        for name in ("asyncio", "trio")
    }
    by_loop = {name: rows.ns for name, rows in runs.items()}
    sync_rows = measure_sync(plan)
    sync = sync_rows.ns
    stray = sync_rows.stray_calls + sum(rows.stray_calls for rows in runs.values())

    print(
        f"cache hits: best of {plan.repeats} loops of {plan.iterations:,} operations;"
        " ns per operation; the empty loop is included in every row, not subtracted"
    )
    width = max(len(row) for row in (*by_loop["asyncio"], *sync))
    print(f"\n{'operation':<{width}}  {'asyncio':>9}  {'trio':>9}")
    print(f"{'empty loop (in every row)':<{width}}  {empty:>9.1f}")
    print(f"{'dict lookup d.get(k)':<{width}}  {lookup:>9.1f}")
    for row in by_loop["asyncio"]:
        asyncio_ns, trio_ns = by_loop["asyncio"][row], by_loop["trio"][row]
        print(f"{row:<{width}}  {asyncio_ns:>9.1f}  {trio_ns:>9.1f}")
    for row, ns in sync.items():
        print(f"{row:<{width}}  {ns:>9.1f}")

    print(f"\ntargets: async hit <= {ASYNC_TARGET:g}x await noop()")
    for row in by_loop["asyncio"]:
        if row == "await noop()":
            continue
        for name, results in by_loop.items():
            ratio = results[row] / results["await noop()"]
            mark = verdict(ratio, ASYNC_TARGET)
            print(f"  {row:<{width}}  {name:<7}  {ratio:5.2f}x  {mark}")
    print(f"targets: sync hit <= {SYNC_TARGET:g}x dict lookup")
    for row, ns in sync.items():
        ratio = ns / lookup
        print(
            f"  {row:<{width}}  {'':<7}  {ratio:5.2f}x  {verdict(ratio, SYNC_TARGET)}"
        )

    if stray:
        print(f"\nWARNING: {stray} backend calls while timing: not every get was a hit")
    print("\npeers, for scale (from the issue; NOT measured in this run):")
    for peer, figure in PEERS:
        print(f"  {peer:<52} {figure}")


def main() -> None:
    """Parse the options and print the report."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--iterations", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    report(Plan(iterations=args.iterations, repeats=args.repeats))


if __name__ == "__main__":
    main()
