"""``secretkit put``: the value from stdin, a file or a prompt; never an argument."""

from __future__ import annotations

import io
import json
import os
import select
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from secretkit.core import hookimpl, plugins
from secretkit.core.backend import Backend, BackendFactory, SecretValue
from secretkit.core.errors import SecretNotFound
from secretkit.core.options import Options
from secretkit.core.plugins import Registry
from secretkit.core.secret import SecretRef

from .test_cli import one_error_line, run

CANARY = "CANARY-put-3e8a"
# What the ``shelf`` backends store, by name: (value, put's options), oldest first.
SHELF: dict[str, list[tuple[str | bytes, dict[str, object]]]] = {}


class ShelfBackend(Backend):
    """Stores into SHELF, which outlives the client each command builds."""

    async def fetch(self, ref: SecretRef) -> SecretValue:
        raise NotImplementedError

    async def put(
        self,
        ref: SecretRef,
        value: str | bytes,
        *,
        create: bool = True,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        stages: Sequence[str] = (),
    ) -> SecretValue:
        if not create and ref.name not in SHELF:
            raise SecretNotFound(f"no secret {ref.name!r}", ref=ref.name)
        history = SHELF.setdefault(ref.name, [])
        history.append((value, {"description": description, "tags": tags}))
        return SecretValue(value=value, version=str(len(history)))


class ShelfPlugin:
    """Registers the ``shelf`` backend type."""

    @hookimpl
    def secretkit_register_backends(self) -> list[BackendFactory]:
        return [BackendFactory(type="shelf", create=_create)]


def _create(options: Options) -> Backend:
    options.done()
    return ShelfBackend()


class FakeStdin:
    """Stands for sys.stdin: a terminal or a pipe holding some bytes."""

    def __init__(self, data: bytes = b"", *, tty: bool = False) -> None:
        self.buffer = io.BytesIO(data)
        self.tty = tty

    def isatty(self) -> bool:
        return self.tty


@pytest.fixture(autouse=True)
def shelf(
    monkeypatch: pytest.MonkeyPatch,
) -> dict[str, list[tuple[str | bytes, dict[str, object]]]]:
    """An empty SHELF, the ``shelf`` type registered and the default backend."""
    for name in list(os.environ):
        if name.startswith("SECRETKIT_"):
            monkeypatch.delenv(name)
    SHELF.clear()
    fresh = Registry.load()
    fresh.register(ShelfPlugin(), name="shelf-test")
    monkeypatch.setattr(plugins, "_registry", fresh)
    monkeypatch.setenv("SECRETKIT_DEFAULT", "shelf")
    return SHELF


def put(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: FakeStdin | None = None,
) -> tuple[int, str, str]:
    """Run ``secretkit put ARGV`` with the given stdin (default: an empty pipe)."""
    monkeypatch.setattr(sys, "stdin", stdin or FakeStdin())
    return run(capsys, "put", *argv)


class TestSources:
    def test_stdin_byte_for_byte(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A piped value is stored as it came, trailing newline included, as text."""
        data = f"{CANARY}\n".encode()
        code, out, err = put(capsys, monkeypatch, "app/db", stdin=FakeStdin(data))
        assert code == 0, err
        assert SHELF["app/db"][0][0] == f"{CANARY}\n"
        assert out == "stored app/db in shelf: version 1 (text)\n"
        assert CANARY not in out + err

    def test_binary_stdin_stays_binary(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Bytes that are not UTF-8 are stored as bytes."""
        data = b"\xff\x00" + CANARY.encode()
        code, out, _ = put(capsys, monkeypatch, "blob", stdin=FakeStdin(data))
        assert code == 0
        assert SHELF["blob"][0][0] == data
        assert out.endswith("(binary)\n")

    def test_from_file(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        """--from-file reads bytes: JSON is stored as the same text, binary as bytes."""
        document = tmp_path / "db.json"
        document.write_text(json.dumps({"password": CANARY}, indent=1))
        blob = tmp_path / "key.der"
        blob.write_bytes(b"\x30\x82\xff" + CANARY.encode())
        assert put(capsys, monkeypatch, "db", "--from-file", str(document))[0] == 0
        assert put(capsys, monkeypatch, "key", "--from-file", str(blob))[0] == 0
        assert SHELF["db"][0][0] == document.read_text()
        assert SHELF["key"][0][0] == blob.read_bytes()

    def test_from_file_wins_over_stdin(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        """With --from-file, stdin is not read."""
        path = tmp_path / "v"
        path.write_text("from-file")
        stdin = FakeStdin(b"from-stdin")
        assert (
            put(capsys, monkeypatch, "x", "--from-file", str(path), stdin=stdin)[0] == 0
        )
        assert SHELF["x"][0][0] == "from-file"

    def test_prompt_twice_without_echo(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """At a terminal the value is asked twice through getpass."""
        prompts: list[str] = []

        def getpass(prompt: str = "") -> str:
            prompts.append(prompt)
            return CANARY

        monkeypatch.setattr("getpass.getpass", getpass)
        code, out, err = put(capsys, monkeypatch, "app/db", stdin=FakeStdin(tty=True))
        assert code == 0
        assert prompts == ["value for app/db: ", "again, to confirm: "]
        assert SHELF["app/db"][0][0] == CANARY
        assert CANARY not in out + err

    @pytest.mark.parametrize("answers", [[CANARY, CANARY + "x"], [""]])
    def test_prompt_refuses_mismatch_and_empty(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        answers: list[str],
    ) -> None:
        """Two different entries, or an empty one, store nothing and exit 2."""
        given = iter(answers)
        monkeypatch.setattr("getpass.getpass", lambda prompt="": next(given))
        code, out, err = put(capsys, monkeypatch, "app/db", stdin=FakeStdin(tty=True))
        assert (code, out, SHELF) == (2, "", {})
        assert CANARY not in one_error_line(err)


class TestRefusals:
    def test_value_argument_refused_unshown(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A value typed as an argument is refused, never echoed, nothing stored."""
        code, out, err = put(capsys, monkeypatch, "app/db", CANARY)
        assert (code, out, SHELF) == (2, "", {})
        line = one_error_line(err)
        assert "stdin" in line
        assert CANARY not in line

    def test_empty_stdin(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """An empty pipe is an error: nothing to put."""
        code, _, err = put(capsys, monkeypatch, "app/db", stdin=FakeStdin(b""))
        assert (code, SHELF) == (2, {})
        assert "empty" in one_error_line(err)

    def test_unreadable_file(
        self,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
        tmp_path: Path,
    ) -> None:
        """A --from-file that cannot be read is a usage error naming the file."""
        missing = tmp_path / "nope"
        code, _, err = put(capsys, monkeypatch, "x", "--from-file", str(missing))
        assert code == 2
        assert str(missing) in one_error_line(err)

    def test_field_refused(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """put stores whole secrets: a #field is a usage error."""
        code, _, err = put(
            capsys, monkeypatch, "app/db#password", stdin=FakeStdin(b"v")
        )
        assert (code, SHELF) == (2, {})
        assert "#password" in one_error_line(err)

    def test_no_create(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """--no-create on a missing secret exits 3 and stores nothing."""
        code, _, err = put(
            capsys, monkeypatch, "app/db", "--no-create", stdin=FakeStdin(b"v")
        )
        assert (code, SHELF) == (3, {})
        one_error_line(err)


def test_description_and_tags(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """--description and each --tag reach the backend's put."""
    code, _, _ = put(
        capsys,
        monkeypatch,
        "app/db",
        "--description",
        "the db",
        "--tag",
        "team=ml",
        "--tag",
        "env=prod",
        stdin=FakeStdin(b"v"),
    )
    assert code == 0
    assert SHELF["app/db"][0][1] == {
        "description": "the db",
        "tags": {"team": "ml", "env": "prod"},
    }
    assert (
        put(capsys, monkeypatch, "a", "--tag", "novalue", stdin=FakeStdin(b"v"))[0] == 2
    )


def test_help_has_an_example(capsys: pytest.CaptureFixture[str]) -> None:
    """--help shows examples and says that put adds a new version."""
    code, out, _ = run(capsys, "put", "--help")
    assert code == 0
    assert "secretkit put aws://app/db < db.json" in out
    assert "new version" in out
    assert "refused" not in out


def test_prompt_on_a_real_terminal(tmp_path: Path) -> None:
    """In a pseudo-terminal the prompts show and the typed value is never echoed."""
    config = tmp_path / "secretkit.toml"
    config.write_text('default = "mem"\n[backends.mem]\ntype = "memory"\n')
    main, follower = os.openpty()
    code = "from secretkit.core.cli import main; raise SystemExit(main())"
    with subprocess.Popen(
        [sys.executable, "-c", code, "--config", str(config), "put", "app/db"],
        stdin=follower,
        stdout=follower,
        stderr=follower,
        start_new_session=True,  # no controlling terminal but this one
        env={k: v for k, v in os.environ.items() if not k.startswith("SECRETKIT_")},
    ) as child:
        os.close(follower)
        screen = _until(main, b"value for app/db: ")
        os.write(main, f"{CANARY}\n".encode())
        screen += _until(main, b"again, to confirm: ")
        os.write(main, f"{CANARY}\n".encode())
        screen += _until(main, b"")
        assert child.wait(30) == 0
    os.close(main)
    text = screen.decode()
    assert "stored app/db in mem: version 1 (text)" in text
    assert CANARY not in text


def _until(fd: int, wanted: bytes) -> bytes:
    """Read the terminal until ``wanted`` shows (or, for b"", until it closes)."""
    seen = b""
    while not wanted or wanted not in seen:
        ready, _, _ = select.select([fd], [], [], 30)
        assert ready, f"no {wanted!r} from the terminal; saw {seen!r}"
        try:
            chunk = os.read(fd, 1024)
        except OSError:  # EIO: the child closed the terminal
            chunk = b""
        if not chunk:
            break
        seen += chunk
    return seen
