"""Secret names as Key Vault allows them: letters, digits and dashes, 1 to 127.

The ``dash`` rule (the default) turns every run of other characters into one dash
and drops dashes at either end, so ``mlflow/auth`` is ``mlflow-auth`` and
``/app/db_password`` is ``app-db-password``. The ``strict`` rule refuses such names.
Entries of the ``names`` table win over either rule, and ``list`` yields them back
under their table name.
"""

from __future__ import annotations

__all__ = ("NAME_RULES", "NameMap")

import re
from typing import TYPE_CHECKING, Final, final

from secretkit.core.errors import InvalidReference

if TYPE_CHECKING:
    from collections.abc import Mapping

NAME_RULES: Final = ("dash", "strict")
_OTHER: Final = re.compile(r"[^0-9A-Za-z-]+")
_VALID: Final = re.compile(r"[0-9A-Za-z-]{1,127}")


@final
class NameMap:
    """Our names to Key Vault's and back.

    :param rule: ``dash`` or ``strict``
    :param names: explicit names (ours to Key Vault's), checked first
    :param backend: the backend instance name, for errors
    """

    __slots__ = ("_back", "backend", "names", "rule")

    def __init__(
        self,
        rule: str = "dash",
        names: Mapping[str, str] | None = None,
        *,
        backend: str,
    ) -> None:
        self.rule = rule
        self.names = dict(names or {})
        self.backend = backend
        self._back = {vault: ours for ours, vault in self.names.items()}

    def to_vault(self, name: str) -> str:
        """The Key Vault name for ``name``.

        :raises InvalidReference: no valid Key Vault name results
        """
        vault = self.names.get(name)
        if vault is None:
            vault = name if self.rule == "strict" else _OTHER.sub("-", name).strip("-")
        if not _VALID.fullmatch(vault):
            raise InvalidReference(
                f"{name!r} is not a Key Vault secret name (1 to 127 letters, digits "
                f"and dashes; name_map={self.rule!r})",
                ref=name,
                backend=self.backend,
            )
        return vault

    def prefix(self, prefix: str) -> str:
        """A name prefix as Key Vault names start (a trailing separator kept)."""
        if self.rule == "strict":
            return prefix
        return _OTHER.sub("-", prefix).lstrip("-")

    def from_vault(self, vault: str) -> str:
        """Our name for a Key Vault name: its ``names`` entry, else itself."""
        return self._back.get(vault, vault)
