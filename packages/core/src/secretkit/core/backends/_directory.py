"""A directory of secrets, one file each, as Kubernetes mounts a Secret volume.

Kubernetes writes each version into a timestamped directory (``..2024_01_01_...``),
points the ``..data`` link at it, and links every key through it
(``password -> ..data/password``). An update renames a new ``..data`` over the old
one, atomically; the old directory is then removed. So the version of an entry is
where ``..data`` points, and a read that straddles a swap is retried. Every
function here blocks.
"""

from __future__ import annotations

__all__ = ("DATA_LINK", "data_version", "entry", "names", "read")

import os
from typing import TYPE_CHECKING, Final

from secretkit.core.errors import BackendUnavailable, InvalidReference, SecretNotFound

if TYPE_CHECKING:
    from pathlib import Path

DATA_LINK: Final = "..data"
_SWAP_RETRIES: Final = 5


def data_version(root: Path) -> str | None:
    """Return where ``root/..data`` points, or ``None`` outside a Kubernetes mount."""
    try:
        return os.readlink(root / DATA_LINK)
    except OSError:
        return None


def entry(root: Path, name: str, *, backend: str) -> Path:
    """Return the file that holds ``name`` under ``root``.

    :raises InvalidReference: the name has a leading ``/``, or an empty, ``.`` or
        ``..``-prefixed part (``../x``, and Kubernetes' own ``..data``)
    """
    if any(part in ("", ".") or part.startswith("..") for part in name.split("/")):
        raise InvalidReference(
            f"secret name {name!r} is not a path inside {root}: no leading '/', "
            "and no empty, '.' or '..'-prefixed parts",
            ref=name,
            backend=backend,
        )
    return root / name


def read(root: Path, name: str, *, backend: str) -> tuple[str | bytes, str]:
    """Read one entry, consistent with the version it reports.

    :return: the value (text when it is UTF-8, else bytes) and its version: the
        ``..data`` target, else the file's ``mtime_ns``
    :raises SecretNotFound: no such file
    :raises BackendUnavailable: the directory kept changing while being read
    :raises OSError: any other failure to read
    """
    path = entry(root, name, backend=backend)
    for _ in range(_SWAP_RETRIES):
        before = data_version(root)
        try:
            with path.open("rb") as file:
                mtime_ns = os.fstat(file.fileno()).st_mtime_ns
                data = file.read()
        except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
            if data_version(root) != before:
                continue  # ..data was swapped under us; the old dir may be gone
            raise SecretNotFound(
                f"secret {name!r} not found: no file {path}",
                ref=name,
                backend=backend,
            ) from None
        if data_version(root) == before:
            version = before if before is not None else str(mtime_ns)
            try:
                return data.decode("utf-8"), version
            except UnicodeDecodeError:
                return data, version  # binary secrets stay bytes
    raise BackendUnavailable(
        f"{root} kept changing while reading {name!r}; try again",
        ref=name,
        backend=backend,
    )


def names(root: Path) -> list[str]:
    """Return, sorted, the relative paths of the files under ``root``.

    Entries starting with ``..`` (Kubernetes' own) are skipped; symlinks are
    followed, each directory once.

    :raises OSError: ``root`` cannot be read
    """
    found: list[str] = []
    seen: set[tuple[int, int]] = set()

    def visit(directory: str, prefix: str) -> None:
        info = os.stat(directory)
        if (info.st_dev, info.st_ino) in seen:  # a symlink loop
            return
        seen.add((info.st_dev, info.st_ino))
        with os.scandir(directory) as items:
            for item in items:
                if item.name.startswith(".."):
                    continue
                if item.is_dir():
                    visit(item.path, f"{prefix}{item.name}/")
                elif item.is_file():
                    found.append(f"{prefix}{item.name}")

    visit(str(root), "")
    return sorted(found)
