"""secretkit's AWS backends: Secrets Manager (``aws``) and SSM (``aws-ssm``).

Nothing here imports boto: the SDK loads on a backend's first call.
"""

from __future__ import annotations

__all__ = ()
