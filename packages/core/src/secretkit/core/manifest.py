"""Manifests: the secrets a deployment needs (being written for issue 8)."""

from __future__ import annotations

__all__ = ()
