"""The quickstart: read secrets from a local JSON file through secretkit's cache.

Run it with ``python3 -m nox -s demo`` (or ``python examples/quickstart/main.py``
with secretkit installed). It needs no cloud: the embedded ``file`` backend reads
``secrets.json`` next to this script.
"""

from __future__ import annotations

import time
from pathlib import Path

import anyio

from secretkit.core import SecretClient

SECRETS = Path(__file__).with_name("secrets.json")


async def main() -> None:
    async with SecretClient(
        default="file", backends={"file": {"path": str(SECRETS)}}, ttl=300
    ) as client:
        started = time.perf_counter()
        secret = await client.get("mlflow/auth")
        miss = time.perf_counter() - started
        print(f"get mlflow/auth        -> {secret!r}  (file read: {miss * 1e3:.2f} ms)")

        started = time.perf_counter()
        for _ in range(10_000):
            again = await client.get("mlflow/auth")
        hit = (time.perf_counter() - started) / 10_000
        print(
            f"get mlflow/auth again  -> {again!r}  (cached: {hit * 1e9:.0f} ns a hit)"
        )

        token = await client.get("mlflow/auth#token")
        print(f"field mlflow/auth#token -> {token!r}; as text: {token}")
        password = await client.get("db/main#password")
        print(f"f-strings stay masked   -> password={password}")

        port = await client.get_value("db/main#/port")
        print(f"a revealed, non-secret field: db/main#/port = {port}")

        many = await client.get_many(["api/openai", "db/main#host", "no/such/secret"])
        print(
            f"get_many found {sorted(many)}; errors: "
            f"{ {ref: type(err).__name__ for ref, err in many.errors.items()} }"
        )

        stats = client.stats()
        print(
            f"cache: {stats.hits} hits, {stats.misses} misses, "
            f"{stats.backend_calls} backend calls, {stats.size} entries"
        )


if __name__ == "__main__":
    anyio.run(main)
