"""Fixtures for the core's tests."""

from __future__ import annotations

import pytest

from secretkit.core.testing import FakeClock

from .fakes import CountingBackend


@pytest.fixture
def counting() -> CountingBackend:
    """A fresh counting backend."""
    return CountingBackend()


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the test says."""
    return FakeClock()
