"""``secretkit run``: a real child gets the secrets as variables and files; cleanup."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from secretkit.core.cli import main
from tests.core.test_cli import one_error_line, run
from tests.core.test_cli_verify import (
    CANARY,
    install_plugins,
    manifest,
    write_config,
)

if TYPE_CHECKING:
    from pathlib import Path

# The child reports what it got to a JSON file named by its first argument.
REPORT = """\
import json, os, stat, sys
out, code = sys.argv[1], int(sys.argv[2])
env = {k: v for k, v in os.environ.items() if k.isupper()}
files = {}
where = os.environ.get("SECRETKIT_SECRETS_DIR")
if where:
    for root, dirs, names in os.walk(where):
        for name in names:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, where)] = [
                    f.read().decode("latin-1"), stat.S_IMODE(os.stat(path).st_mode)
                ]
    files["."] = ["", stat.S_IMODE(os.stat(where).st_mode)]
json.dump({"env": env, "files": files, "dir": where}, open(out, "w"))
sys.exit(code)
"""

MANIFEST = """\
[secrets.db_password]
ref = "db#password"
file = "db/password"
[secrets.api]
ref = "api"
env = "API_KEY"
"""


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test plugins installed, and a config using them."""
    install_plugins(monkeypatch)
    return write_config(tmp_path)


def child(report: Path, code: int = 0) -> list[str]:
    """The command line of a child that reports to ``report`` and exits ``code``."""
    return ["--", sys.executable, "-c", REPORT, str(report), str(code)]


def secretkit_run(capfd, config: Path, *args: str) -> tuple[int, str, str]:
    """Run ``secretkit --config CONFIG run ARGS`` in-process; code, out, err."""
    code = main(["--config", str(config), "run", *args])
    out, err = capfd.readouterr()
    return code, out, err


class TestEnvironment:
    def test_child_gets_the_secrets_and_its_code_is_ours(
        self, capfd, config, tmp_path
    ) -> None:
        """Each entry is the variable its env names; the child's exit code is ours."""
        path = manifest(tmp_path, MANIFEST)
        report = tmp_path / "report.json"
        code, out, err = secretkit_run(
            capfd, config, "--manifest", str(path), *child(report, 7)
        )
        got = json.loads(report.read_text())
        assert (code, out, err) == (7, "", "")
        assert got["env"]["DB_PASSWORD"] == f"{CANARY}-db-password"
        assert got["env"]["API_KEY"] == f"{CANARY}-api"
        assert got["dir"] is None
        assert got["env"]["PATH"] == os.environ["PATH"]  # the rest is inherited

    def test_env_options_alone(self, capfd, config, tmp_path) -> None:
        """--env NAME=REF works without a manifest, fields included."""
        report = tmp_path / "report.json"
        code, _, _ = secretkit_run(
            capfd,
            config,
            "--env",
            "USER_NAME=db#user",
            "--env",
            "A=api",
            *child(report),
        )
        env = json.loads(report.read_text())["env"]
        assert code == 0
        assert (env["USER_NAME"], env["A"]) == ("svc", f"{CANARY}-api")

    def test_env_options_add_to_the_manifest(self, capfd, config, tmp_path) -> None:
        """With --manifest, --env entries come on top."""
        path = manifest(tmp_path, MANIFEST)
        report = tmp_path / "report.json"
        code, _, _ = secretkit_run(
            capfd,
            config,
            "--manifest",
            str(path),
            "--env",
            "U=db#user",
            *child(report),
        )
        env = json.loads(report.read_text())["env"]
        assert code == 0
        assert {"DB_PASSWORD", "API_KEY", "U"} <= set(env)

    def test_two_secrets_for_one_variable(self, capfd, config, tmp_path) -> None:
        """An --env that repeats a manifest variable is an error; nothing runs."""
        path = manifest(tmp_path, MANIFEST)
        report = tmp_path / "report.json"
        code, _, err = secretkit_run(
            capfd,
            config,
            "--manifest",
            str(path),
            "--env",
            "API_KEY=api",
            *child(report),
        )
        assert code == 2
        assert "two secrets set API_KEY" in one_error_line(err)
        assert not report.exists()

    def test_binary_value_is_refused_for_a_variable(
        self, capfd, config, tmp_path
    ) -> None:
        """A value that is not UTF-8 cannot be a variable: exit 2, no child."""
        report = tmp_path / "report.json"
        code, _, err = secretkit_run(
            capfd, config, "--env", "B=dated://binary", *child(report)
        )
        assert code == 2
        assert "B: the value is binary" in one_error_line(err)
        assert "--mount" in err
        assert not report.exists()
        assert CANARY not in err


class TestFailuresStartNothing:
    @pytest.mark.parametrize(
        ("ref", "code"),
        [("nothing", 3), ("failing://denied", 4), ("failing://down", 5)],
    )
    def test_fetch_failure(self, capfd, config, tmp_path, ref: str, code: int) -> None:
        """A secret that cannot be fetched: one error line, its exit code, no child."""
        report = tmp_path / "report.json"
        got, out, err = secretkit_run(
            capfd, config, "--env", "OK=api", "--env", f"BAD={ref}", *child(report)
        )
        assert (got, out) == (code, "")
        assert one_error_line(err).startswith("secretkit: error: BAD: ")
        assert not report.exists()

    def test_failed_expectation(self, capfd, config, tmp_path) -> None:
        """A secret that misses an expectation: exit 1, no child."""
        path = manifest(tmp_path, '[secrets.a]\nref = "api"\nmin_length = 900\n')
        report = tmp_path / "report.json"
        code, _, err = secretkit_run(
            capfd, config, "--manifest", str(path), *child(report)
        )
        assert code == 1
        assert "a: shorter than min_length 900" in one_error_line(err)
        assert not report.exists()

    def test_command_not_found(self, capfd, config) -> None:
        """A command that does not exist: exit 127, like a shell."""
        code, _, err = secretkit_run(
            capfd, config, "--env", "A=api", "--", "secretkit-no-such-command"
        )
        assert code == 127
        assert "command not found: secretkit-no-such-command" in one_error_line(err)

    def test_no_command(self, capfd, config) -> None:
        """run without a command is a usage error."""
        code, _, err = secretkit_run(capfd, config, "--env", "A=api")
        assert code == 2
        assert "no command given" in one_error_line(err)

    def test_bad_env_option(self, capfd, config) -> None:
        """--env needs NAME=REF with a variable name."""
        code, _, err = secretkit_run(capfd, config, "--env", "1A=api", "--", "true")
        assert code == 2
        assert "expected NAME=REF" in err


class TestMount:
    def test_files_are_private_and_removed(self, capfd, config, tmp_path) -> None:
        """--files DIR: one 0600 file per secret in a 0700 directory, gone after."""
        path = manifest(tmp_path, MANIFEST)
        report = tmp_path / "report.json"
        base = tmp_path / "base"
        base.mkdir()
        code, _, _ = secretkit_run(
            capfd,
            config,
            "--manifest",
            str(path),
            "--files",
            str(base),
            *child(report),
        )
        got = json.loads(report.read_text())
        assert code == 0
        assert got["files"] == {
            ".": ["", 0o700],
            "db/password": [f"{CANARY}-db-password", 0o600],
            "api": [f"{CANARY}-api", 0o600],
        }
        assert got["dir"].startswith(str(base))
        assert list(base.iterdir()) == []

    def test_removed_when_the_child_fails(self, capfd, config, tmp_path) -> None:
        """The directory goes even when the child exits non-zero."""
        report = tmp_path / "report.json"
        code, _, _ = secretkit_run(
            capfd, config, "--env", "A=api", "--mount", *child(report, 3)
        )
        got = json.loads(report.read_text())
        assert code == 3
        assert got["files"]["A"] == [f"{CANARY}-api", 0o600]
        assert not os.path.exists(got["dir"])

    def test_binary_value_goes_to_its_file_only(self, capfd, config, tmp_path) -> None:
        """Mounting, a binary value is written as is and left out of the variables."""
        report = tmp_path / "report.json"
        code, _, _ = secretkit_run(
            capfd, config, "--env", "B=dated://binary", "--mount", *child(report)
        )
        got = json.loads(report.read_text())
        assert code == 0
        assert "B" not in got["env"]
        assert got["files"]["B"][0].encode("latin-1") == b"\xff\x00" + CANARY.encode()

    def test_missing_base_directory(self, capfd, config, tmp_path) -> None:
        """--files naming no directory is one error; nothing runs."""
        report = tmp_path / "report.json"
        code, _, err = secretkit_run(
            capfd,
            config,
            "--env",
            "A=api",
            "--files",
            str(tmp_path / "no"),
            *child(report),
        )
        assert code == 2
        assert "cannot make the secrets directory" in one_error_line(err)
        assert not report.exists()

    def test_signal_handlers_are_restored(self, capfd, config, tmp_path) -> None:
        """After the child ends, our own signal handlers are as they were."""
        before = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
        secretkit_run(capfd, config, "--env", "A=api", *child(tmp_path / "r.json"))
        assert {s: signal.getsignal(s) for s in before} == before


# A child that tells its secrets directory on stdout, then waits for a signal.
WAITER = """\
import os, signal, sys
print(os.environ["SECRETKIT_SECRETS_DIR"], flush=True)
signal.pause()
"""


@pytest.mark.parametrize(
    ("signum", "code"), [(signal.SIGTERM, 143), (signal.SIGINT, 130)]
)
def test_signal_to_us_reaches_the_child_and_we_clean_up(
    tmp_path: Path, signum: int, code: int
) -> None:
    """A signal to secretkit goes to the child; its end is ours; the dir is gone."""
    (tmp_path / "s.json").write_text(json.dumps({"api": f"{CANARY}-api"}))
    simple = tmp_path / "secretkit.toml"
    simple.write_text(
        f"[backends.file]\npath = {json.dumps(str(tmp_path / 's.json'))}\n"
    )
    base = tmp_path / "base"
    base.mkdir()
    command = [
        sys.executable,
        "-c",
        "import sys; from secretkit.core.cli import main; sys.exit(main(sys.argv[1:]))",
        "--config", str(simple), "run", "--env", "A=file://api", "--files", str(base),
        "--", sys.executable, "-c", WAITER,
    ]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("SECRETKIT_")}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
        stdin=subprocess.DEVNULL, start_new_session=True,
    ) as process:  # fmt: skip
        assert process.stdout is not None
        directory = process.stdout.readline().decode().strip()
        assert os.path.isdir(directory)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    assert process.returncode == code, err
    assert not os.path.exists(directory)
    assert CANARY.encode() not in err


def test_help_has_examples(capsys) -> None:
    """run --help shows examples and the exit codes."""
    code, out, _ = run(capsys, "run", "--help")
    assert code == 0
    assert "secretkit run -- python app.py" in out
    assert "SECRETKIT_SECRETS_DIR" in out
    assert "127" in out
