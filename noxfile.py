"""Developer tasks. Once: ``python3 -m pip install nox uv``; then ``python3 -m nox``."""

from __future__ import annotations

from pathlib import Path

import nox

nox.needs_version = ">=2024.4.15"
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.sessions = ["tests", "lint", "typecheck"]
nox.options.reuse_existing_virtualenvs = True

ROOT = Path(__file__).parent
PACKAGES = sorted(
    str(path.parent.relative_to(ROOT))
    for path in ROOT.glob("packages/*/pyproject.toml")
)

SOURCES = [f"{package}/src" for package in PACKAGES]


def _group(name: str) -> list[str]:
    return nox.project.dependency_groups(nox.project.load_toml("pyproject.toml"), name)


def _install_workspace(session: nox.Session) -> None:
    editable = [arg for package in PACKAGES for arg in ("-e", package)]
    session.install(*editable)


@nox.session
def tests(session: nox.Session) -> None:
    """Run the whole test suite (servers are started by the tests themselves)."""
    _install_workspace(session)
    session.install(*_group("test"))
    session.run("pytest", *session.posargs)


@nox.session
def e2e(session: nox.Session) -> None:
    """Only the end-to-end tests: config file, CLI and real servers together."""
    _install_workspace(session)
    session.install(*_group("test"))
    session.run("pytest", "tests/e2e", *session.posargs)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff (format and checks) and the import layering contract."""
    _install_workspace(session)
    session.install(*_group("lint"))
    session.run("ruff", "format", "--check", ".")
    session.run("ruff", "check", ".")
    session.run("lint-imports")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy, strict on packages/ and checking the tests."""
    _install_workspace(session)
    session.install(*_group("typecheck"))
    session.run("mypy", *SOURCES, "tests", "benchmarks")


@nox.session
def demo(session: nox.Session) -> None:
    """The quickstart: read secrets from the example file through the file backend."""
    _install_workspace(session)
    session.run("python", "examples/quickstart/main.py", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Print the benchmark ratios (cache hits, import time)."""
    _install_workspace(session)
    # The servers the benchmarks start, and the peers they compare against.
    session.install(
        *_group("test"), "aws-lambda-powertools", "aws-secretsmanager-caching"
    )
    for script in sorted(ROOT.glob("benchmarks/bench_*.py")):
        session.run("python", str(script.relative_to(ROOT)))
