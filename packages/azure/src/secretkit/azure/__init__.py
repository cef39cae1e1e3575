"""secretkit's Azure Key Vault backend (``azure``, alias ``azure-key-vault``).

Nothing here imports the Azure SDK: it loads on a backend's first call.
"""

from __future__ import annotations

__all__ = ()
