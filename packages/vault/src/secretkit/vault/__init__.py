"""secretkit's Vault backend: HashiCorp Vault and OpenBao (``vault``, ``openbao``).

Nothing here imports hvac: the SDK loads on a backend's first call.
"""

from __future__ import annotations

__all__ = ()
