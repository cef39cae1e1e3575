"""What importing secretkit's core costs, next to ``import anyio, pluggy`` alone.

Run with ``python benchmarks/bench_import.py`` where the core is installed.

Two imports are measured: ``import secretkit.core``, and what code actually
writes, ``from secretkit.core import SecretClient``. The first is cheap by design
(the package loads each public name on first use); the second pulls in the client,
the cache and their dependencies, and is the one that matters.

Each import runs in a fresh interpreter (this one's ``sys.executable``), next to
``python -c "import anyio, pluggy"`` and ``python -c "pass"``, taking turns so
that drift hits all alike. The wall time of the best (least) of ``--runs`` runs
counts, minus the best of ``pass``: interpreter start-up is not import time. Each
ratio to ``import anyio, pluggy`` is held against the target: at most 1.25x, since
the core needs anyio and pluggy anyway and should add little of its own.

Then ``python -X importtime`` lists the modules ``from secretkit.core import
SecretClient`` loads beyond those ``import anyio, pluggy`` loads, the slowest
first by their own ("self") time, the least of a few runs each: where to look to
make the import cheaper.

The children may write bytecode (``PYTHONDONTWRITEBYTECODE`` is dropped from
their environment), so that, after the untimed first run, every module loads from
its ``.pyc`` as in an installed package instead of being compiled on each run.

The script always exits 0: it is a report, with ``OK`` or ``MISS`` per import.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from dataclasses import dataclass

DESCRIPTION = "Print what importing secretkit's core costs next to anyio and pluggy."
CORE = "import secretkit.core"
CLIENT = "from secretkit.core import SecretClient"
BASELINE = "import anyio, pluggy"
EMPTY = "pass"
TARGET = 1.25  # our import at most this many times anyio's and pluggy's
TOP = 10
# Compiling sources on every run would be measured as import time.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


@dataclass(frozen=True, slots=True, kw_only=True)
class Module:
    """One line of ``-X importtime``: a module and its import times in microseconds."""

    name: str
    self_us: int
    cumulative_us: int


def wall_ns(code: str) -> int:
    """Run ``code`` in a fresh interpreter; return the wall time in nanoseconds."""
    start = time.perf_counter_ns()
    subprocess.run([sys.executable, "-c", code], check=True, env=ENV)
    return time.perf_counter_ns() - start


def best_wall_ms(codes: tuple[str, ...], runs: int) -> dict[str, float]:
    """The least wall time of ``runs`` runs of each code, in milliseconds.

    The codes take turns, after one untimed run each to warm the file cache.
    """
    for code in codes:
        wall_ns(code)
    best = dict.fromkeys(codes, float("inf"))
    for _ in range(runs):
        for code in codes:
            best[code] = min(best[code], wall_ns(code) / 1e6)
    return best


def import_times(code: str) -> dict[str, Module]:
    """Run ``code`` under ``-X importtime``; return each module imported, by name."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        check=True,
        env=ENV,
        capture_output=True,
        text=True,
    )
    modules = {}
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, cumulative_us, name = line.removeprefix("import time:").split("|")
        module = Module(
            name=name.strip(),
            self_us=int(self_us),
            cumulative_us=int(cumulative_us),
        )
        modules[module.name] = module
    return modules


def slowest_extra(code: str, runs: int) -> list[Module]:
    """The modules ``code`` imports beyond anyio's and pluggy's, slowest first.

    Each module's times are the least over ``runs`` runs.
    """
    baseline = set(import_times(BASELINE))
    fastest: dict[str, Module] = {}
    for _ in range(runs):
        for name, module in import_times(code).items():
            if name in baseline:
                continue
            known = fastest.get(name)
            if known is None or module.self_us < known.self_us:
                fastest[name] = module
    return sorted(fastest.values(), key=lambda module: module.self_us, reverse=True)


def report(runs: int, importtime_runs: int) -> None:
    """Measure and print the import times, the ratios and the slowest extras."""
    best = best_wall_ms((EMPTY, BASELINE, CORE, CLIENT), runs)
    start_up = best[EMPTY]
    baseline = best[BASELINE] - start_up
    width = len(CLIENT)
    print(
        f"import time: best of {runs} fresh interpreters each, wall time minus "
        f'the best of python -c "{EMPTY}"'
    )
    print(f"\n  {'interpreter start-up (' + EMPTY + ')':<{width}} {start_up:7.1f} ms")
    for code in (BASELINE, CORE, CLIENT):
        print(f"  {code:<{width}} {best[code] - start_up:7.1f} ms")
    print(f"\ntarget: at most {TARGET:g}x {BASELINE}")
    for code in (CORE, CLIENT):
        ratio = (best[code] - start_up) / baseline
        whole = best[code] / best[BASELINE]
        verdict = "OK" if ratio <= TARGET else "MISS"
        print(
            f"  {code:<{width}} {ratio:5.2f}x  {verdict}"
            f"   (with start-up left in both: {whole:.2f}x)"
        )

    extra = slowest_extra(CLIENT, importtime_runs)
    total = sum(module.self_us for module in extra) / 1000
    print(
        f"\n{CLIENT!r} loads {len(extra)} modules beyond {BASELINE!r}, "
        f"{total:.1f} ms of their own"
    )
    print(f"(-X importtime, least of {importtime_runs} runs); the {TOP} slowest:")
    print(f"  {'self us':>8} {'cumul. us':>10}  module")
    for module in extra[:TOP]:
        print(f"  {module.self_us:>8} {module.cumulative_us:>10}  {module.name}")


def main() -> None:
    """Parse the options and print the report."""
    parser = argparse.ArgumentParser(description=DESCRIPTION)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--importtime-runs", type=int, default=5)
    args = parser.parse_args()
    report(args.runs, args.importtime_runs)


if __name__ == "__main__":
    main()
