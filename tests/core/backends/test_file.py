"""The ``file`` backend: JSON, TOML, YAML and dotenv files, and secret directories."""

from __future__ import annotations

import os
import shutil
import sys
import traceback
from contextlib import aclosing
from typing import TYPE_CHECKING

import anyio
import pytest

from secretkit.core.backends import plugin
from secretkit.core.backends.file import FileBackend
from secretkit.core.errors import (
    BackendUnavailable,
    ConfigurationError,
    DecodeError,
    InvalidReference,
    NotSupported,
    SecretNotFound,
)
from secretkit.core.options import Options
from secretkit.core.secret import SecretRef

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

# Marked here, not only by the conftest hook, so parametrized async tests keep
# their parameters (the hook runs after parametrization).
pytestmark = pytest.mark.anyio

CANARY = "CANARY-7f3a"

STRUCTURED = {
    "json": (
        '{"flag": true, "nothing": null, "db": {"port": 5432, "user": "app"},'
        ' "mlflow": {"auth": {"token": "t"}}}'
    ),
    "toml": (
        'flag = true\n[db]\nport = 5432\nuser = "app"\n[mlflow.auth]\ntoken = "t"\n'
    ),
    "yaml": (
        "flag: true\nnothing: null\ndb:\n  port: 5432\n  user: app\n"
        "mlflow:\n  auth:\n    token: t\n"
    ),
}


def make(path: Path | str, **values: object) -> FileBackend:
    """Build a ``file`` backend through its factory, as a client does."""
    (factory,) = [f for f in plugin.secretkit_register_backends() if f.type == "file"]
    backend = factory.create(
        Options({"path": str(path), **values}, instance="x", source="test")
    )
    assert isinstance(backend, FileBackend)
    return backend


def ref(text: str) -> SecretRef:
    return SecretRef.parse(text)


async def value(backend: FileBackend, name: str) -> str | bytes:
    return (await backend.fetch(ref(name))).value


def rewrite(path: Path, data: str) -> None:
    """Replace the content and move the mtime on, as any real edit does."""
    before = path.stat()
    path.write_text(data)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))


def assert_no_leak(exc: BaseException, canary: str = CANARY) -> None:
    """The canary shows in no message, chained error, or secretkit frame local."""
    assert canary not in str(exc)
    assert canary not in repr(exc)
    assert canary not in "".join(traceback.format_exception(exc))
    linked: BaseException | None = exc
    while linked is not None:
        assert canary not in str(linked)
        assert canary not in repr(linked)
        tb = linked.__traceback__
        while tb is not None:
            frame = tb.tb_frame
            if f"{os.sep}secretkit{os.sep}" in frame.f_code.co_filename:
                for local in frame.f_locals.values():
                    assert canary not in repr(local), frame.f_code.co_name
            tb = tb.tb_next
        linked = linked.__cause__ or linked.__context__


class TestStructured:
    """JSON, TOML and YAML: nested tables, flat keys, scalars."""

    @pytest.mark.parametrize(
        ("fmt", "suffix"),
        [("json", ".json"), ("toml", ".toml"), ("yaml", ".yaml"), ("yaml", ".yml")],
    )
    async def test_nested_names(self, tmp_path: Path, fmt: str, suffix: str) -> None:
        """``a/b`` walks tables; tables come back as JSON, scalars as JSON text."""
        path = tmp_path / f"secrets{suffix}"
        path.write_text(STRUCTURED[fmt])
        backend = make(path)
        assert await value(backend, "db/user") == "app"
        assert await value(backend, "db/port") == "5432"
        assert await value(backend, "flag") == "true"
        assert await value(backend, "db") == '{"port":5432,"user":"app"}'
        assert await value(backend, "mlflow/auth") == '{"token":"t"}'
        names = [n async for n in backend.list()]
        assert set(names) >= {"db/port", "db/user", "flag", "mlflow/auth/token"}
        assert [n async for n in backend.list("db/")] == ["db/port", "db/user"]
        count = len(names)
        assert await backend.check() == f"file {path} ({fmt}, {count} secrets)"

    async def test_flat_key_wins(self, tmp_path: Path) -> None:
        """A top-level key spelled ``mlflow/auth`` wins over the nested table."""
        path = tmp_path / "s.json"
        path.write_text('{"mlflow/auth": "flat", "mlflow": {"auth": "nested"}}')
        backend = make(path)
        assert await value(backend, "mlflow/auth") == "flat"
        assert [n async for n in backend.list()] == ["mlflow/auth"]

    async def test_every_listed_name_reads(self, tmp_path: Path) -> None:
        """Keys holding ``/`` at any level still read by the names list gives."""
        path = tmp_path / "s.json"
        path.write_text(
            '{"app/db": {"user": "u", "pw/main": "p"}, "app": {"x/y": {"z": "deep"}}}'
        )
        backend = make(path)
        names = [n async for n in backend.list()]
        assert names == ["app/db/pw/main", "app/db/user", "app/x/y/z"]
        assert [await value(backend, n) for n in names] == ["p", "u", "deep"]
        with pytest.raises(SecretNotFound):
            await value(backend, "app/db/nope")

    async def test_null_and_lists(self, tmp_path: Path) -> None:
        """null and lists become their JSON text."""
        path = tmp_path / "s.json"
        path.write_text('{"nothing": null, "hosts": ["a", 1]}')
        assert await value(make(path), "nothing") == "null"
        assert await value(make(path), "hosts") == '["a",1]'

    async def test_toml_dates_are_iso_text(self, tmp_path: Path) -> None:
        """TOML dates come back as ISO 8601 text, alone or inside a table."""
        path = tmp_path / "s.toml"
        path.write_text("when = 2024-01-02T03:04:05Z\n[cert]\nexpires = 2025-06-30\n")
        backend = make(path)
        assert await value(backend, "when") == "2024-01-02T03:04:05+00:00"
        assert await value(backend, "cert") == '{"expires":"2025-06-30"}'

    async def test_yaml_binary_and_number_keys(self, tmp_path: Path) -> None:
        """YAML ``!!binary`` stays bytes; a number key is addressed by its text."""
        path = tmp_path / "s.yaml"
        path.write_text("blob: !!binary AP8=\nports:\n  80: http\n")
        backend = make(path)
        assert await value(backend, "blob") == b"\x00\xff"
        assert await value(backend, "ports/80") == "http"

    async def test_empty_yaml_is_empty(self, tmp_path: Path) -> None:
        """An empty YAML file holds no secrets rather than failing."""
        path = tmp_path / "s.yaml"
        path.write_text("# nothing yet\n")
        assert await make(path).check() == f"file {path} (yaml, 0 secrets)"


class TestDotenv:
    """dotenv files: syntax and lookup."""

    CONTENT = (
        "# a comment\n"
        "\n"
        "export MLFLOW_AUTH=token-1\n"
        "SINGLE='lit $x \\n'\n"
        'DOUBLE="line1\\nline2 \\"q\\""  # comment\n'
        "BARE = value with spaces   # trailing comment\n"
        "HASH=a#b\n"
        "EMPTY=\n"
        'PEM="-----BEGIN-----\nabc\n-----END-----"\n'
        "db/password=exact\r\n"
        "DB_PASSWORD=mapped\n"
    )

    async def test_syntax(self, tmp_path: Path) -> None:
        """export, comments, quotes, escapes, multi-line values and CRLF all parse."""
        path = tmp_path / "app.env"
        path.write_text(self.CONTENT)
        backend = make(path)
        assert await value(backend, "MLFLOW_AUTH") == "token-1"
        assert await value(backend, "SINGLE") == "lit $x \\n"
        assert await value(backend, "DOUBLE") == 'line1\nline2 "q"'
        assert await value(backend, "BARE") == "value with spaces"
        assert await value(backend, "HASH") == "a#b"
        assert await value(backend, "EMPTY") == ""
        assert await value(backend, "PEM") == "-----BEGIN-----\nabc\n-----END-----"

    async def test_lookup_exact_then_mapped(self, tmp_path: Path) -> None:
        """An exact key wins; otherwise ``mlflow/auth`` reads ``MLFLOW_AUTH``."""
        path = tmp_path / "app.env"
        path.write_text(self.CONTENT)
        backend = make(path)
        assert await value(backend, "mlflow/auth") == "token-1"
        assert await value(backend, "db/password") == "exact"
        assert "DB_PASSWORD" in [n async for n in backend.list("DB")]

    @pytest.mark.parametrize("filename", [".env", ".env.local", "prod.ENV"])
    async def test_dotenv_names(self, tmp_path: Path, filename: str) -> None:
        """``.env``, ``.env.<anything>`` and ``*.env`` files are dotenv."""
        path = tmp_path / filename
        path.write_text("A=1\n")
        assert await make(path).check() == f"file {path} (dotenv, 1 secrets)"


class TestFormats:
    """Choosing the format."""

    async def test_unknown_extension_fails_at_fetch(self, tmp_path: Path) -> None:
        """An unknown extension builds fine and fails on use, saying what to set."""
        path = tmp_path / "secrets.txt"
        path.write_text('{"a": "1"}')
        backend = make(path)
        with pytest.raises(ConfigurationError, match="set format"):
            await backend.fetch(ref("a"))
        assert await value(make(path, format="json"), "a") == "1"

    async def test_directory_given_as_a_file_format(self, tmp_path: Path) -> None:
        """A directory read as JSON is a ConfigurationError pointing at ``dir``."""
        with pytest.raises(ConfigurationError, match="format to dir"):
            await make(tmp_path, format="json").fetch(ref("a"))

    async def test_yaml_without_pyyaml(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """Without PyYAML, a YAML file asks for ``secretkit[yaml]``."""
        path = tmp_path / "s.yaml"
        path.write_text("a: 1\n")
        monkeypatch.setitem(sys.modules, "yaml", None)
        with pytest.raises(ConfigurationError, match=r"secretkit\[yaml\]"):
            await make(path).fetch(ref("a"))

    @pytest.mark.parametrize(
        ("values", "key"),
        [
            ({"formt": "json"}, "formt"),
            ({"format": "xml"}, "format"),
            ({"watch_interval": 0}, "watch_interval"),
            ({"watch_interval": "1"}, "watch_interval"),
        ],
    )
    def test_bad_options(
        self, tmp_path: Path, values: dict[str, object], key: str
    ) -> None:
        """Unknown or invalid options raise ConfigurationError naming the key."""
        with pytest.raises(ConfigurationError, match=key) as caught:
            make(tmp_path / "s.json", **values)
        assert caught.value.key == f"backends.x.{key}"

    def test_path_is_required(self) -> None:
        """A file backend without ``path`` is a ConfigurationError."""
        (factory,) = [
            f for f in plugin.secretkit_register_backends() if f.type == "file"
        ]
        with pytest.raises(ConfigurationError, match=r"path.*required"):
            factory.create(Options({}, instance="x", source="test"))

    def test_construction_does_no_io(self, tmp_path: Path) -> None:
        """Building a backend for a path that does not exist succeeds."""
        backend = make(tmp_path / "later" / "s.json")
        assert backend.name == "x"
        assert "s.json" in repr(backend)

    async def test_read_only(self, tmp_path: Path) -> None:
        """put and delete raise NotSupported."""
        backend = make(tmp_path / "s.json")
        with pytest.raises(NotSupported):
            await backend.put(ref("a"), "v")
        with pytest.raises(NotSupported):
            await backend.delete(ref("a"))


class TestReload:
    """Reloading on change, versions, absence."""

    async def test_change_is_seen_with_a_new_version(self, tmp_path: Path) -> None:
        """An edited file is re-parsed; the version comes from its stat, not content."""
        path = tmp_path / "s.json"
        path.write_text('{"a": "one"}')
        backend = make(path)
        first = await backend.fetch(ref("a"))
        rewrite(path, '{"a": "two!"}')
        second = await backend.fetch(ref("a"))
        info = path.stat()
        assert (first.value, second.value) == ("one", "two!")
        assert second.version == f"{info.st_mtime_ns}-{info.st_size}-{info.st_ino}"
        assert first.version != second.version

    async def test_unchanged_stat_is_not_reparsed(self, tmp_path: Path) -> None:
        """With mtime, size and inode unchanged, the parsed table is reused."""
        path = tmp_path / "s.json"
        path.write_text('{"a": "one"}')
        backend = make(path)
        assert await value(backend, "a") == "one"
        before = path.stat()
        path.write_text('{"a": "two"}')  # same size, same inode
        os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
        assert await value(backend, "a") == "one"

    async def test_missing_file_is_unavailable(self, tmp_path: Path) -> None:
        """No file is BackendUnavailable naming the path; it recovers on creation."""
        path = tmp_path / "s.json"
        backend = make(path)
        with pytest.raises(BackendUnavailable, match=str(path)):
            await backend.fetch(ref("a"))
        path.write_text('{"a": "here"}')
        assert await value(backend, "a") == "here"
        path.unlink()
        with pytest.raises(BackendUnavailable):
            await backend.fetch(ref("a"))

    async def test_only_the_current_version(self, tmp_path: Path) -> None:
        """``?version=`` must be the current one; any stage is SecretNotFound."""
        path = tmp_path / "s.json"
        path.write_text(f'{{"a": "{CANARY}"}}')
        backend = make(path)
        current = (await backend.fetch(ref("a"))).version
        assert await value(backend, f"a?version={current}") == CANARY
        for query in ("?version=1", "?stage=current"):
            with pytest.raises(SecretNotFound, match="current version") as caught:
                await backend.fetch(ref(f"a{query}"))
            assert_no_leak(caught.value)


class TestErrors:
    """Parse errors and missing names never show secret text."""

    @pytest.mark.parametrize(
        ("filename", "content", "where"),
        [
            (
                "s.json",
                f'{{\n  "a": "{CANARY}"\n  "b": 1\n}}',
                "JSON at line 3, column 3",
            ),
            ("s.json", f'{{"a": "{CANARY}\\x"}}', "JSON at line 1, column"),
            ("s.yaml", f"a: {CANARY}: b\n", "YAML at line 1, column"),
            ("s.yaml", f'ok: 1\na: "{CANARY}\n', "YAML at line"),
            ("s.toml", f'a = "{CANARY}\n', "TOML at line 1, column"),
            ("s.env", f"GOOD=1\n{CANARY} oops\n", "DOTENV at line 2"),
            ("s.json", f'["{CANARY}"]', "must hold a table of secrets, not list"),
        ],
    )
    async def test_malformed_files(
        self, tmp_path: Path, filename: str, content: str, where: str
    ) -> None:
        """A malformed file is a DecodeError naming file and place, never its text."""
        path = tmp_path / filename
        path.write_text(content)
        with pytest.raises(DecodeError) as caught:
            await make(path).fetch(ref("a"))
        assert str(path) in str(caught.value)
        assert where in str(caught.value)
        assert caught.value.__cause__ is None
        assert caught.value.__context__ is None
        assert_no_leak(caught.value)

    @pytest.mark.parametrize(
        ("filename", "content"),
        [
            pytest.param("deep.json", "[" * 100_000, id="deep.json"),
            pytest.param("deep.yaml", "a: " + "[" * 100_000, id="deep.yaml"),
            pytest.param("deep.toml", "a = " + "[" * 100_000, id="deep.toml"),
            pytest.param("long.json", '{"a": ' + "9" * 5000 + "}", id="long.json"),
            pytest.param("long.yaml", "a: " + "9" * 5000, id="long.yaml"),
        ],
    )
    async def test_pathological_files(
        self, tmp_path: Path, filename: str, content: str
    ) -> None:
        """Deep nesting and overlong numbers are DecodeErrors, not crashes."""
        path = tmp_path / filename
        path.write_text(content)
        with pytest.raises(DecodeError, match="is not valid"):
            await make(path).fetch(ref("a"))

    async def test_yaml_alias_loop(self, tmp_path: Path) -> None:
        """A value that refers to itself cannot become JSON: DecodeError."""
        path = tmp_path / "s.yaml"
        path.write_text("a: &x [*x]\n")
        with pytest.raises(DecodeError, match="cannot be written as JSON"):
            await make(path).fetch(ref("a"))

    async def test_not_utf8(self, tmp_path: Path) -> None:
        """A file that is not UTF-8 is a DecodeError with the byte offset only."""
        path = tmp_path / "s.json"
        path.write_bytes(f'{{"a": "{CANARY}'.encode() + b'\xff"}')
        with pytest.raises(DecodeError, match="not UTF-8") as caught:
            await make(path).check()
        assert caught.value.__context__ is None
        assert_no_leak(caught.value)

    async def test_missing_name(self, tmp_path: Path) -> None:
        """A missing name is SecretNotFound naming the name and the file."""
        path = tmp_path / "s.json"
        path.write_text(f'{{"a": "{CANARY}"}}')
        with pytest.raises(SecretNotFound) as caught:
            await make(path).fetch(ref("a/b"))
        assert "'a/b'" in str(caught.value)
        assert str(path) in str(caught.value)
        assert_no_leak(caught.value)


def kubernetes_version(root: Path, stamp: str, files: dict[str, str]) -> str:
    """Write one version of a Secret volume and point ``..data`` at it atomically."""
    version = f"..2024_01_{stamp}"
    for name, content in files.items():
        (root / version / name).parent.mkdir(parents=True, exist_ok=True)
        (root / version / name).write_text(content)
    os.symlink(version, root / "..data_tmp")
    os.replace(root / "..data_tmp", root / "..data")
    for top in {name.split("/")[0] for name in files}:
        if not (root / top).is_symlink():
            os.symlink(f"..data/{top}", root / top)
    return version


class TestDirectory:
    """One file per secret, as Kubernetes mounts a Secret."""

    async def test_plain_directory(self, tmp_path: Path) -> None:
        """Files are secrets: text when UTF-8, bytes otherwise, version from mtime."""
        (tmp_path / "db").mkdir()
        (tmp_path / "db" / "password").write_text("pw\n")
        (tmp_path / "blob").write_bytes(b"\x00\xff")
        (tmp_path / "..hidden").write_text("skipped")
        backend = make(tmp_path)
        found = await backend.fetch(ref("db/password"))
        assert found.value == "pw\n"
        assert found.version == str((tmp_path / "db" / "password").stat().st_mtime_ns)
        assert await value(backend, "blob") == b"\x00\xff"
        assert [n async for n in backend.list()] == ["blob", "db/password"]
        assert await backend.check() == f"directory {tmp_path} (dir, 2 secrets)"

    @pytest.mark.parametrize(
        "name",
        ["../outside", "db/../../outside", "/etc/hostname", "..data/x", "a//b", "./x"],
    )
    async def test_escaping_names_are_refused(self, tmp_path: Path, name: str) -> None:
        """A leading '/', or an empty, '.' or '..' part, is InvalidReference."""
        root = tmp_path / "secrets"
        (root / "db").mkdir(parents=True)
        (tmp_path / "outside").write_text(CANARY)
        with pytest.raises(InvalidReference, match="not a path inside") as caught:
            await make(root, format="dir").fetch(ref(name))
        assert_no_leak(caught.value)

    async def test_missing_entry_and_missing_directory(self, tmp_path: Path) -> None:
        """A missing file is SecretNotFound; a missing directory BackendUnavailable."""
        with pytest.raises(SecretNotFound, match="'nope'"):
            await make(tmp_path).fetch(ref("nope"))
        with pytest.raises(BackendUnavailable, match="does not exist"):
            await make(tmp_path / "gone", format="dir").fetch(ref("nope"))

    async def test_symlink_loop_is_listed_once(self, tmp_path: Path) -> None:
        """A symlink back to the directory does not loop forever."""
        (tmp_path / "a").write_text("1")
        os.symlink(".", tmp_path / "loop")
        assert [n async for n in make(tmp_path).list()] == ["a"]

    async def test_kubernetes_swap(self, tmp_path: Path) -> None:
        """After a ``..data`` swap, the next fetch sees the new value and version."""
        old = kubernetes_version(tmp_path, "01", {"password": "v1", "db/user": "u1"})
        backend = make(tmp_path)
        first = await backend.fetch(ref("password"))
        assert (first.value, first.version) == ("v1", old)
        assert [n async for n in backend.list()] == ["db/user", "password"]
        new = kubernetes_version(tmp_path, "02", {"password": "v2", "db/user": "u2"})
        shutil.rmtree(tmp_path / old)
        second = await backend.fetch(ref("password"))
        assert (second.value, second.version) == ("v2", new)
        assert await value(backend, "db/user") == "u2"
        assert [n async for n in backend.list()] == ["db/user", "password"]


async def wait_for_change(
    backend: FileBackend, name: str, change: Callable[[], object]
) -> None:
    """Make ``change`` once the watcher has its baseline; return when it yields."""
    probed = anyio.Event()
    blocking = backend.run_blocking

    async def spy(func: Callable[..., object], *args: object) -> object:
        result = await blocking(func, *args)
        probed.set()
        return result

    with anyio.fail_after(10), pytest.MonkeyPatch.context() as patch:
        patch.setattr(backend, "run_blocking", spy)
        async with aclosing(backend.watch(ref(name))) as changes:

            async def changer() -> None:
                await probed.wait()
                change()

            async with anyio.create_task_group() as tg:
                tg.start_soon(changer)
                await anext(changes)  # returns only once a change was seen


class TestWatch:
    """Polling the stat for changes."""

    async def test_file_change(self, tmp_path: Path) -> None:
        """Editing the file wakes the watcher."""
        path = tmp_path / "s.json"
        path.write_text('{"a": "1"}')
        backend = make(path, watch_interval=0.01)
        await wait_for_change(backend, "a", lambda: rewrite(path, '{"a": "22"}'))

    async def test_file_removal(self, tmp_path: Path) -> None:
        """A file that disappears counts as a change."""
        path = tmp_path / "s.json"
        path.write_text('{"a": "1"}')
        await wait_for_change(make(path, watch_interval=0.01), "a", path.unlink)

    async def test_kubernetes_swap(self, tmp_path: Path) -> None:
        """Swapping ``..data`` wakes the watcher of a directory entry."""
        kubernetes_version(tmp_path, "01", {"password": "v1"})
        backend = make(tmp_path, watch_interval=0.01)
        await wait_for_change(
            backend,
            "password",
            lambda: kubernetes_version(tmp_path, "02", {"password": "v2"}),
        )
        assert await value(backend, "password") == "v2"

    async def test_plain_directory_entry(self, tmp_path: Path) -> None:
        """Without ``..data``, the entry's own stat is watched."""
        path = tmp_path / "token"
        path.write_text("1")
        backend = make(tmp_path, watch_interval=0.01)
        await wait_for_change(backend, "token", lambda: rewrite(path, "22"))

    async def test_no_change_no_wake(self, tmp_path: Path) -> None:
        """An untouched file yields nothing over several polls."""
        path = tmp_path / "s.json"
        path.write_text('{"a": "1"}')
        backend = make(path, watch_interval=0.001)
        polls = 0
        enough = anyio.Event()
        blocking = backend.run_blocking

        async def spy(func: Callable[..., object], *args: object) -> object:
            nonlocal polls
            polls += 1
            if polls >= 5:
                enough.set()
            return await blocking(func, *args)

        woken: list[None] = []
        with anyio.fail_after(10), pytest.MonkeyPatch.context() as patch:
            patch.setattr(backend, "run_blocking", spy)
            async with aclosing(backend.watch(ref("a"))) as changes:

                async def consume() -> None:
                    async for change in changes:
                        woken.append(change)

                async with anyio.create_task_group() as tg:
                    tg.start_soon(consume)
                    await enough.wait()
                    tg.cancel_scope.cancel()
        assert woken == []

    async def test_escaping_name(self, tmp_path: Path) -> None:
        """Watching an escaping name in a directory is InvalidReference."""
        backend = make(tmp_path, watch_interval=0.01)
        with pytest.raises(InvalidReference):
            await anext(backend.watch(ref("../x")))
