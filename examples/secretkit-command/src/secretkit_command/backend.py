"""The ``command`` backend: each fetch runs a command and returns what it printed.

The command is an argument list, never a shell line: ``{name}`` in any argument
after the program is replaced by the secret name, so ``["pass", "show", "{name}"]``
reads ``db/main`` by running ``pass show db/main``. A name that starts with ``-``
is refused, so a reference can never pass as an option to the command.

How an exit is read, kept simple so any tool fits:

==========================  =============================================
the command...              the fetch...
==========================  =============================================
exits 0                     returns its standard output (one trailing
                            newline stripped; bytes when not UTF-8)
exits 1                     raises ``SecretNotFound``
exits otherwise, or dies    raises ``BackendError``
outlives ``timeout``        is killed and raises ``BackendUnavailable``
cannot be started           raises ``ConfigurationError``
==========================  =============================================

Errors name the program, the secret and the exit code. They never hold the
command's standard output, which is the value, nor its standard error, where some
tools echo what they read.
"""

from __future__ import annotations

__all__ = ("PLACEHOLDER", "CommandBackend")

import os
import subprocess
from typing import TYPE_CHECKING, Final, final

import anyio

from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import (
    BackendError,
    BackendUnavailable,
    ConfigurationError,
    InvalidReference,
    SecretNotFound,
)

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from secretkit.core.secret import SecretRef

PLACEHOLDER: Final = "{name}"
_NOT_FOUND: Final = 1


@final
class CommandBackend(Backend):
    """Read each secret by running a command; its standard output is the value.

    The command gets no standard input and the client's environment plus ``env``.
    Versions and stages cannot be selected: a reference with one raises
    ``NotSupported``.

    :param argv: the program and its arguments; ``{name}`` in the arguments stands
        for the secret name
    :param timeout: seconds the command may run before it is killed
    :param strip: remove one trailing newline (``\\n`` or ``\\r\\n``) from the output
    :param env: environment variables to add for the command
    :param name: the instance name this backend is configured under
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        timeout: float = 10.0,
        strip: bool = True,
        env: Mapping[str, str] | None = None,
        name: str = "command",
    ) -> None:
        self.argv = tuple(argv)
        self.timeout = timeout
        self.strip = strip
        self.env = dict(env or {})
        self.name = name

    def __repr__(self) -> str:
        return f"CommandBackend({self.name!r}, program={self._program!r})"

    @property
    def _program(self) -> str:
        return os.path.basename(self.argv[0])

    def command(self, name: str) -> list[str]:
        """Return the argument list that reads the secret ``name``.

        :raises InvalidReference: ``name`` starts with ``-``
        """
        if name.startswith("-"):
            raise InvalidReference(
                f"secret name {name!r} starts with '-'; the command backend refuses "
                "it so that it cannot pass as an option",
                position=0,
                ref=name,
                backend=self.name,
            )
        program, *args = self.argv
        return [program, *(arg.replace(PLACEHOLDER, name) for arg in args)]

    async def fetch(self, ref: SecretRef) -> SecretValue:
        """Run the command for ``ref.name`` and return its standard output.

        :raises SecretNotFound: the command exited with 1
        :raises BackendError: it exited with another non-zero code, or was killed
        :raises BackendUnavailable: it ran longer than ``timeout`` seconds
        :raises ConfigurationError: the program is missing or cannot be run
        :raises InvalidReference: the name starts with ``-``
        :raises NotSupported: the reference asks for a version or a stage
        """
        if ref.version is not None or ref.stage is not None:
            raise self._unsupported("versions and stages")
        argv = self.command(ref.name)
        env = {**os.environ, **self.env} if self.env else None
        try:
            with anyio.fail_after(self.timeout):
                done = await anyio.run_process(
                    argv, stdin=subprocess.DEVNULL, env=env, check=False
                )
        except TimeoutError as exc:  # before OSError: TimeoutError is one
            raise BackendUnavailable(
                f"{self._program} ran longer than {self.timeout:g} s reading "
                f"{ref.name!r}; raise backends.{self.name}.timeout if it is slow",
                ref=ref.name,
                backend=self.name,
            ) from exc
        except OSError as exc:
            raise ConfigurationError(
                f"backends.{self.name}.argv: cannot run {self.argv[0]!r} "
                f"({exc.strerror or type(exc).__name__}); check that it is "
                "installed and on PATH",
                key=f"backends.{self.name}.argv",
                ref=ref.name,
                backend=self.name,
            ) from exc
        code = done.returncode
        if code == _NOT_FOUND:
            raise SecretNotFound(
                f"no secret {ref.name!r} in backend {self.name!r}: "
                f"{self._program} exited with {code}",
                ref=ref.name,
                backend=self.name,
            )
        if code != 0:
            how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
            raise BackendError(
                f"{self._program} {how} reading {ref.name!r}; "
                "run it by hand to see why",
                ref=ref.name,
                backend=self.name,
            )
        return SecretValue(value=self._decode(done.stdout))

    def _decode(self, output: bytes) -> str | bytes:
        if self.strip:
            if output.endswith(b"\r\n"):
                output = output[:-2]
            elif output.endswith(b"\n"):
                output = output[:-1]
        try:
            return output.decode()
        except UnicodeDecodeError:
            return output
