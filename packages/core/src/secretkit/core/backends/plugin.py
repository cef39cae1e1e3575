"""The core's own plugin: registers the ``env``, ``file`` and ``memory`` backends.

It is the target of the core's ``builtin`` entry point, so the embedded backends
load exactly like a third party's.
"""

from __future__ import annotations

__all__ = ("secretkit_register_backends",)

from typing import TYPE_CHECKING

from secretkit.core.backend import BackendFactory
from secretkit.core.errors import NotSupported
from secretkit.core.hookspecs import hookimpl

from ._formats import FORMATS
from .env import EnvBackend
from .file import FileBackend
from .memory import MemoryBackend

if TYPE_CHECKING:
    from secretkit.core.backend import Backend
    from secretkit.core.options import Options


@hookimpl
def secretkit_register_backends() -> list[BackendFactory]:
    """Return the factories of the embedded backends.

    :return: ``env``, ``file`` and ``memory``
    """
    return [
        BackendFactory(
            type="env",
            create=_create_env,
            description="environment variables: mlflow/auth reads MLFLOW_AUTH",
        ),
        BackendFactory(
            type="file",
            create=_create_file,
            description="a JSON, TOML, YAML or dotenv file, or a directory of files",
        ),
        BackendFactory(
            type="memory",
            create=_create_memory,
            description="an in-process store with versions, for tests and examples",
        ),
    ]


def _create_env(options: Options) -> Backend:
    backend = EnvBackend(options.get_str("prefix", ""), name=options.instance)
    options.done()
    return backend


def _create_file(options: Options) -> Backend:
    path = options.get_path("path")
    fmt = options.get_choice("format", FORMATS, "auto")
    interval = options.get_float("watch_interval", 1.0)
    options.done()
    if not interval > 0:
        raise options.error("watch_interval", "must be a positive number of seconds")
    return FileBackend(path, format=fmt, watch_interval=interval, name=options.instance)


def _create_memory(options: Options) -> Backend:
    secrets = options.get_mapping("secrets", {})
    options.done()
    try:
        return MemoryBackend(secrets, name=options.instance)
    except NotSupported as exc:
        raise options.error("secrets", exc.message) from None
