"""The ``file`` backend: secrets in a JSON, TOML, YAML or dotenv file, or a directory.

In a structured file, ``mlflow/auth`` is ``data["mlflow"]["auth"]`` unless a
top-level key is literally ``mlflow/auth``; tables and lists come back as compact
JSON text, other scalars as their JSON text. A dotenv file is looked up by exact
key, then by the environment-style key (``MLFLOW_AUTH``). A directory holds one
file per secret, as Kubernetes mounts a Secret: ``db/password`` is
``<dir>/db/password``, text when it is UTF-8, else bytes.

A file is re-parsed only when its stat (mtime, size, inode) changes, and its
version is built from that stat, never from the content (a hash would fingerprint
the secrets). In a directory, the version is where Kubernetes' ``..data`` link
points, else the entry's mtime. All I/O runs in worker threads.
"""

from __future__ import annotations

__all__ = ("FileBackend",)

import logging
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, final

import anyio

from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import (
    AccessDenied,
    BackendUnavailable,
    ConfigurationError,
    DecodeError,
    SecretNotFound,
)

from . import _directory, _formats

if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, AsyncIterator, Iterator

    from secretkit.core.secret import SecretRef

_log = logging.getLogger(__name__)

_Stamp = tuple[int, int, int]


def _stamp(info: os.stat_result) -> _Stamp:
    return (info.st_mtime_ns, info.st_size, info.st_ino)


@final
class _Snapshot:
    """One parse of a file. Its repr shows no values."""

    __slots__ = ("format", "stamp", "table", "version")

    def __init__(
        self, info: os.stat_result, fmt: str, table: dict[str, object]
    ) -> None:
        self.stamp = _stamp(info)
        self.version = "-".join(map(str, self.stamp))
        self.format = fmt
        self.table = table

    def __repr__(self) -> str:
        return f"_Snapshot({self.format}, version={self.version})"


@final
class FileBackend(Backend):
    """Read-only secrets from one file or a directory of files.

    Nothing is read until the first call, so building one is cheap.

    :param path: the file, or the directory (Kubernetes Secret volume)
    :param format: ``auto`` (a directory, else by extension: ``.json``, ``.toml``,
        ``.yaml``/``.yml``, ``.env``), ``json``, ``toml``, ``yaml``, ``dotenv``
        or ``dir``
    :param watch_interval: seconds between two polls in :meth:`watch`
    :param name: the instance name this backend is configured under
    :raises ConfigurationError: an unknown format or a non-positive interval
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        format: str = "auto",
        watch_interval: float = 1.0,
        name: str = "file",
    ) -> None:
        if format not in _formats.FORMATS:
            raise ConfigurationError(
                f"unknown file format {format!r}; use one of "
                + ", ".join(_formats.FORMATS),
                key="format",
                backend=name,
            )
        if not watch_interval > 0:
            raise ConfigurationError(
                "watch_interval must be a positive number of seconds",
                key="watch_interval",
                backend=name,
            )
        self.name = name
        self._path = Path(path).absolute()
        self._format = format
        self._watch_interval = float(watch_interval)
        self._snapshot: _Snapshot | None = None

    def __repr__(self) -> str:
        path = str(self._path)
        return f"FileBackend({self.name!r}, {path!r}, format={self._format!r})"

    async def fetch(self, ref: SecretRef) -> SecretValue:
        """Return the secret ``ref.name`` addresses, reloading the file if it changed.

        ``?version=`` must name the current version: only that one is kept.

        :param ref: the secret reference
        :return: the value, with a version from the file's stat or ``..data``
        :raises SecretNotFound: no such name, or another version or any stage
        :raises InvalidReference: in a directory, a name with empty, ``.`` or
            ``..`` parts (a leading ``/``, ``../``, ``..data``)
        :raises BackendUnavailable: the file or directory does not exist (yet)
        :raises AccessDenied: the file cannot be read for lack of permission
        :raises DecodeError: the file is malformed; names line and column only
        :raises ConfigurationError: the format cannot be told from the name
        """
        return await self.run_blocking(self._read, ref)

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        """Yield, sorted, the names under ``prefix``: nested tables joined by ``/``.

        In a directory, the relative paths of its files, skipping Kubernetes'
        ``..``-entries.

        :param prefix: a name prefix; empty for all
        :raises BackendUnavailable: the file or directory does not exist
        :raises DecodeError: the file is malformed
        """
        for name in await self.run_blocking(self._names):
            if name.startswith(prefix):
                yield name

    async def check(self) -> str:
        """Read and parse the file (or walk the directory) and describe it.

        :return: e.g. ``file /etc/app/secrets.json (json, 4 secrets)``
        :raises BackendError: it cannot be read
        :raises DecodeError: it is malformed
        """
        fmt, count = await self.run_blocking(self._census)
        kind = "directory" if fmt == "dir" else "file"
        return f"{kind} {self._path} ({fmt}, {count} secrets)"

    async def watch(self, ref: SecretRef) -> AsyncGenerator[None]:
        """Yield whenever the file, or in a directory ``..data`` or the entry, changes.

        Polls ``stat`` every ``watch_interval`` seconds from the first ``anext``;
        a file that disappears or appears counts as a change.

        :param ref: the secret to watch
        :raises InvalidReference: in a directory, a name that escapes it
        """
        last = await self.run_blocking(self._probe, ref.name)
        while True:
            await anyio.sleep(self._watch_interval)
            current = await self.run_blocking(self._probe, ref.name)
            if current != last:
                last = current
                yield None

    # Everything below blocks: it runs in the core's worker threads.

    def _mode(self) -> str:
        if self._format != "auto":
            return self._format
        by_name = _formats.format_of(self._path)
        if by_name is not None:
            return by_name
        with self._os_errors(self._path):
            info = os.stat(self._path)
        if stat.S_ISDIR(info.st_mode):
            return "dir"
        raise ConfigurationError(
            f"cannot tell the format of {self._path} from its name; set format to "
            "json, toml, yaml or dotenv",
            key="format",
            backend=self.name,
        )

    def _read(self, ref: SecretRef) -> SecretValue:
        if self._mode() == "dir":
            return self._read_entry(ref)
        return self._read_table(ref)

    def _census(self) -> tuple[str, int]:
        return self._mode(), len(self._names())

    def _load(self) -> _Snapshot:
        fmt = self._mode()
        current = self._snapshot
        with self._os_errors(self._path):
            info = os.stat(self._path)
            if current and current.format == fmt and current.stamp == _stamp(info):
                return current
            info, table = _formats.load(self._path, fmt, backend=self.name)
        self._snapshot = _Snapshot(info, fmt, table)
        _log.debug("loaded %s (%s)", self._path, fmt)
        return self._snapshot

    def _read_table(self, ref: SecretRef) -> SecretValue:
        snapshot = self._load()
        self._check_version(ref, snapshot.version)
        node = _formats.find(snapshot.table, ref.name, snapshot.format)
        if node is _formats.MISSING:
            raise SecretNotFound(
                f"secret {ref.name!r} not found in {self._path}",
                ref=ref.name,
                backend=self.name,
            )
        try:
            value = _formats.to_value(node)
        except (TypeError, ValueError, RecursionError):
            raise self._unjsonable(ref.name) from None
        return SecretValue(value=value, version=snapshot.version)

    def _read_entry(self, ref: SecretRef) -> SecretValue:
        with self._os_errors(self._path, ref.name):
            os.stat(self._path)  # a missing directory is an outage, not a secret
            value, version = _directory.read(self._path, ref.name, backend=self.name)
        self._check_version(ref, version)
        return SecretValue(value=value, version=version)

    def _names(self) -> tuple[str, ...]:
        if self._mode() != "dir":
            return tuple(_formats.names(self._load().table))
        with self._os_errors(self._path):
            return tuple(_directory.names(self._path))

    def _probe(self, name: str) -> object:
        try:
            info = os.stat(self._path)
            if stat.S_ISDIR(info.st_mode) and self._format in ("auto", "dir"):
                version = _directory.data_version(self._path)
                if version is not None:
                    return version
                info = os.stat(_directory.entry(self._path, name, backend=self.name))
        except OSError:  # absent, perhaps mid-swap: a state of its own
            return None
        return _stamp(info)

    def _check_version(self, ref: SecretRef, version: str) -> None:
        if ref.stage is not None or (
            ref.version is not None and ref.version != version
        ):
            raise SecretNotFound(
                f"secret {ref.name!r} in {self._path} has only its current version "
                f"({version}) and no stages",
                ref=ref.name,
                backend=self.name,
            )

    def _unjsonable(self, name: str) -> DecodeError:
        return DecodeError(
            f"secret {name!r} in {self._path} holds a value that is not text and "
            "cannot be written as JSON",
            ref=name,
            backend=self.name,
        )

    @contextmanager
    def _os_errors(self, path: Path, ref: str | None = None) -> Iterator[None]:
        try:
            yield
        except PermissionError as exc:
            raise AccessDenied(
                f"cannot read {path}: permission denied", ref=ref, backend=self.name
            ) from exc
        except FileNotFoundError as exc:
            raise BackendUnavailable(
                f"{path} does not exist; create it or fix the path",
                ref=ref,
                backend=self.name,
            ) from exc
        except IsADirectoryError as exc:
            raise ConfigurationError(
                f"{path} is a directory; set format to dir or auto",
                key="format",
                backend=self.name,
            ) from exc
        except OSError as exc:
            raise BackendUnavailable(
                f"cannot read {path}: {exc.strerror}", ref=ref, backend=self.name
            ) from exc
