"""Manifests: the TOML format, its defaults, every problem reported with file:line."""

from __future__ import annotations

import re
import string
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from secretkit.core.errors import ConfigurationError
from secretkit.core.manifest import (
    Entry,
    Expectations,
    Manifest,
    find_manifest,
    load_manifest,
)
from secretkit.core.secret import SecretRef

if TYPE_CHECKING:
    from pathlib import Path

GOOD = """\
# the secrets the service needs
[secrets.db_password]
ref = "aws://prod/db#password"
env = "DB_PASSWORD"
file = "db/password"
min_length = 16
max_age = "90d"

[secrets."api.key"]
ref = "api/keys"
fields = ["openai", "/hf/token"]
"""


@pytest.fixture(autouse=True)
def _elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test runs in an empty directory, without SECRETKIT_CONFIG."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("SECRETKIT_CONFIG", raising=False)


def problems(path: Path) -> list[str]:
    """Load ``path``, expect a ConfigurationError, return its problems one by one."""
    with pytest.raises(ConfigurationError) as caught:
        load_manifest(path)
    return caught.value.message.split("; ")


def write(tmp_path: Path, text: str, name: str = "secretkit-manifest.toml") -> Path:
    """Write a manifest file; return its path."""
    path = tmp_path / name
    path.write_text(text)
    return path


class TestGood:
    def test_entries_in_order_with_everything_read(self, tmp_path: Path) -> None:
        """Every key is read; entries keep the file's order and their lines."""
        manifest = load_manifest(write(tmp_path, GOOD))
        assert isinstance(manifest, Manifest)
        db, api = manifest.entries
        assert db == Entry(
            name="db_password",
            ref=SecretRef.parse("aws://prod/db#password"),
            line=2,
            env="DB_PASSWORD",
            file="db/password",
            expect=Expectations(min_length=16, max_age=timedelta(days=90)),
        )
        assert (api.name, api.line) == ("api.key", 9)
        assert api.expect.fields == ("openai", "/hf/token")

    def test_defaults_come_from_the_name(self, tmp_path: Path) -> None:
        """env is the name upper-cased with other characters as _; file is the name."""
        path = write(
            tmp_path, '[secrets."my-api.key"]\nref = "x"\n[secrets.9s]\nref = "y"'
        )
        first, second = load_manifest(path).entries
        assert (first.env, first.file) == ("MY_API_KEY", "my-api.key")
        assert second.env == "_9S"
        assert first.expect == Expectations()

    @pytest.mark.parametrize(
        ("text", "seconds"),
        [("90d", 90 * 86400), ("12h", 43200), ("30m", 1800), ("45s", 45), ("7", 7)],
    )
    def test_durations(self, tmp_path: Path, text: str, seconds: int) -> None:
        """max_age takes days, hours, minutes, seconds, or bare seconds."""
        path = write(tmp_path, f'[secrets.a]\nref = "a"\nmax_age = "{text}"\n')
        assert load_manifest(path).entries[0].expect.max_age == timedelta(
            seconds=seconds
        )

    def test_numeric_max_age_is_seconds(self, tmp_path: Path) -> None:
        """A TOML number for max_age is seconds."""
        path = write(tmp_path, '[secrets.a]\nref = "a"\nmax_age = 3600\n')
        assert load_manifest(path).entries[0].expect.max_age == timedelta(hours=1)

    def test_inline_tables(self, tmp_path: Path) -> None:
        """An entry written as an inline table reads the same."""
        path = write(tmp_path, '[secrets]\ndb = { ref = "db", env = "DB" }\n')
        (entry,) = load_manifest(path).entries
        assert (entry.name, entry.env, entry.line) == ("db", "DB", 2)


class TestWhereItLives:
    def test_section_of_secretkit_toml(self, tmp_path: Path) -> None:
        """A secretkit.toml holds the manifest under [manifest.secrets.NAME]."""
        write(
            tmp_path,
            'default = "file"\n[backends.file]\npath = "s.json"\n\n'
            '[manifest.secrets.db]\nref = "db"\n',
            "secretkit.toml",
        )
        manifest = load_manifest()
        assert manifest.path.name == "secretkit.toml"
        assert [(e.name, e.line) for e in manifest.entries] == [("db", 5)]

    def test_section_of_pyproject(self, tmp_path: Path) -> None:
        """A pyproject.toml holds it under [tool.secretkit.manifest.secrets.NAME]."""
        write(
            tmp_path,
            '[project]\nname = "x"\n[tool.secretkit.manifest.secrets.db]\nref = "db"\n',
            "pyproject.toml",
        )
        assert str(find_manifest()) == "pyproject.toml"
        (entry,) = load_manifest().entries
        assert (entry.name, entry.line) == ("db", 3)

    def test_own_file_when_the_config_has_none(self, tmp_path: Path) -> None:
        """Without a manifest table in the config, ./secretkit-manifest.toml is used."""
        write(tmp_path, 'default = "env"\n', "secretkit.toml")
        write(tmp_path, '[secrets.a]\nref = "a"\n')
        assert str(find_manifest()) == "secretkit-manifest.toml"
        assert load_manifest().entries[0].name == "a"

    def test_secretkit_config_variable(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """SECRETKIT_CONFIG names the configuration file searched first."""
        other = write(tmp_path, '[manifest.secrets.b]\nref = "b"\n', "other.toml")
        write(tmp_path, '[secrets.a]\nref = "a"\n')
        monkeypatch.setenv("SECRETKIT_CONFIG", str(other))
        assert load_manifest().entries[0].name == "b"

    def test_none_found(self) -> None:
        """No manifest anywhere is one error saying where to put one."""
        assert find_manifest() is None
        with pytest.raises(ConfigurationError, match="no manifest found"):
            load_manifest()

    def test_missing_file(self, tmp_path: Path) -> None:
        """A path that does not exist says so."""
        with pytest.raises(ConfigurationError, match="no such file"):
            load_manifest(tmp_path / "nope.toml")


class TestProblems:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            (
                '[secrets.db]\nref = "db"\nreff = "x"\n',
                ":3: unknown key 'reff' in secrets.db (did you mean 'ref'?)",
            ),
            (
                '[secret.db]\nref = "db"\n',
                ":1: unknown key 'secret' (did you mean 'secrets'?)",
            ),
            ('[secrets.db]\nenv = "X"\n', ":1: secrets.db needs ref ="),
            ("[secrets.db]\nref = 3\n", ":2: secrets.db needs ref ="),
            (
                '[secrets.db]\nref = "aws://"\n',
                ":2: ref in secrets.db: invalid secret "
                "reference: missing secret name at position 6",
            ),
            ('[secrets.db]\nref = "db?v=1"\n', ":2: ref in secrets.db: invalid"),
            ('[secrets.db]\nref = "db"\nenv = "1X"\n', ":3: env in secrets.db is '1X'"),
            ('[secrets.db]\nref = "db"\nenv = 5\n', ":3: env in secrets.db is int"),
            ('[secrets."a b"]\nref = "db"\n', ':1: secrets."a b": a name holds'),
            ('[secrets.db]\nref = "db"\nfile = "../etc/x"\n', ":3: file in secrets.db"),
            ('[secrets.db]\nref = "db"\nfile = "/abs"\n', ":3: file in secrets.db"),
            ('[secrets.db]\nref = "db"\nfile = "a//b"\n', ":3: file in secrets.db"),
            ('[secrets.db]\nref = "db"\nfields = "x"\n', ":3: secrets.db.fields must"),
            (
                '[secrets.db]\nref = "db"\nfields = ["/a~2"]\n',
                ":3: secrets.db.fields: ",
            ),
            ('[secrets.db]\nref = "db"\nmin_length = 0\n', ":3: secrets.db.min_length"),
            ('[secrets.db]\nref = "db"\nmin_length = true\n', ":3: secrets.db.min_len"),
            ('[secrets.db]\nref = "db"\nmax_age = "9x"\n', ":3: secrets.db.max_age mu"),
            ('[secrets.db]\nref = "db"\nmax_age = -1\n', ":3: secrets.db.max_age mu"),
            ("[secrets]\n", ":1: no secrets: add [secrets.NAME] tables"),
            ("title = 'x'\n", ":1: unknown key 'title'"),
            ('[secrets]\ndb = "x"\n', ":2: secrets.db must be a table"),
            (
                '[secrets.a]\nref = "a"\nenv = "X"\n'
                '[secrets.b]\nref = "b"\nenv = "X"\n',
                ":6: env X of secrets.b is also a's",
            ),
            (
                '[secrets.a]\nref = "a"\nfile = "d"\n[secrets.b]\nref = "b"\n'
                'file = "d/x"\n',
                ":6: file 'd/x' of secrets.b collides with a's 'd'",
            ),
            ("[secrets.db\n", ":1: not valid TOML"),
            ('a = 1\n\n[secrets.db]\nref = "x"\nref = "y"\n', ":5: not valid TOML"),
        ],
    )
    def test_each_problem_names_file_and_line(
        self, tmp_path: Path, text: str, expected: str
    ) -> None:
        """Each bad input is one message starting with file:line."""
        path = write(tmp_path, text)
        found = problems(path)
        assert any(
            problem.startswith(str(path)) and expected in problem for problem in found
        ), found

    def test_every_problem_at_once_in_line_order(self, tmp_path: Path) -> None:
        """All problems of a file come in one error, sorted by line."""
        path = write(
            tmp_path,
            '[secrets.a]\nreff = "a"\n\n[secrets.b]\nref = "b"\nmin_length = -3\n'
            '[secrets.c]\nref = "c"\nmax_age = "soon"\n',
        )
        found = problems(path)
        lines = [int(re.match(r".*?:(\d+):", p).group(1)) for p in found]  # type: ignore[union-attr]
        assert lines == sorted(lines)
        assert len(found) == 4  # unknown reff, missing ref, min_length, max_age

    def test_error_carries_key_and_source(self, tmp_path: Path) -> None:
        """The error's key and source point at the first problem."""
        path = write(tmp_path, '[secrets.db]\nref = "db"\nreff = 1\n')
        with pytest.raises(ConfigurationError) as caught:
            load_manifest(path)
        assert caught.value.key == "secrets.db.reff"
        assert caught.value.source == f"{path}:3"

    def test_many_problems_are_counted(self, tmp_path: Path) -> None:
        """Past ten problems, the rest are counted, so the message stays bounded."""
        text = "".join(f'[secrets.s{i}]\nref = "x"\nbad = 1\n' for i in range(15))
        found = problems(write(tmp_path, text))
        assert found[-1] == "and 5 more"
        assert len(found) == 11

    def test_config_without_a_manifest_table(self, tmp_path: Path) -> None:
        """A secretkit.toml given as the manifest but without one says so."""
        path = write(tmp_path, 'default = "env"\n', "secretkit.toml")
        assert problems(path) == [f"{path}:1: no [manifest] table"]

    def test_multiline_strings_do_not_confuse_lines(self, tmp_path: Path) -> None:
        """A key-like line inside a multi-line string is not taken for a key."""
        path = write(
            tmp_path,
            'note = """\n[secrets.x]\nreff = 1\n"""\n'
            '[secrets.db]\nref = "db"\nreff = 2\n',
        )
        found = problems(path)
        assert any(":7: unknown key 'reff' in secrets.db" in p for p in found), found


_NAMES = st.text(string.ascii_letters + string.digits + "_.-", min_size=1, max_size=20)


@given(name=_NAMES.filter(lambda n: n[0] not in ".-"))
def test_default_env_is_always_a_variable_name(name: str) -> None:
    """Any valid entry name gives a valid default variable name."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "m.toml"
        path.write_text(f'[secrets."{name}"]\nref = "x"\n')
        (entry,) = load_manifest(path).entries
    assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", entry.env)
    assert entry.file == name


@given(
    names=st.lists(
        st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
        min_size=1,
        max_size=8,
        unique=True,
    ),
    gaps=st.lists(st.integers(0, 3), min_size=8, max_size=8),
)
def test_lines_match_the_headers(names: list[str], gaps: list[int]) -> None:
    """Each entry's line is its header's, wherever blank lines and comments fall."""
    import tempfile
    from pathlib import Path

    text, expected = "", {}
    for name, gap in zip(names, gaps, strict=False):
        text += "# note\n" * gap
        expected[name] = text.count("\n") + 1
        text += f'[secrets.{name}]\nref = "{name}"\n'
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "m.toml"
        path.write_text(text)
        entries = load_manifest(path).entries
    assert {entry.name: entry.line for entry in entries} == expected
