"""What the MLflow auth costs per request, next to ``requests.auth.HTTPBasicAuth``.

Run with ``python benchmarks/bench_mlflow.py`` where secretkit-mlflow is installed.

Measured, in nanoseconds per operation, all in this one process and run:

* ``d.get(k)`` on a small dict (the floor);
* ``SyncSecretClient.get(ref)``, a cache hit on the embedded ``memory`` backend;
* ``HTTPBasicAuth(user, password)(request)`` on a prepared request (the peer);
* ``SecretAuth(request)`` on the same request with a warm cache: bearer, basic,
  and bearer with a host allowlist to check;
* a cold fetch: ``invalidate`` then the auth on a request (a miss through the
  client's loop thread), and a first request on a new client (its thread starts).

Every hot row is a loop of ``--iterations`` operations with the garbage collector
off, the best of ``--repeats`` counting; each auth row also empties the request's
hook list, as does the ``HTTPBasicAuth`` row, so they compare like for like.

Targets: ``SecretAuth`` at most 2x ``HTTPBasicAuth``; its cost beyond
``SyncSecretClient.get`` well under a microsecond. The script always exits 0: it
is a report, with ``OK`` or ``MISS`` per target. Absolute numbers move 10-30 %
between runs on a busy machine; read the ratios.
"""

from __future__ import annotations

import argparse
import gc
import json
import time
from typing import TYPE_CHECKING

import requests
from requests.auth import HTTPBasicAuth

from secretkit.core import SyncSecretClient
from secretkit.mlflow.auth import SecretAuth
from secretkit.mlflow.config import MlflowSettings

if TYPE_CHECKING:
    from collections.abc import Callable

REF = "memory://mlflow/auth"
URL = "http://127.0.0.1:5000/api/2.0/mlflow/experiments/search?max_results=1"
SECRET = json.dumps({"token": "t" * 40, "username": "mlflow", "password": "p" * 24})
AUTH_TARGET = 2.0  # at most this many HTTPBasicAuth calls
EXTRA_TARGET_NS = 1000.0  # beyond SyncSecretClient.get


def _client() -> SyncSecretClient:
    return SyncSecretClient(
        default="memory", backends={"memory": {"secrets": {"mlflow/auth": SECRET}}}
    )


def _best(op: Callable[[], object], iterations: int, repeats: int) -> float:
    best = float("inf")
    gc.disable()
    try:
        for _ in range(repeats):
            start = time.perf_counter_ns()
            for _ in range(iterations):
                op()
            best = min(best, (time.perf_counter_ns() - start) / iterations)
    finally:
        gc.enable()
    return best


def _applied(auth: Callable[[requests.PreparedRequest], object]) -> Callable[[], None]:
    request = requests.Request("POST", URL, json={"max_results": 1}).prepare()
    hooks = request.hooks["response"]

    def op() -> None:
        auth(request)
        hooks.clear()

    return op


def main() -> None:
    """Print the per-request costs and the ratios against the baselines."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    n, k = args.iterations, args.repeats

    client = _client()
    settings = MlflowSettings(ref=REF)
    bearer = SecretAuth(client, settings)
    basic = SecretAuth(client, MlflowSettings(ref=REF, mode="basic"))
    listed = SecretAuth(
        client, MlflowSettings(ref=REF, allowed_hosts=("*.corp.com", "127.0.0.1"))
    )
    for auth in (bearer, basic, listed):
        _applied(auth)()  # the first fetch fills the cache
    table = {"mlflow/auth": "x"}
    rows = {
        "dict.get": _best(lambda: table.get("mlflow/auth"), n, k),
        "SyncSecretClient.get (hit)": _best(lambda: client.get(REF), n, k),
        "HTTPBasicAuth(request)": _best(_applied(HTTPBasicAuth("u", "p" * 24)), n, k),
        "SecretAuth bearer (hit)": _best(_applied(bearer), n, k),
        "SecretAuth basic (hit)": _best(_applied(basic), n, k),
        "SecretAuth bearer + allowlist (hit)": _best(_applied(listed), n, k),
    }

    cold_op = _applied(bearer)

    def miss() -> None:
        client.invalidate(REF)
        cold_op()

    rows["cold: invalidate + SecretAuth (miss)"] = _best(miss, 200, k)

    def first_request() -> None:
        fresh = _client()
        _applied(SecretAuth(fresh, settings))()
        fresh.close()

    rows["cold: new client, first request"] = _best(first_request, 5, 3)
    client.close()

    print("secretkit-mlflow: cost per request (ns, best of runs; ratios matter)")
    for name, ns in rows.items():
        print(f"  {name:<40} {ns:>12,.0f} ns  {ns / rows['dict.get']:>9.1f}x dict")
    peer = rows["HTTPBasicAuth(request)"]
    hit = rows["SyncSecretClient.get (hit)"]
    for name in (
        "SecretAuth bearer (hit)",
        "SecretAuth basic (hit)",
        "SecretAuth bearer + allowlist (hit)",
    ):
        ratio = rows[name] / peer
        extra = rows[name] - hit
        verdict = "OK" if ratio <= AUTH_TARGET and extra < EXTRA_TARGET_NS else "MISS"
        print(
            f"  {name}: {ratio:.2f}x HTTPBasicAuth (target <= {AUTH_TARGET:g}x), "
            f"{extra:,.0f} ns beyond SyncSecretClient.get "
            f"(target < {EXTRA_TARGET_NS:,.0f} ns): {verdict}"
        )


if __name__ == "__main__":
    main()
