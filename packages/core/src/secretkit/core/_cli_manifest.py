"""Fetching every secret a manifest names, for verify, run and export (issue 8)."""

from __future__ import annotations

__all__ = ()
