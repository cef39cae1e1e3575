"""Which mount a secret's name is in, asked of the server once per mount.

With the ``mount`` option, names are paths inside it. Otherwise a name starts
with its mount (``secret/app/db``, ``team/kv/app/db``): the first name under a
mount not seen yet is looked up (``sys/internal/ui/mounts/<name>``), and the
mount is remembered, so later names under it cost nothing. ``kv_version`` other
than ``auto`` overrides what the server says.
"""

from __future__ import annotations

__all__ = ("Mounts",)

from typing import TYPE_CHECKING, final

from secretkit.core.errors import NotSupported

from ._kv import Mount, forced

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from .config import VaultSettings


@final
class Mounts:
    """The mounts one backend has found, by path; plain bookkeeping.

    :param settings: the ``mount`` and ``kv_version`` options
    :param detect: asks the server which mount a path is in (``None``: it
        does not say, or may not be asked)
    :param backend: the backend instance name, for errors
    """

    __slots__ = ("_backend", "_detect", "_found", "_settings")

    def __init__(
        self,
        settings: VaultSettings,
        detect: Callable[[str], Awaitable[Mount | None]],
        *,
        backend: str,
    ) -> None:
        self._settings = settings
        self._detect = detect
        self._backend = backend
        self._found: dict[str, Mount] = {}

    async def locate(self, name: str) -> tuple[Mount | None, str]:
        """The mount ``name`` is in and the path inside it (``None``: not KV)."""
        configured = self._settings.mount
        if configured is not None:
            mount = self._found.get(configured)
            if mount is None:
                mount = await self._detect(configured) or Mount(
                    path=configured, type="kv", kv_version=2
                )
                self._found[configured] = mount = forced(mount, self._settings)
            return mount, name.strip("/")
        for path, mount in self._found.items():
            if name.startswith(f"{path}/"):
                return mount, name[len(path) + 1 :]
        found = await self._detect(name)
        if found is None:
            return None, name
        self._found[found.path] = found = forced(found, self._settings)
        if found.type != "kv":
            return None, name
        return found, name[len(found.path) + 1 :]

    async def kv(self, name: str) -> tuple[Mount, str]:
        """The KV mount ``name`` is in and the path inside it.

        :raises NotSupported: ``name`` is not in a KV mount
        """
        mount, path = await self.locate(name)
        if mount is None or mount.kv_version not in (1, 2):
            raise NotSupported(
                f"{name!r} is not in a KV mount: only KV secrets can be written, "
                "listed or described (set the mount option or name the mount)",
                ref=name or None,
                backend=self._backend,
            )
        return mount, path
