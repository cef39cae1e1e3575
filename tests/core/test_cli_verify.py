"""``secretkit verify``: table, --json, statuses and exit codes; the fetch behind it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import anyio
import pytest

from secretkit.core import SecretClient, hookimpl, plugins
from secretkit.core._cli_manifest import fetch, format_age
from secretkit.core.backend import Backend, BackendFactory, SecretInfo, SecretValue
from secretkit.core.manifest import Entry, Expectations
from secretkit.core.plugins import Registry
from secretkit.core.secret import SecretRef
from tests.core.fakes import BatchingBackend, CountingBackend
from tests.core.test_cli import CliTestPlugin, one_error_line, run

if TYPE_CHECKING:
    from pathlib import Path

    from secretkit.core.options import Options

CANARY = "CANARY-manifest-7d3a"
OLD = datetime(2020, 1, 1, tzinfo=UTC)


class DatedBackend(Backend):
    """Values that know their age, or not; ``hang`` never answers.

    ``old``/``fresh`` carry a creation date; ``undated`` has none and cannot be
    described; ``described`` has none but ``describe()`` knows it; ``binary`` is
    not UTF-8.
    """

    async def fetch(self, ref: SecretRef) -> SecretValue:
        if ref.name == "hang":
            await anyio.sleep_forever()
        if ref.name == "binary":
            return SecretValue(value=b"\xff\x00" + CANARY.encode(), version="b1")
        created = {"old": OLD, "fresh": datetime.now(UTC)}.get(ref.name)
        return SecretValue(
            value=f"{CANARY}-{ref.name}-long-enough", version="v7", created=created
        )

    async def describe(self, ref: SecretRef) -> SecretInfo:
        if ref.name != "described":
            raise self._unsupported("describe")
        return SecretInfo(name=ref.name, created=OLD)


def _create_dated(options: Options) -> Backend:
    options.done()
    return DatedBackend()


class ManifestTestPlugin:
    """Registers the ``dated`` backend type."""

    @hookimpl
    def secretkit_register_backends(self) -> list[BackendFactory]:
        return [BackendFactory(type="dated", create=_create_dated)]


def install_plugins(monkeypatch: pytest.MonkeyPatch) -> Registry:
    """Use the installed plugins plus the ``failing`` and ``dated`` test types."""
    fresh = Registry.load()
    fresh.register(CliTestPlugin(), name="cli-test")
    fresh.register(ManifestTestPlugin(), name="manifest-test")
    monkeypatch.setattr(plugins, "_registry", fresh)
    for name in list(os.environ):
        if name.startswith("SECRETKIT_"):
            monkeypatch.delenv(name)
    return fresh


def write_config(tmp_path: Path) -> Path:
    """A config: a JSON file (default), the dated and the failing backends."""
    secrets = tmp_path / "secrets.json"
    secrets.write_text(
        json.dumps(
            {
                "db": {"user": "svc", "password": f"{CANARY}-db-password"},
                "api": f"{CANARY}-api",
            }
        )
    )
    path = tmp_path / "secretkit.toml"
    path.write_text(
        f'default = "file"\n[backends.file]\npath = {json.dumps(str(secrets))}\n'
        "[backends.dated]\n[backends.failing]\n"
    )
    return path


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The test plugins installed, and a config using them."""
    install_plugins(monkeypatch)
    return write_config(tmp_path)


def manifest(tmp_path: Path, text: str) -> Path:
    """Write a manifest file; return its path."""
    path = tmp_path / "secretkit-manifest.toml"
    path.write_text(text)
    return path


def verify(capsys, config: Path, path: Path, *more: str) -> tuple[int, str, str]:
    """Run ``secretkit --config CONFIG verify --manifest PATH ...``."""
    return run(
        capsys, "--config", str(config), "verify", "--manifest", str(path), *more
    )


GOOD = """\
[secrets.db_password]
ref = "db#password"
min_length = 16
[secrets.db]
ref = "db"
fields = ["user", "password"]
[secrets.fresh]
ref = "dated://fresh"
max_age = "1d"
"""


class TestVerify:
    def test_all_ok_is_a_table_and_exit_zero(self, capsys, config, tmp_path) -> None:
        """Every secret ok: a table of name, backend, version, age, status; exit 0."""
        code, out, err = verify(capsys, config, manifest(tmp_path, GOOD))
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[0].split() == ["NAME", "BACKEND", "VERSION", "AGE", "STATUS"]
        rows = {line.split()[0]: line.split() for line in lines[1:]}
        assert rows["db_password"][1] == "file"
        assert rows["fresh"][1:] == ["dated", "v7", "0s", "ok"]
        assert all(row[-1] == "ok" for row in rows.values())
        assert CANARY not in out + err

    def test_every_status(self, capsys, config, tmp_path) -> None:
        """missing, denied, unavailable, error and failed each show; exit 1."""
        path = manifest(
            tmp_path,
            '[secrets.gone]\nref = "nothing"\n'
            '[secrets.denied]\nref = "failing://denied"\n'
            '[secrets.nocreds]\nref = "failing://nocreds"\n'
            '[secrets.down]\nref = "failing://down"\n'
            '[secrets.broken]\nref = "failing://broken"\n'
            '[secrets.nofield]\nref = "db"\nfields = ["token"]\n'
            '[secrets.short]\nref = "api"\nmin_length = 500\n'
            '[secrets.old]\nref = "dated://old"\nmax_age = "90d"\n'
            '[secrets.ageless]\nref = "api"\nmax_age = "90d"\n'
            '[secrets.fine]\nref = "api"\n',
        )
        code, out, err = verify(capsys, config, path)
        assert code == 1
        status = {line.split()[0]: line for line in out.splitlines()[1:]}
        assert "  missing: " in status["gone"]
        assert "  denied: denied went wrong" in status["denied"]
        assert "  denied: " in status["nocreds"]
        assert "  unavailable: " in status["down"]
        assert "  error: broken went wrong" in status["broken"]
        assert "failed: secret 'db' has no field 'token'" in status["nofield"]
        assert "failed: shorter than min_length 500" in status["short"]
        assert "failed: older than max_age 90d (" in status["old"]
        assert "failed: max_age 90d: the backend does not say" in status["ageless"]
        assert status["fine"].rstrip().endswith("ok")
        assert err == "secretkit: verify: 9 of 10 secrets not ok\n"
        assert CANARY not in out + err

    def test_json_report(self, capsys, config, tmp_path) -> None:
        """--json prints one object with a record per secret, and the same exit code."""
        path = manifest(
            tmp_path, GOOD + '[secrets.old]\nref = "dated://old"\nmax_age = 60\n'
        )
        code, out, _ = verify(capsys, config, path, "--json")
        report = json.loads(out)
        assert code == 1
        assert report["ok"] is False
        assert report["manifest"] == str(path)
        records = {record["name"]: record for record in report["secrets"]}
        assert records["db"]["status"] == "ok"
        assert records["db"]["detail"] is None
        assert records["old"]["status"] == "failed"
        assert records["old"]["version"] == "v7"
        assert records["old"]["created"] == OLD.isoformat()
        assert records["old"]["age_seconds"] > 365 * 86400
        assert records["fresh"]["ref"] == "dated://fresh"
        assert CANARY not in out

    def test_age_from_describe(self, capsys, config, tmp_path) -> None:
        """A backend that says no age on fetch is asked through describe()."""
        path = manifest(tmp_path, '[secrets.d]\nref = "dated://described"\n')
        code, out, _ = verify(capsys, config, path, "--json")
        (record,) = json.loads(out)["secrets"]
        assert code == 0
        assert record["age_seconds"] > 365 * 86400

    def test_invalid_manifest_exits_2_before_fetching(
        self, capsys, config, tmp_path
    ) -> None:
        """Problems in the manifest are one error line with file:line; exit 2."""
        path = manifest(tmp_path, '[secrets.db]\nreff = "db"\n')
        code, out, err = verify(capsys, config, path)
        assert (code, out) == (2, "")
        line = one_error_line(err)
        assert f"{path}:2: unknown key 'reff' in secrets.db" in line
        assert f"{path}:1: secrets.db needs ref" in line

    def test_unknown_backend_points_into_the_manifest(
        self, capsys, config, tmp_path
    ) -> None:
        """A reference to a backend that is not there fails before any fetch."""
        path = manifest(
            tmp_path, '[secrets.a]\nref = "api"\n[secrets.b]\nref = "nope://x"\n'
        )
        code, out, err = verify(capsys, config, path)
        assert (code, out) == (2, "")
        assert f"{path}:3: b: no backend 'nope'" in one_error_line(err)

    def test_timeout_marks_the_late_ones(self, capsys, config, tmp_path) -> None:
        """Secrets not fetched within --timeout are unavailable; the rest reported."""
        path = manifest(tmp_path, '[secrets.h]\nref = "dated://hang"\n')
        code, out, _ = verify(capsys, config, path, "--timeout", "0.05")
        assert code == 1
        assert "unavailable: no answer within 0.05 seconds" in out

    def test_help_has_an_example_and_exit_codes(self, capsys) -> None:
        """verify --help shows an example and the exit codes."""
        code, out, _ = run(capsys, "verify", "--help")
        assert code == 0
        assert "secretkit verify --manifest" in out
        assert "1    at least one secret is not ok" in out

    def test_bad_timeout_is_a_usage_error(self, capsys) -> None:
        """--timeout must be a positive number."""
        code, _, err = run(capsys, "verify", "--timeout", "0")
        assert code == 2
        assert "positive number" in err


def _entries(refs: list[str], **expect: object) -> list[Entry]:
    return [
        Entry(
            name=f"e{i}",
            ref=SecretRef.parse(ref),
            line=i + 1,
            env=f"E{i}",
            file=f"e{i}",
            expect=Expectations(**expect),  # type: ignore[arg-type]
        )
        for i, ref in enumerate(refs)
    ]


class TestFetch:
    async def test_outcomes_in_order_one_call_per_secret(
        self, counting: CountingBackend
    ) -> None:
        """Many entries (with repeats and fields) cost one backend call per secret."""
        refs = [f"s{i % 30}" for i in range(45)] + ["s1#user"]
        async with SecretClient(default="t", backends={"t": counting}) as client:
            outcomes = await fetch(client, _entries(refs), within=10)
        assert [o.entry.ref for o in outcomes] == [SecretRef.parse(r) for r in refs]
        assert all(o.status == "ok" for o in outcomes)
        assert counting.calls == 30

    async def test_batch_backends_get_chunks(self) -> None:
        """A backend with a batch API gets a batch call per chunk of 20."""
        batching = BatchingBackend()
        async with SecretClient(default="t", backends={"t": batching}) as client:
            outcomes = await fetch(
                client, _entries([f"s{i}" for i in range(50)]), within=10
            )
        assert sorted(len(batch) for batch in batching.batches) == [10, 20, 20]
        assert {o.secret.reveal() for o in outcomes if o.secret} == {
            f"batched-s{i}" for i in range(50)
        }

    async def test_one_failure_fails_no_other(self, counting: CountingBackend) -> None:
        """A missing secret is its own outcome; the others are ok."""
        counting.missing = {"gone"}
        async with SecretClient(default="t", backends={"t": counting}) as client:
            first, second = await fetch(client, _entries(["gone", "here"]), within=10)
        assert (first.status, second.status) == ("missing", "ok")
        assert first.detail == "no secret 'gone'"

    async def test_age_is_measured_at_now(self) -> None:
        """Ages are taken at the given time, so max_age is checked against it."""
        dated = DatedBackend()
        entries = _entries(["old"], max_age=timedelta(days=30))
        async with SecretClient(default="d", backends={"d": dated}) as client:
            (early,) = await fetch(client, entries, within=10, now=OLD)
            (late,) = await fetch(
                client, entries, within=10, now=OLD + timedelta(days=31)
            )
        assert (early.age, early.status) == (timedelta(0), "ok")
        assert (late.age, late.status) == (timedelta(days=31), "failed")


@pytest.mark.parametrize(
    ("age", "shown"),
    [
        (None, "-"),
        (timedelta(seconds=45), "45s"),
        (timedelta(seconds=119), "119s"),
        (timedelta(minutes=1), "1m"),
        (timedelta(minutes=30), "30m"),
        (timedelta(hours=12), "12h"),
        (timedelta(days=1), "1d"),
        (timedelta(hours=36), "36h"),
        (timedelta(days=90), "90d"),
    ],
)
def test_format_age(age: timedelta | None, shown: str) -> None:
    """Ages show in the largest unit that loses little."""
    assert format_age(age) == shown
