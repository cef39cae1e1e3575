"""The plugin path end to end: a third-party distribution, installed for real.

``examples/secretkit-command`` is pip-installed into the running environment, then
found through its entry point like any plugin, used through ``SecretClient`` and
listed by ``secretkit plugins``.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import shutil
import subprocess
import sys
import traceback
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from secretkit.core.client import SecretClient
from secretkit.core.errors import (
    BackendError,
    BackendUnavailable,
    ConfigurationError,
    InvalidReference,
    NotSupported,
    SecretkitError,
    SecretNotFound,
)
from secretkit.core.plugins import Registry

if TYPE_CHECKING:
    from collections.abc import Iterator

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "secretkit-command"
DIST = "secretkit-command"
CANARY = "hunter2-canary-c0mmand"


def _installer() -> list[str]:
    """The command that installs into this interpreter's environment."""
    if importlib.util.find_spec("pip") is not None:
        return [sys.executable, "-m", "pip"]
    uv = shutil.which("uv")
    if uv is None:
        pytest.fail("neither pip nor uv is available to install the example plugin")
    return [uv, "pip"]


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.fail(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")


@pytest.fixture(scope="module")
def installed() -> Iterator[None]:
    """Install the example distribution for this module; remove it afterwards.

    Module-scoped so that later test modules see the installed plugins they expect.
    """
    try:
        distribution(DIST)
        was_installed = True
    except PackageNotFoundError:
        was_installed = False
    tool = _installer()
    if tool[1] == "-m":  # pip
        install = [*tool, "install", "--quiet", "--disable-pip-version-check"]
        install += ["--no-deps", "--force-reinstall", str(EXAMPLE)]
        uninstall = [*tool, "uninstall", "--yes", "--quiet", DIST]
    else:  # uv: rebuild from the source, not a cached wheel
        target = ["--python", sys.executable]
        install = [*tool, "install", *target, "--quiet", "--no-deps"]
        install += ["--reinstall-package", DIST, "--refresh-package", DIST]
        install += [str(EXAMPLE)]
        uninstall = [*tool, "uninstall", *target, "--quiet", DIST]
    _run(install)
    importlib.invalidate_caches()
    yield
    if not was_installed:
        _run(uninstall)
        importlib.invalidate_caches()


@pytest.fixture
def plugins(installed: None) -> Registry:
    """A registry freshly loaded from the installed entry points."""
    return Registry.load()


def python(code: str, *args: str) -> list[str]:
    """An argv running ``code`` in this interpreter; the name arrives as argv[1]."""
    return [sys.executable, "-c", code, *args]


def command_client(
    plugins: Registry, argv: list[str], **options: object
) -> SecretClient:
    """A client whose ``cmd`` backend runs ``argv``."""
    spec = {"type": "command", "argv": argv, **options}
    return SecretClient(default="cmd", plugins=plugins, backends={"cmd": spec})


def rendered(exc: BaseException) -> str:
    """Everything a traceback would show of ``exc`` and its chain."""
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.args)


class TestDiscovery:
    """The installed distribution is found like any plugin."""

    def test_registry_lists_the_plugin(self, plugins: Registry) -> None:
        """A fresh Registry.load() lists ``command`` from secretkit-command."""
        info = next(info for info in plugins.plugins if info.name == "command")
        assert info.distribution.split()[0] == DIST
        assert info.backends == ("command",)
        assert info.error is None
        assert "command" in plugins.types()

    def test_cli_lists_the_plugin(self, installed: None) -> None:
        """``secretkit plugins``, in a fresh process, lists the ``command`` plugin."""
        code = (
            "from secretkit.core.cli import main; raise SystemExit(main(['plugins']))"
        )
        done = subprocess.run(
            python(code), capture_output=True, text=True, check=False, timeout=60
        )
        assert done.returncode == 0, done.stderr
        assert re.search(r"(?<![\w-])command(?![\w-])", done.stdout), done.stdout
        assert DIST in done.stdout


class TestFetch:
    """Reading secrets through the command backend."""

    async def test_get_returns_output_and_caches(self, plugins: Registry) -> None:
        """The command's output is the value; a second get is a cache hit."""
        argv = python("import sys; print('value-for-' + sys.argv[1])", "{name}")
        async with command_client(plugins, argv) as client:
            first = await client.get("cmd://db/main")
            second = await client.get("cmd://db/main")
        assert first.reveal() == "value-for-db/main"
        assert second is first
        assert client.stats().backend_calls == 1

    async def test_name_fills_part_of_an_argument(self, plugins: Registry) -> None:
        """``{name}`` is replaced inside a longer argument, once per occurrence."""
        argv = python("import sys; print(sys.argv[1])", "secret/{name}#{name}")
        async with command_client(plugins, argv) as client:
            assert await client.get_value("api/x") == "secret/api/x#api/x"

    async def test_output_bytes_and_strip(self, plugins: Registry) -> None:
        """Output that is not UTF-8 stays bytes; ``strip=false`` keeps the newline."""
        code = "import sys; sys.stdout.buffer.write(b'\\xff\\xfe\\n')"
        async with command_client(plugins, python(code, "{name}")) as client:
            assert await client.get_value("bin") == b"\xff\xfe"
        code = "print('line'); print()"
        argv = python(code, "{name}")
        async with command_client(plugins, argv, strip=False) as client:
            assert await client.get_value("text") == "line\n\n"
        async with command_client(plugins, argv) as client:
            assert await client.get_value("text") == "line\n"

    async def test_env_is_added(self, plugins: Registry) -> None:
        """Variables from ``env`` reach the command, next to the inherited ones."""
        code = "import os; print(os.environ['SK_EXTRA'], 'PATH' in os.environ)"
        argv = python(code, "{name}")
        async with command_client(plugins, argv, env={"SK_EXTRA": "x"}) as client:
            assert await client.get_value("any") == "x True"

    async def test_exit_1_is_not_found(self, plugins: Registry) -> None:
        """Exit code 1 raises SecretNotFound, naming the secret and the code."""
        argv = python("raise SystemExit(1)", "{name}")
        async with command_client(plugins, argv) as client:
            with pytest.raises(SecretNotFound) as caught:
                await client.get("db/missing")
        assert "'db/missing'" in str(caught.value)
        assert "exited with 1" in str(caught.value)

    async def test_other_exit_is_backend_error(self, plugins: Registry) -> None:
        """Another non-zero exit raises BackendError, not SecretNotFound."""
        argv = python("raise SystemExit(3)", "{name}")
        async with command_client(plugins, argv) as client:
            with pytest.raises(BackendError) as caught:
                await client.get("db/main")
        assert type(caught.value) is BackendError
        assert "exited with 3" in str(caught.value)

    @pytest.mark.parametrize("exit_code", [0, 1, 2])
    async def test_output_never_in_errors(
        self, plugins: Registry, exit_code: int
    ) -> None:
        """What the command prints, on either stream, shows in no error."""
        script = (
            "import sys; v = sys.argv[1]; print(v); print(v, file=sys.stderr); "
            "raise SystemExit(int(sys.argv[2]))"
        )
        argv = python(script, CANARY, str(exit_code), "{name}")
        async with command_client(plugins, argv) as client:
            if exit_code == 0:  # the canary is the value: a field of it fails to decode
                with pytest.raises(SecretkitError) as caught:
                    await client.get("db/main#password")
            else:
                with pytest.raises(BackendError) as caught:
                    await client.get("db/main")
        assert CANARY not in rendered(caught.value)

    async def test_dash_name_refused(self, plugins: Registry, tmp_path: Path) -> None:
        """A name starting with '-' is refused before any command runs."""
        marker = tmp_path / "ran"
        argv = python("import sys; open(sys.argv[1], 'w').close()", str(marker))
        argv.append("{name}")
        async with command_client(plugins, argv) as client:
            with pytest.raises(InvalidReference, match="starts with '-'"):
                await client.get("--version")
        assert not marker.exists()

    async def test_versions_not_supported(self, plugins: Registry) -> None:
        """A reference asking for a version raises NotSupported."""
        argv = python("print('v')", "{name}")
        async with command_client(plugins, argv) as client:
            with pytest.raises(NotSupported):
                await client.get("db/main?version=2")

    async def test_timeout_is_unavailable(self, plugins: Registry) -> None:
        """A command outliving ``timeout`` is killed and raises BackendUnavailable."""
        argv = python("import time; time.sleep(60)", "{name}")
        async with command_client(plugins, argv, timeout=0.2) as client:
            with pytest.raises(BackendUnavailable, match=r"longer than 0\.2 s"):
                await client.get("slow")

    async def test_missing_program_is_configuration_error(
        self, plugins: Registry, tmp_path: Path
    ) -> None:
        """A program that does not exist raises ConfigurationError naming argv."""
        argv = [str(tmp_path / "no-such-program"), "{name}"]
        async with command_client(plugins, argv) as client:
            with pytest.raises(ConfigurationError) as caught:
                await client.get("db/main")
        assert caught.value.key == "backends.cmd.argv"


class TestOptions:
    """Bad options fail when the client is built."""

    @pytest.mark.parametrize(
        ("options", "problem"),
        [
            ({"argv": []}, "needs a program"),
            ({"argv": ["pass", "show"]}, "no argument holds"),
            ({"argv": ["{name}"]}, "the program itself"),
            ({"argv": "pass show {name}"}, "expected a list of text"),
            ({"argv": ["pass", "{name}"], "timeout": 0}, "positive"),
            ({"argv": ["pass", "{name}"], "env": {"A": 1}}, "expected text"),
            ({"argv": ["pass", "{name}"], "shell": True}, "unknown option"),
        ],
    )
    def test_refused(
        self, plugins: Registry, options: dict[str, object], problem: str
    ) -> None:
        """Each malformed option raises ConfigurationError saying what is wrong."""
        with pytest.raises(ConfigurationError, match=problem):
            SecretClient(
                plugins=plugins, backends={"cmd": {"type": "command", **options}}
            )
