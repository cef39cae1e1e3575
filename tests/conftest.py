"""Shared test setup: every async test runs under asyncio and trio."""

from __future__ import annotations

import inspect

import pytest

pytest_plugins = ["pytester"]


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    """Run each async test once under asyncio and once under trio."""
    return str(request.param)


@pytest.hookimpl(tryfirst=True)
def pytest_pycollect_makeitem(
    collector: pytest.Collector, name: str, obj: object
) -> None:
    """Mark every coroutine test for the anyio plugin, before it is parametrized."""
    if inspect.iscoroutinefunction(obj) and name.startswith("test"):
        pytest.mark.anyio(obj)
