"""The ``secretkit`` command: get, ls, info, doctor, plugins, exit codes, no leaks."""

from __future__ import annotations

import argparse
import base64
import json
import os
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.lowlevel
import pytest

from secretkit.core import hookimpl, plugins
from secretkit.core.backend import Backend, BackendFactory
from secretkit.core.cli import main
from secretkit.core.commands import Command
from secretkit.core.errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    CredentialError,
    DecodeError,
    NotSupported,
    SecretNotFound,
)
from secretkit.core.plugins import PluginInfo, Registry

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from secretkit.core.backend import SecretValue
    from secretkit.core.options import Options
    from secretkit.core.secret import SecretRef

CANARY = "CANARY-c1i-2b7e"
TOKEN = {"token": CANARY, "user": "ci"}

# What the ``failing`` test backend raises for each name, and the exit code for it.
RAISES: dict[str, tuple[type[BackendError | NotSupported | DecodeError], int]] = {
    "missing": (SecretNotFound, 3),
    "denied": (AccessDenied, 4),
    "nocreds": (CredentialError, 4),
    "down": (BackendUnavailable, 5),
    "broken": (BackendError, 1),
    "readonly": (NotSupported, 2),
    "garbled": (DecodeError, 2),
}


class FailingBackend(Backend):
    """Raises the error its secret's name asks for; cannot check; lists by crashing."""

    async def fetch(self, ref: SecretRef) -> SecretValue:
        cls, _ = RAISES[ref.name]
        # The cause holds the canary, as an SDK's message might quote a value.
        raise cls(f"{ref.name} went wrong", ref=ref.name, backend=self.name) from (
            RuntimeError(CANARY)
        )

    def list(self, prefix: str = "") -> AsyncIterator[str]:
        if prefix == "interrupt":
            raise KeyboardInterrupt
        raise RuntimeError(f"a bug quoting {CANARY}")


class HangingBackend(Backend):
    """Never answers a check."""

    async def fetch(self, ref: SecretRef) -> SecretValue:
        raise NotImplementedError

    async def check(self) -> str:
        await anyio.sleep_forever()
        raise AssertionError("unreachable")


def _create_failing(options: Options) -> Backend:
    options.get_str("api_token", "")  # accepted, so `info` has a sensitive option
    options.done()
    return FailingBackend()


def _create_hanging(options: Options) -> Backend:
    options.done()
    return HangingBackend()


class CliTestPlugin:
    """Registers the ``failing`` and ``hanging`` backend types."""

    @hookimpl
    def secretkit_register_backends(self) -> list[BackendFactory]:
        return [
            BackendFactory(type="failing", create=_create_failing),
            BackendFactory(type="hanging", create=_create_hanging),
        ]

    @hookimpl
    def secretkit_register_commands(self) -> list[Command]:
        return [
            Command(name="echo", help="echo a word", configure=_configure_echo),
            Command(
                name="aecho", help="echo a word, async", configure=_configure_aecho
            ),
            Command(name="get", help="clashes with the core's get", configure=print),
        ]


def _echo(args: argparse.Namespace) -> int:
    if args.word == "missing":
        raise SecretNotFound("no such word", backend="echo")
    print(args.word)
    return 7


async def _aecho(args: argparse.Namespace) -> int:
    await anyio.lowlevel.checkpoint()
    print(args.word.upper())
    return 0


def _configure_echo(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("word")
    parser.set_defaults(command=_echo)


def _configure_aecho(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("word")
    parser.set_defaults(command=_aecho)


@pytest.fixture(autouse=True)
def _no_secretkit_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from an environment without SECRETKIT_* variables."""
    for name in list(os.environ):
        if name.startswith("SECRETKIT_"):
            monkeypatch.delenv(name)


@pytest.fixture
def secrets_file(tmp_path: Path) -> Path:
    """A JSON secrets file holding the canary."""
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps({"mlflow/auth": TOKEN, "db/main": f"{CANARY}-db"}))
    return path


@pytest.fixture
def config(tmp_path: Path, secrets_file: Path) -> Path:
    """A config whose default is the file backend, plus a memory instance."""
    path = tmp_path / "secretkit.toml"
    path.write_text(
        f"""
default = "file"

[backends.file]
path = {json.dumps(str(secrets_file))}

[backends.mem]
type = "memory"

[backends.mem.secrets]
"api/key" = "{CANARY}-mem"
"""
    )
    return path


@pytest.fixture
def test_plugins(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """A fresh process registry with the test backend types, undone after the test."""
    fresh = Registry.load()
    fresh.register(CliTestPlugin(), name="cli-test")
    monkeypatch.setattr(plugins, "_registry", fresh)
    return fresh


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``secretkit argv`` in-process; return exit code, stdout and stderr."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def one_error_line(err: str) -> str:
    """Assert stderr is one ``secretkit: error:`` line, no traceback; return it."""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("secretkit: error: ")
    assert "Traceback" not in err
    return lines[0]


def extra_config(config: Path, text: str) -> Path:
    """Append TOML to the test config."""
    config.write_text(config.read_text() + text)
    return config


class TestGet:
    def test_masked_by_default(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """Without --reveal, one line shows reference, backend, version and ****."""
        code, out, err = run(capsys, "--config", str(config), "get", "mlflow/auth")
        assert code == 0
        assert out.startswith("mlflow/auth  backend=file version=")
        assert out.rstrip().endswith("value=****")
        assert len(out.splitlines()) == 1
        assert CANARY not in out + err

    def test_reveal_prints_the_value_as_is(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """--reveal prints exactly the stored text, with no newline added for a pipe."""
        code, out, _ = run(
            capsys, "--config", str(config), "get", "db/main", "--reveal"
        )
        assert code == 0
        assert out == f"{CANARY}-db"

    def test_field_option(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """--field picks one JSON field; masked, the line names it."""
        code, out, err = run(
            capsys, "--config", str(config), "get", "mlflow/auth", "--field", "token"
        )
        assert code == 0
        assert out.startswith("mlflow/auth#token  backend=file ")
        assert CANARY not in out + err
        code, out, _ = run(
            capsys,
            "--config",
            str(config),
            "get",
            "mlflow/auth",
            "--field",
            "token",
            "--reveal",
        )
        assert (code, out) == (0, CANARY)

    def test_field_in_reference_and_option(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """A field both in the reference and as --field is a usage error."""
        code, out, err = run(
            capsys,
            "--config",
            str(config),
            "get",
            "mlflow/auth#user",
            "--field",
            "token",
        )
        assert (code, out) == (2, "")
        assert "field" in one_error_line(err)

    def test_json_masked(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """--json prints the documented keys with value **** and no canary."""
        code, out, err = run(
            capsys, "--config", str(config), "get", "mem://api/key", "--json"
        )
        assert code == 0
        document = json.loads(out)
        assert document["value"] == "****"
        assert {
            "ref",
            "backend",
            "name",
            "version",
            "stages",
            "created",
            "metadata",
        } <= set(document)
        assert document["ref"] == "mem://api/key"
        assert (document["backend"], document["name"]) == ("mem", "api/key")
        assert (document["version"], document["stages"]) == ("1", ["current"])
        assert document["created"].endswith("+00:00")  # ISO 8601
        assert "encoding" not in document
        assert CANARY not in out + err

    def test_json_revealed(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """--json --reveal puts the text value itself in the object."""
        code, out, _ = run(
            capsys,
            "--config",
            str(config),
            "get",
            "mlflow/auth#token",
            "--json",
            "--reveal",
        )
        assert code == 0
        document = json.loads(out)
        assert (document["value"], document["field"]) == (CANARY, "token")
        assert "encoding" not in document

    def test_binary_reveal_writes_raw_bytes(
        self, capsysbinary: pytest.CaptureFixture[bytes], tmp_path: Path, config: Path
    ) -> None:
        """A binary secret is written to stdout as raw bytes, and as base64 in JSON."""
        blobs = tmp_path / "blobs"
        blobs.mkdir()
        blob = b"\xff\x00" + CANARY.encode()
        (blobs / "key.bin").write_bytes(blob)
        extra_config(
            config,
            f'\n[backends.dir]\ntype = "file"\npath = {json.dumps(str(blobs))}\n',
        )
        assert main(["--config", str(config), "get", "dir://key.bin", "--reveal"]) == 0
        assert capsysbinary.readouterr().out == blob
        assert (
            main(
                ["--config", str(config), "get", "dir://key.bin", "--json", "--reveal"]
            )
            == 0
        )
        document = json.loads(capsysbinary.readouterr().out)
        assert document["encoding"] == "base64"
        assert base64.b64decode(document["value"]) == blob

    def test_default_is_the_environment_without_configuration(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With no --config nor SECRETKIT_* variables, bare names read env variables."""
        monkeypatch.setenv("CLI_TEST_TOKEN", CANARY)
        code, out, _ = run(capsys, "get", "cli/test-token", "--reveal")
        assert (code, out) == (0, CANARY)
        code, out, _ = run(capsys, "get", "cli/test-token")
        assert code == 0
        assert out.startswith("cli/test-token  backend=env version=- value=****")

    def test_secretkit_config_variable(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        config: Path,
    ) -> None:
        """SECRETKIT_CONFIG names the file when --config is not given."""
        monkeypatch.setenv("SECRETKIT_CONFIG", str(config))
        code, out, _ = run(capsys, "get", "db/main", "--reveal")
        assert (code, out) == (0, f"{CANARY}-db")


class TestErrors:
    def test_missing_secret(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """A missing secret exits 3 with one line on stderr naming it."""
        code, out, err = run(capsys, "--config", str(config), "get", "no/such")
        assert (code, out) == (3, "")
        assert "'no/such'" in one_error_line(err)

    def test_bad_reference(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """A reference that does not parse exits 2, naming the position."""
        code, out, err = run(
            capsys, "--config", str(config), "get", "db/main?colour=red"
        )
        assert (code, out) == (2, "")
        assert "position" in one_error_line(err)

    def test_unknown_backend(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """An unknown backend exits 2 and lists the installed types."""
        code, out, err = run(capsys, "--config", str(config), "get", "nope://db/main")
        assert (code, out) == (2, "")
        line = one_error_line(err)
        assert "'nope'" in line
        assert "installed: " in line
        assert "env, file, memory" in line

    def test_bad_config_key(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """An unknown configuration key exits 2 naming the key and the file."""
        bad = tmp_path / "bad.toml"
        bad.write_text('default = "env"\ncolour = "red"\n')
        code, _, err = run(capsys, "--config", str(bad), "get", "db/main")
        assert code == 2
        line = one_error_line(err)
        assert "colour" in line
        assert str(bad) in line

    def test_missing_config_file(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """A --config file that does not exist exits 2 naming it."""
        code, _, err = run(capsys, "--config", str(tmp_path / "absent.toml"), "info")
        assert code == 2
        assert "absent.toml" in one_error_line(err)

    def test_backend_unavailable(
        self, capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
    ) -> None:
        """A secrets file that does not exist is an outage: exit 5."""
        extra_config(
            config, f'\n[backends.gone]\ntype = "file"\npath = "{tmp_path}/gone.json"\n'
        )
        code, _, err = run(capsys, "--config", str(config), "get", "gone://db/main")
        assert code == 5
        assert "gone.json does not exist" in one_error_line(err)

    @pytest.mark.parametrize(
        ("name", "expected"), [(n, c) for n, (_, c) in RAISES.items()]
    )
    def test_exit_code_per_error(
        self,
        capsys: pytest.CaptureFixture[str],
        config: Path,
        test_plugins: Registry,
        name: str,
        expected: int,
    ) -> None:
        """Each error a backend raises maps to its documented exit code, in one line."""
        extra_config(config, '\n[backends.failing]\napi_token = ""\n')
        code, out, err = run(
            capsys, "--config", str(config), "get", f"failing://{name}"
        )
        assert (code, out) == (expected, "")
        assert f"{name} went wrong" in one_error_line(err)
        assert CANARY not in err

    def test_unexpected_error_is_one_line_with_a_hint(
        self, capsys: pytest.CaptureFixture[str], config: Path, test_plugins: Registry
    ) -> None:
        """A bug shows its type and a hint to use -v; not its message or traceback."""
        extra_config(config, "\n[backends.failing]\n")
        code, out, err = run(capsys, "--config", str(config), "ls", "failing")
        assert (code, out) == (1, "")
        line = one_error_line(err)
        assert "RuntimeError" in line
        assert "-v" in line
        assert CANARY not in err

    def test_verbose_prints_the_traceback_of_a_bug(
        self, capsys: pytest.CaptureFixture[str], config: Path, test_plugins: Registry
    ) -> None:
        """With -v, an unexpected error comes with its traceback."""
        extra_config(config, "\n[backends.failing]\n")
        code, _, err = run(capsys, "-v", "--config", str(config), "ls", "failing")
        assert code == 1
        assert "Traceback" in err
        assert "RuntimeError" in err

    def test_interrupted(
        self, capsys: pytest.CaptureFixture[str], config: Path, test_plugins: Registry
    ) -> None:
        """Ctrl-C exits 130 with one line."""
        extra_config(config, "\n[backends.failing]\n")
        code, _, err = run(
            capsys, "--config", str(config), "ls", "failing", "--prefix", "interrupt"
        )
        assert code == 130
        assert one_error_line(err) == "secretkit: error: interrupted"

    def test_usage_error(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown command or a missing argument is a usage error: exit 2."""
        code, _, err = run(capsys, "fetch", "db/main")
        assert code == 2
        assert "usage: secretkit" in err
        assert run(capsys, "get")[0] == 2
        assert run(capsys)[0] == 2


class TestLs:
    def test_lists_names_of_the_default_backend(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """ls prints names, one a line, and never a value."""
        code, out, err = run(capsys, "--config", str(config), "ls")
        assert code == 0
        assert out.splitlines() == ["db/main", "mlflow/auth/token", "mlflow/auth/user"]
        assert CANARY not in out + err

    def test_named_backend_and_prefix(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """ls BACKEND --prefix P lists that backend's names under P."""
        assert run(capsys, "--config", str(config), "ls", "mem")[:2] == (0, "api/key\n")
        code, out, _ = run(capsys, "--config", str(config), "ls", "--prefix", "mlflow/")
        assert (code, out.splitlines()) == (
            0,
            ["mlflow/auth/token", "mlflow/auth/user"],
        )

    def test_unknown_backend(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """ls on an unknown backend exits 2 with the installed types."""
        code, _, err = run(capsys, "--config", str(config), "ls", "nope")
        assert code == 2
        line = one_error_line(err)
        assert "installed: " in line
        assert "env, file, memory" in line


class TestInfo:
    def test_masks_sensitive_options(
        self, capsys: pytest.CaptureFixture[str], config: Path, test_plugins: Registry
    ) -> None:
        """info shows the configuration with tokens and stored secrets masked."""
        extra_config(
            config, f'\n[backends.ci]\ntype = "failing"\napi_token = "{CANARY}"\n'
        )
        code, out, err = run(capsys, "--config", str(config), "info")
        assert code == 0
        assert f"configuration (from {config}):" in out
        assert 'backends.ci.api_token = "****"' in out
        assert 'backends.mem.secrets = "****"' in out
        assert 'default = "file"' in out
        assert CANARY not in out + err

    def test_versions_plugins_and_types(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """info names the secretkit and Python versions, plugins and backend types."""
        code, out, _ = run(capsys, "info")
        assert code == 0
        assert out.startswith("secretkit ")
        assert "Python " in out.splitlines()[0]
        assert "builtin" in out
        assert any(
            line.split()[:2] == ["file", "a"] and "JSON" in line
            for line in out.splitlines()
        )
        assert "configuration (from defaults" in out
        assert 'default = "env"' in out

    def test_json(
        self, capsys: pytest.CaptureFixture[str], config: Path, test_plugins: Registry
    ) -> None:
        """info --json gives versions, plugins, types, source and masked settings."""
        extra_config(
            config, f'\n[backends.ci]\ntype = "failing"\napi_token = "{CANARY}"\n'
        )
        code, out, _ = run(capsys, "--config", str(config), "info", "--json")
        assert code == 0
        report = json.loads(out)
        assert set(report["versions"]) == {"python", "secretkit"}
        assert {"env", "file", "memory", "failing"} <= set(report["backend_types"])
        assert report["source"] == str(config)
        assert report["configuration"]["backends"]["ci"]["api_token"] == "****"
        assert "cli-test" in [plugin["name"] for plugin in report["plugins"]]
        assert CANARY not in out


class TestDoctor:
    def test_all_ok(self, capsys: pytest.CaptureFixture[str], config: Path) -> None:
        """doctor checks every configured backend and exits 0 when all answer."""
        code, out, err = run(capsys, "--config", str(config), "doctor")
        assert code == 0
        lines = out.splitlines()
        assert lines[0].split()[:2] == ["config", "ok"]
        assert any(line.split()[:3] == ["backend", "ok", "file:"] for line in lines)
        assert any(line.split()[:3] == ["backend", "ok", "mem:"] for line in lines)
        assert CANARY not in out + err

    def test_failing_backend(
        self, capsys: pytest.CaptureFixture[str], config: Path, tmp_path: Path
    ) -> None:
        """A backend whose file does not exist fails its line and the exit code."""
        extra_config(
            config, f'\n[backends.gone]\ntype = "file"\npath = "{tmp_path}/gone.json"\n'
        )
        code, out, err = run(capsys, "--config", str(config), "doctor")
        assert code == 1
        [line] = [line for line in out.splitlines() if "gone:" in line]
        assert line.split()[:2] == ["backend", "FAILED"]
        assert "does not exist" in line
        assert "1 check(s) failed" in err

    def test_backend_without_check_is_skipped(
        self, capsys: pytest.CaptureFixture[str], config: Path, test_plugins: Registry
    ) -> None:
        """A backend that cannot check is skipped, which is no failure."""
        extra_config(config, "\n[backends.failing]\n")
        code, out, _ = run(capsys, "--config", str(config), "doctor")
        assert code == 0
        [line] = [line for line in out.splitlines() if "failing:" in line]
        assert line.split()[:2] == ["backend", "skipped"]

    def test_timeout(
        self, capsys: pytest.CaptureFixture[str], config: Path, test_plugins: Registry
    ) -> None:
        """A backend that does not answer within --timeout fails its line."""
        extra_config(config, "\n[backends.hanging]\n")
        code, out, _ = run(
            capsys, "--config", str(config), "doctor", "--timeout", "0.01"
        )
        assert code == 1
        [line] = [line for line in out.splitlines() if "hanging:" in line]
        assert "FAILED" in line
        assert "no answer within 0.01 seconds" in line

    def test_broken_plugin(
        self, capsys: pytest.CaptureFixture[str], config: Path, test_plugins: Registry
    ) -> None:
        """A plugin that failed to load is reported and fails the run."""
        test_plugins.plugins.append(
            PluginInfo(
                name="broken",
                distribution="broken-dist 0.1",
                error="No module named 'x'",
            )
        )
        code, out, _ = run(capsys, "--config", str(config), "doctor")
        assert code == 1
        assert "plugin   FAILED   broken (broken-dist 0.1): No module named 'x'" in out

    def test_invalid_configuration(
        self, capsys: pytest.CaptureFixture[str], tmp_path: Path
    ) -> None:
        """An invalid configuration is reported as such and exits 2."""
        bad = tmp_path / "bad.toml"
        bad.write_text('[backends.m]\ntype = "memory"\ncolour = "red"\n')
        code, out, _ = run(capsys, "--config", str(bad), "doctor")
        assert code == 2
        assert out.startswith("config   FAILED   backends.m.colour")

    def test_implicit_default_is_checked(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """With no configuration, doctor checks the implicit env backend."""
        code, out, _ = run(capsys, "doctor")
        assert code == 0
        assert "backend  ok       env: environment of process" in out


class TestPlugins:
    def test_lists_builtin(self, capsys: pytest.CaptureFixture[str]) -> None:
        """plugins lists the builtin plugin, its distribution and backend types."""
        code, out, _ = run(capsys, "plugins")
        assert code == 0
        [line] = [line for line in out.splitlines() if line.startswith("builtin ")]
        assert "secretkit " in line
        assert line.endswith("env, file, memory")

    def test_shows_load_errors(
        self, capsys: pytest.CaptureFixture[str], test_plugins: Registry
    ) -> None:
        """A plugin that failed to load shows its error instead of backend types."""
        test_plugins.plugins.append(
            PluginInfo(name="broken", distribution="broken-dist 0.1", error="boom")
        )
        code, out, _ = run(capsys, "plugins")
        assert code == 0
        assert any(
            line.startswith("broken ") and line.endswith("FAILED: boom")
            for line in out.splitlines()
        )
        assert any(
            line.startswith("cli-test ") and "failing, hanging" in line
            for line in out.splitlines()
        )


class TestPluginCommands:
    def test_sync_handler(
        self, capsys: pytest.CaptureFixture[str], test_plugins: Registry
    ) -> None:
        """A plugin's plain handler runs, prints and sets the exit code."""
        assert run(capsys, "echo", "hello") == (7, "hello\n", "")

    def test_async_handler(
        self, capsys: pytest.CaptureFixture[str], test_plugins: Registry
    ) -> None:
        """A coroutine handler runs on an event loop."""
        assert run(capsys, "aecho", "hello") == (0, "HELLO\n", "")

    def test_errors_get_exit_codes(
        self, capsys: pytest.CaptureFixture[str], test_plugins: Registry
    ) -> None:
        """A SecretkitError from a plugin's handler is one line and its exit code."""
        code, out, err = run(capsys, "echo", "missing")
        assert (code, out) == (3, "")
        assert err == "secretkit: error: no such word\n"

    def test_listed_in_help_and_clash_skipped(
        self, capsys: pytest.CaptureFixture[str], test_plugins: Registry
    ) -> None:
        """Plugin commands appear in --help; one named like a core command is not."""
        code, out, _ = run(capsys, "--help")
        assert code == 0
        assert "echo a word" in out
        assert "clashes" not in out
        code, out, _ = run(capsys, "get", "--help")
        assert code == 0
        assert "--reveal" in out  # still the core's get


class TestGlobalOptions:
    def test_version(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--version prints the distribution's version and exits 0."""
        from importlib.metadata import version

        code, out, _ = run(capsys, "--version")
        assert (code, out.strip()) == (0, f"secretkit {version('secretkit')}")

    def test_rejected_arguments_not_echoed(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A mistyped option that may hold a value is counted, never repeated."""
        code, out, err = run(capsys, "get", "db/main", f"--value={CANARY}", "x")
        assert (code, out) == (2, "")
        assert "2 unrecognized argument(s), not repeated here" in err
        assert CANARY not in err

    def test_help_lists_exit_codes(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--help exits 0 and documents the exit codes."""
        code, out, _ = run(capsys, "--help")
        assert code == 0
        assert "exit codes:" in out
        assert "3    secret not found" in out

    def test_verbose_logs_but_never_the_value(
        self, capsys: pytest.CaptureFixture[str], config: Path, test_plugins: Registry
    ) -> None:
        """-v logs fetches at DEBUG to stderr, and no value appears there."""
        code, out, err = run(
            capsys, "-v", "--config", str(config), "get", "mlflow/auth#token"
        )
        assert code == 0
        assert "DEBUG secretkit.fetch" in err
        assert CANARY not in out + err
        code, _, err = run(
            capsys, "-v", "--config", str(config), "get", "mem://api/key", "--reveal"
        )
        assert code == 0
        assert "DEBUG" in err
        assert CANARY not in err
        extra_config(config, "\n[backends.failing]\n")
        code, _, err = run(
            capsys, "-v", "--config", str(config), "get", "failing://broken"
        )
        assert code == 1
        assert "BackendError caused by RuntimeError" in err  # the cause's type only
        assert CANARY not in err

    def test_logging_is_restored(
        self, capsys: pytest.CaptureFixture[str], config: Path
    ) -> None:
        """main leaves the secretkit logger as it found it."""
        import logging

        logger = logging.getLogger("secretkit")
        before = (logger.level, logger.propagate, list(logger.handlers))
        run(capsys, "-v", "--config", str(config), "get", "db/main")
        assert (logger.level, logger.propagate, list(logger.handlers)) == before


class TestSubprocess:
    """The installed console script, as a shell runs it."""

    @staticmethod
    def secretkit(*argv: str) -> subprocess.CompletedProcess[bytes]:
        """Run the console script with SECRETKIT_* variables removed."""
        script = Path(sysconfig.get_path("scripts")) / "secretkit"
        assert script.exists(), "the console script is installed with the package"
        env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETKIT_")}
        return subprocess.run(
            [str(script), *argv], capture_output=True, env=env, check=False, timeout=60
        )

    def test_get_masked_and_revealed(self, config: Path) -> None:
        """The script masks by default and reveals on request; exit code 0."""
        masked = self.secretkit("--config", str(config), "get", "mlflow/auth#token")
        assert masked.returncode == 0
        assert CANARY.encode() not in masked.stdout + masked.stderr
        assert masked.stdout.startswith(b"mlflow/auth#token  backend=file ")
        revealed = self.secretkit(
            "--config", str(config), "get", "mlflow/auth#token", "--reveal"
        )
        assert (revealed.returncode, revealed.stdout) == (0, CANARY.encode())

    def test_missing_secret(self, config: Path) -> None:
        """A missing secret exits 3 with one stderr line and no traceback."""
        result = self.secretkit("--config", str(config), "get", "no/such")
        assert result.returncode == 3
        assert result.stdout == b""
        where = config.parent / "secrets.json"
        assert result.stderr.decode().splitlines() == [
            f"secretkit: error: secret 'no/such' not found in {where}"
        ]

    def test_main_as_a_function(self, config: Path) -> None:
        """``raise SystemExit(main())`` gives the exit code to the shell."""
        code = "from secretkit.core.cli import main; raise SystemExit(main())"
        result = subprocess.run(
            [sys.executable, "-c", code, "--config", str(config), "get", "nope://x"],
            capture_output=True,
            check=False,
            timeout=60,
        )
        assert result.returncode == 2
        assert b"Traceback" not in result.stderr


class TestDiscovery:
    def test_finds_secretkit_toml_in_the_working_directory(
        self, tmp_path: Path, secrets_file: Path, capsys, monkeypatch
    ) -> None:
        """Without --config, ./secretkit.toml is read, and variables override it."""
        (tmp_path / "secretkit.toml").write_text(
            f'default = "file"\n[backends.file]\npath = "{secrets_file}"\n'
        )
        monkeypatch.chdir(tmp_path)
        code, out, _ = run(capsys, "get", "mlflow/auth#user", "--reveal")
        assert (code, out.strip()) == (0, "ci")
        monkeypatch.setenv("SECRETKIT_DEFAULT", "env")
        monkeypatch.setenv("MLFLOW_AUTH", "from-env")
        code, out, _ = run(capsys, "get", "mlflow/auth", "--reveal")
        assert (code, out.strip()) == (0, "from-env")
