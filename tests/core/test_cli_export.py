"""``secretkit export``: dotenv, JSON and k8s Secret read back; 0600 files; no leaks."""

from __future__ import annotations

import base64
import json
import os
import re
import stat
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from secretkit.core._cli_export import _dotenv
from secretkit.core.cli import main
from tests.core.test_cli import one_error_line
from tests.core.test_cli_verify import (
    CANARY,
    install_plugins,
    manifest,
    write_config,
)

if TYPE_CHECKING:
    from pathlib import Path

# ``secretkit ARGS`` in a fresh interpreter.
MAIN = "import sys; from secretkit.core.cli import main; sys.exit(main(sys.argv[1:]))"

# Values that need care in a .env file, each with the canary.
TRICKY = {
    "plain": f"{CANARY}-plain",
    "quote": f"it's {CANARY}",
    "dquote": f'say "{CANARY}"',
    "newline": f"line one\n{CANARY}\r\nline three",
    "dollar": f"${{HOME}} $PATH {CANARY}",
    "backslash": f"C:\\{CANARY}\\n",
    "mixed": f"'\"$\\\n{CANARY}",
}


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test plugins and a config, plus a ``mem`` backend of tricky values."""
    install_plugins(monkeypatch)
    path = write_config(tmp_path)
    table = "".join(f"{name} = {json.dumps(v)}\n" for name, v in TRICKY.items())
    path.write_text(
        path.read_text()
        + f'[backends.mem]\ntype = "memory"\n[backends.mem.secrets]\n{table}'
    )
    return path


@pytest.fixture
def tricky(tmp_path: Path) -> Path:
    """A manifest naming every tricky value."""
    return manifest(
        tmp_path,
        "".join(f'[secrets.{name}]\nref = "mem://{name}"\n' for name in TRICKY),
    )


def export(capfd, config: Path, *args: str) -> tuple[int, str, str]:
    """Run ``secretkit --config CONFIG export ARGS`` in-process; code, out, err."""
    code = main(["--config", str(config), "export", *args])
    out, err = capfd.readouterr()
    return code, out, err


def read_dotenv(text: str) -> dict[str, str]:
    """Read the dotenv dialect the export documents: '...' literal, "..." escaped."""
    escapes = {"\\\\": "\\", '\\"': '"', "\\n": "\n", "\\r": "\r", "\\$": "$"}
    pattern = re.compile(r"""([A-Za-z_]\w*)=(?:'([^']*)'|"((?:[^"\\]|\\.)*)")\n""")
    values: dict[str, str] = {}
    position = 0
    while position < len(text):
        match = pattern.match(text, position)
        assert match is not None, text[position:]
        name, literal, escaped = match.groups()
        values[name] = (
            literal
            if literal is not None
            else re.sub(r"\\.", lambda m: escapes[m.group()], escaped)
        )
        position = match.end()
    return values


class TestFormats:
    def test_dotenv_round_trips(self, capfd, config, tricky, tmp_path) -> None:
        """Every tricky value reads back exactly, keyed by its variable name."""
        out = tmp_path / "out.env"
        code, stdout, err = export(
            capfd,
            config,
            "--format",
            "dotenv",
            "--manifest",
            str(tricky),
            "-o",
            str(out),
        )
        assert (code, stdout, err) == (0, "", "")
        assert read_dotenv(out.read_text()) == {k.upper(): v for k, v in TRICKY.items()}
        assert stat.S_IMODE(out.stat().st_mode) == 0o600

    def test_dotenv_single_quotes_are_what_a_shell_reads(
        self, capfd, config, tmp_path
    ) -> None:
        """A plain value is single-quoted, so sh reads it literally, $ and all."""
        path = manifest(tmp_path, '[secrets.dollar]\nref = "mem://dollar"\n')
        out = tmp_path / "out.env"
        export(
            capfd, config, "--format", "dotenv", "--manifest", str(path), "-o", str(out)
        )
        shell = subprocess.run(
            ["sh", "-c", f'. "{out}" && printf %s "$DOLLAR"'],
            capture_output=True,
            text=True,
            check=True,
        )
        assert shell.stdout == TRICKY["dollar"]

    def test_json(self, capfd, config, tricky) -> None:
        """json is one object, entry name to value, on stdout when it is a pipe."""
        code, out, _ = export(
            capfd, config, "--format", "json", "--manifest", str(tricky)
        )
        assert code == 0
        assert json.loads(out) == TRICKY

    def test_k8s_secret_reads_back_as_yaml(self, capfd, config, tmp_path) -> None:
        """k8s-secret is a v1 Opaque Secret; data decode to the values, bytes too."""
        path = manifest(
            tmp_path,
            '[secrets.newline]\nref = "mem://newline"\n'
            '[secrets."bin.key"]\nref = "dated://binary"\n',
        )
        code, out, _ = export(
            capfd, config, "--format", "k8s-secret", "--manifest", str(path),
            "--name", "api-keys", "--namespace", "ml",
        )  # fmt: skip
        document = yaml.safe_load(out)
        assert code == 0
        assert {k: document[k] for k in ("apiVersion", "kind", "type")} == {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
        }
        assert document["metadata"] == {"name": "api-keys", "namespace": "ml"}
        data = {k: base64.b64decode(v) for k, v in document["data"].items()}
        assert data == {
            "newline": TRICKY["newline"].encode(),
            "bin.key": b"\xff\x00" + CANARY.encode(),
        }

    def test_k8s_secret_needs_a_valid_name(self, capfd, config, tricky) -> None:
        """--name is required for k8s-secret and must be a DNS name."""
        code, _, err = export(
            capfd, config, "--format", "k8s-secret", "--manifest", str(tricky)
        )
        assert (code, "needs --name" in one_error_line(err)) == (2, True)
        code, _, err = export(
            capfd, config, "--format", "k8s-secret", "--manifest", str(tricky),
            "--name", "Not_Valid",
        )  # fmt: skip
        assert code == 2
        assert "a Secret name is lowercase" in err

    @pytest.mark.parametrize("fmt", ["json", "dotenv"])
    def test_binary_value_in_a_text_format(self, capfd, config, tmp_path, fmt) -> None:
        """A binary value cannot go to json or dotenv: exit 2, nothing written."""
        path = manifest(tmp_path, '[secrets.b]\nref = "dated://binary"\n')
        out = tmp_path / "out"
        code, stdout, err = export(
            capfd, config, "--format", fmt, "--manifest", str(path), "-o", str(out)
        )
        assert (code, stdout) == (2, "")
        assert "b: the value is binary" in one_error_line(err)
        assert not out.exists()


class TestOutput:
    def test_existing_file_needs_force(self, capfd, config, tricky, tmp_path) -> None:
        """An existing FILE is kept unless --force; then replaced, mode 0600."""
        out = tmp_path / "out.json"
        out.write_text("keep")
        out.chmod(0o644)
        args = ["--format", "json", "--manifest", str(tricky), "-o", str(out)]
        code, _, err = export(capfd, config, *args)
        assert code == 2
        assert "exists: pass --force" in one_error_line(err)
        assert out.read_text() == "keep"
        code, _, _ = export(capfd, config, *args, "--force")
        assert code == 0
        assert json.loads(out.read_text()) == TRICKY
        assert stat.S_IMODE(out.stat().st_mode) == 0o600
        assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []

    @pytest.mark.parametrize(
        ("ref", "code"),
        [("nothing", 3), ("failing://denied", 4), ("failing://down", 5)],
    )
    def test_a_failure_writes_nothing(
        self, capfd, config, tmp_path, ref: str, code: int
    ) -> None:
        """One secret that cannot be fetched: its exit code, no file."""
        path = manifest(
            tmp_path, f'[secrets.a]\nref = "api"\n[secrets.b]\nref = "{ref}"\n'
        )
        out = tmp_path / "out.env"
        got, _, err = export(
            capfd, config, "--format", "dotenv", "--manifest", str(path), "-o", str(out)
        )
        assert got == code
        assert one_error_line(err).startswith("secretkit: error: b: ")
        assert not out.exists()

    def test_failed_expectation_writes_nothing(self, capfd, config, tmp_path) -> None:
        """A secret missing an expected field: exit 1, no file."""
        path = manifest(tmp_path, '[secrets.a]\nref = "db"\nfields = ["token"]\n')
        out = tmp_path / "out.env"
        code, _, err = export(
            capfd, config, "--format", "json", "--manifest", str(path), "-o", str(out)
        )
        assert code == 1
        assert "a: secret 'db' has no field 'token'" in one_error_line(err)
        assert not out.exists()


def _on_a_terminal(tmp_path: Path, *args: str, stream: str) -> tuple[int, str]:
    """Run secretkit with stdout or stderr on a pseudo-terminal; code and its text."""
    secrets = {f"s{i:02}": f"{CANARY}-{i}" for i in range(25)}
    (tmp_path / "s.json").write_text(json.dumps(secrets))
    config = tmp_path / "secretkit.toml"
    config.write_text(
        f"[backends.file]\npath = {json.dumps(str(tmp_path / 's.json'))}\n"
    )
    path = manifest(
        tmp_path, "".join(f'[secrets.{n}]\nref = "file://{n}"\n' for n in secrets)
    )
    primary, secondary = os.openpty()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETKIT_")}
    with subprocess.Popen(
        [
            sys.executable, "-c",
            MAIN,
            "--config", str(config), *args, "--manifest", str(path),
        ],
        stdout=secondary if stream == "stdout" else subprocess.DEVNULL,
        stderr=secondary if stream == "stderr" else subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=env,
    ) as process:  # fmt: skip
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # EIO: the child closed its end
                break
            if not chunk:
                break
            chunks.append(chunk)
        code = process.wait(timeout=60)
    os.close(primary)
    return code, b"".join(chunks).decode(errors="replace")


class TestTerminal:
    def test_refuses_to_write_to_a_terminal(self, tmp_path: Path) -> None:
        """With stdout on a terminal and no --force, nothing is written; exit 2."""
        code, shown = _on_a_terminal(
            tmp_path, "export", "--format", "json", stream="stdout"
        )
        assert code == 2
        assert CANARY not in shown

    def test_force_writes_to_the_terminal(self, tmp_path: Path) -> None:
        """--force writes to a terminal all the same."""
        code, shown = _on_a_terminal(
            tmp_path, "export", "--format", "json", "--force", stream="stdout"
        )
        assert code == 0
        assert f"{CANARY}-24" in shown

    def test_progress_on_a_terminal(self, tmp_path: Path) -> None:
        """A long manifest shows 'fetched N/M' on a terminal stderr; never values."""
        code, shown = _on_a_terminal(tmp_path, "verify", stream="stderr")
        assert code == 0
        assert "fetched 25/25" in shown
        assert CANARY not in shown


class TestNoLeaks:
    @pytest.mark.parametrize(
        "command",
        [
            ["verify"],
            ["verify", "--json"],
            ["export", "--format", "dotenv", "-o", "{out}"],
            ["export", "--format", "k8s-secret", "--name", "x", "-o", "{out}"],
            ["run", "--mount", "--", sys.executable, "-c", "pass"],
            ["run", "--", sys.executable, "-c", "raise SystemExit(4)"],
        ],
    )
    def test_canary_never_shows_with_verbose(
        self, capfd, config, tricky, tmp_path, command: list[str]
    ) -> None:
        """No value reaches stdout, stderr or the -v logs of verify, export or run."""
        out = str(tmp_path / "out")
        args = [arg.replace("{out}", out) for arg in command]
        where = args.index("--") if "--" in args else len(args)
        args[where:where] = ["--manifest", str(tricky)]
        code = main(["-v", "--config", str(config), *args])
        stdout, stderr = capfd.readouterr()
        assert code in (0, 4)
        assert "DEBUG" in stderr
        for value in TRICKY.values():
            assert value not in stdout + stderr
        assert CANARY not in stdout + stderr


@given(st.text(max_size=40))
def test_dotenv_quoting_round_trips(value: str) -> None:
    """Any text quoted for dotenv reads back unchanged in the documented dialect."""
    assert read_dotenv(f"K={_dotenv(value)}\n") == {"K": value}
