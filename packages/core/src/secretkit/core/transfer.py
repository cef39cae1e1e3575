"""Copying secrets between backends: plans and their application (issue 8)."""

from __future__ import annotations

__all__ = ()
