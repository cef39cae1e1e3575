"""``secretkit copy`` between real servers: moto, OpenBao, the fake Key Vault, files."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Any

import pytest

from .conftest import CANARY, backends_toml

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.azure._tls import TestCertificates
    from tests.azure.fake_keyvault import FakeKeyVault

    from .conftest import Ran

DB = {"user": "app", "password": CANARY}


def aws_versions(boto: Any, name: str) -> int:
    """How many versions a Secrets Manager secret has."""
    return len(boto.describe_secret(SecretId=name)["VersionIdsToStages"])


def bao_read(bao: Any, path: str) -> tuple[dict[str, Any], int]:
    """A KV v2 secret's data and its current version number."""
    answer = bao.secrets.kv.v2.read_secret_version(
        path=path, mount_point="secret", raise_on_deleted_version=True
    )
    return answer["data"]["data"], answer["data"]["metadata"]["version"]


class TestPairs:
    def test_file_to_aws(
        self, cli: Callable[..., Ran], boto: Any, files: Path, unique: str
    ) -> None:
        """A file's JSON table lands in Secrets Manager as the text the file gives."""
        files.write_text(json.dumps({unique: {"db": DB}}))
        ran = cli("copy", f"file://{unique}/db", f"aws://{unique}/db")
        assert ran.code == 0, ran.err
        assert ran.out.splitlines()[1].split()[:3] == [
            "created",
            f"file://{unique}/db",
            f"aws://{unique}/db",
        ]
        stored = boto.get_secret_value(SecretId=f"{unique}/db")["SecretString"]
        assert json.loads(stored) == DB

    def test_vault_to_aws_prefix_then_rerun(
        self, cli: Callable[..., Ran], boto: Any, bao: Any, unique: str
    ) -> None:
        """Every secret under a Vault prefix is copied; a rerun writes nothing."""
        for name in ("db", "api/key", "api/other"):
            bao.secrets.kv.v2.create_or_update_secret(
                path=f"{unique}/{name}",
                secret={"v": f"{CANARY}-{name}"},
                mount_point="secret",
            )
        argv = ("copy", "--prefix", f"vault://secret/{unique}/", f"aws://{unique}/")
        first = cli(*argv, "--json")
        assert first.code == 0, first.err
        names = [f"aws://{unique}/{n}" for n in ("api/key", "api/other", "db")]
        assert first.statuses() == dict.fromkeys(names, "created")
        assert json.loads(
            boto.get_secret_value(SecretId=f"{unique}/api/key")["SecretString"]
        ) == {"v": f"{CANARY}-api/key"}
        again = cli(*argv, "--json")
        assert again.code == 0, again.err
        assert again.statuses() == dict.fromkeys(names, "unchanged")
        assert [aws_versions(boto, n.removeprefix("aws://")) for n in names] == [
            1,
            1,
            1,
        ]

    def test_aws_to_azure_same_bytes_and_metadata(
        self, cli: Callable[..., Ran], boto: Any, key_vault: FakeKeyVault, unique: str
    ) -> None:
        """JSON keeps its exact text; description and tags land as Key Vault tags."""
        text = '{ "user" : "app",\n  "password": "' + CANARY + '" }'
        boto.create_secret(
            Name=f"{unique}/db",
            SecretString=text,
            Description="the app database",
            Tags=[{"Key": "team", "Value": "ml"}],
        )
        ran = cli("copy", f"aws://{unique}/db", f"azure://{unique}/db")
        assert ran.code == 0, ran.err
        (version,) = key_vault.secrets[f"{unique}-db"]  # Azure maps the name itself
        assert version.value == text
        assert version.tags == {"team": "ml", "description": "the app database"}
        again = cli("copy", f"aws://{unique}/db", f"azure://{unique}/db")
        assert again.code == 0
        assert "unchanged" in again.out
        assert len(key_vault.secrets[f"{unique}-db"]) == 1

    def test_azure_content_type_carried_to_azure(
        self, cli: Callable[..., Ran], key_vault: FakeKeyVault, unique: str
    ) -> None:
        """A content type goes along to a destination whose put takes one."""
        key_vault.seed(f"{unique}-src", CANARY, content_type="text/plain")
        ran = cli("copy", f"azure://{unique}-src", f"azure://{unique}-dst")
        assert ran.code == 0, ran.err
        assert key_vault.secrets[f"{unique}-dst"][0].content_type == "text/plain"

    def test_aws_to_vault_drops_what_kv_cannot_keep(
        self, cli: Callable[..., Ran], boto: Any, bao: Any, unique: str
    ) -> None:
        """A JSON secret reaches Vault; the tags KV cannot keep are reported dropped."""
        boto.create_secret(
            Name=f"{unique}/db",
            SecretString=json.dumps(DB),
            Tags=[{"Key": "team", "Value": "ml"}],
        )
        ran = cli("copy", f"aws://{unique}/db", f"vault://secret/{unique}/db", "--json")
        assert ran.code == 0, ran.err
        (row,) = ran.json()["secrets"]
        assert (row["status"], row["dropped"]) == ("created", ["tags"])
        assert bao_read(bao, f"{unique}/db") == (DB, 1)
        again = cli("copy", f"aws://{unique}/db", f"vault://secret/{unique}/db")
        assert (again.code, bao_read(bao, f"{unique}/db")[1]) == (0, 1)

    def test_file_to_vault_needs_json_objects(
        self, cli: Callable[..., Ran], bao: Any, files: Path, unique: str
    ) -> None:
        """A JSON object copies to Vault; plain text fails that secret alone, exit 2."""
        files.write_text(json.dumps({unique: {"db": DB, "token": CANARY}}))
        ran = cli("copy", f"file://{unique}/db", f"vault://secret/{unique}/whole")
        assert ran.code == 0, ran.err
        assert bao_read(bao, f"{unique}/whole")[0] == DB
        ran = cli("copy", f"file://{unique}/token", f"vault://secret/{unique}/text")
        assert ran.code == 2
        assert "JSON object" in ran.err

    def test_binary_stays_binary(
        self, cli: Callable[..., Ran], boto: Any, key_vault: FakeKeyVault, unique: str
    ) -> None:
        """A binary secret copies as the same bytes; Key Vault (text only) refuses."""
        blob = b"\x00\xff\xfe" + CANARY.encode()
        boto.create_secret(Name=f"{unique}/blob", SecretBinary=blob)
        ran = cli("copy", f"aws://{unique}/blob", f"aws://{unique}/copy")
        assert ran.code == 0, ran.err
        assert boto.get_secret_value(SecretId=f"{unique}/copy")["SecretBinary"] == blob
        refused = cli("copy", f"aws://{unique}/blob", f"azure://{unique}/blob")
        assert refused.code == 2
        assert "failed" in refused.out
        assert "Key Vault stores text" in refused.out
        assert f"{unique}-blob" not in key_vault.secrets

    def test_read_only_destination(
        self, cli: Callable[..., Ran], boto: Any, files: Path, unique: str
    ) -> None:
        """The file backend cannot be written: the copy fails with exit 2, clearly."""
        files.write_text("{}")
        boto.create_secret(Name=f"{unique}/db", SecretString="x")
        ran = cli("copy", f"aws://{unique}/db", f"file://{unique}/db")
        assert ran.code == 2
        assert "does not support put" in ran.out
        assert ran.err.splitlines()[-1].startswith("secretkit: error: 1 of 1 secrets")


class TestSafety:
    def test_dry_run_writes_nothing(
        self, cli: Callable[..., Ran], boto: Any, files: Path, unique: str
    ) -> None:
        """--dry-run prints the plan; no secret is created and no version added."""
        files.write_text(json.dumps({unique: {"new": "n", "same": "s", "diff": "d"}}))
        boto.create_secret(Name=f"{unique}/same", SecretString="s")
        boto.create_secret(Name=f"{unique}/diff", SecretString="other")
        argv = (
            "copy",
            "--prefix",
            f"file://{unique}/",
            f"aws://{unique}/",
            "--dry-run",
        )
        ran = cli(*argv, "--json")
        assert ran.code == 6  # the conflict
        assert ran.json()["dry_run"] is True
        assert ran.statuses() == {
            f"aws://{unique}/diff": "conflict",
            f"aws://{unique}/new": "create",
            f"aws://{unique}/same": "unchanged",
        }
        replacing = cli(*argv, "--overwrite")
        assert replacing.code == 0, replacing.err
        assert "dry run: " in replacing.out
        assert "nothing written" in replacing.out
        listed = boto.list_secrets(Filters=[{"Key": "name", "Values": [unique]}])
        assert sorted(s["Name"] for s in listed["SecretList"]) == [
            f"{unique}/diff",
            f"{unique}/same",
        ]
        assert aws_versions(boto, f"{unique}/diff") == 1
        assert (
            boto.get_secret_value(SecretId=f"{unique}/diff")["SecretString"] == "other"
        )

    def test_overwrite_protection(
        self, cli: Callable[..., Ran], boto: Any, files: Path, unique: str
    ) -> None:
        """A different value is a conflict (exit 6) until --overwrite replaces it."""
        files.write_text(json.dumps({unique: CANARY}))
        boto.create_secret(Name=unique, SecretString="old")
        refused = cli("copy", f"file://{unique}", f"aws://{unique}")
        assert refused.code == 6
        assert "conflict" in refused.out
        assert "--overwrite" in refused.err.splitlines()[-1]
        assert boto.get_secret_value(SecretId=unique)["SecretString"] == "old"
        replaced = cli("copy", f"file://{unique}", f"aws://{unique}", "--overwrite")
        assert replaced.code == 0, replaced.err
        assert "updated" in replaced.out
        assert boto.get_secret_value(SecretId=unique)["SecretString"] == CANARY
        previous = boto.get_secret_value(SecretId=unique, VersionStage="AWSPREVIOUS")
        assert previous["SecretString"] == "old"

    def test_failure_midway_then_rerun(
        self,
        cli: Callable[..., Ran],
        boto: Any,
        bao: Any,
        tmp_path: Path,
        moto_url: str,
        vault_url: str,
        key_vault: FakeKeyVault,
        certs: TestCertificates,
        files: Path,
        unique: str,
    ) -> None:
        """A destination refusing one secret: the table says what was and was not
        done, the exit code says why, and a rerun with access finishes the job."""
        bao.sys.create_or_update_policy(
            name=unique,
            policy=f"""
path "secret/data/{unique}/*" {{ capabilities = ["create", "update", "read"] }}
path "secret/data/{unique}/c" {{ capabilities = ["read"] }}
""",
        )
        token = bao.auth.token.create(policies=[unique], ttl="1h")["auth"][
            "client_token"
        ]
        narrow = tmp_path / "narrow.toml"
        narrow.write_text(
            backends_toml(moto_url, vault_url, key_vault.url, certs, files, token)
        )
        for name in "abcd":
            boto.create_secret(Name=f"{unique}/{name}", SecretString=json.dumps(DB))
        argv = ("copy", "--prefix", f"aws://{unique}/", f"vault://secret/{unique}/")
        first = cli(*argv, config_path=narrow)
        assert first.code == 4  # access denied
        rows = {
            line.split()[2]: line.split()[0] for line in first.out.splitlines()[1:-1]
        }
        assert rows == {
            f"vault://secret/{unique}/a": "created",
            f"vault://secret/{unique}/b": "created",
            f"vault://secret/{unique}/c": "failed",
            f"vault://secret/{unique}/d": "created",
        }
        assert "1 of 4 secrets not copied" in first.err
        second = cli(*argv, "--json")
        assert second.code == 0, second.err
        assert second.statuses() == {
            f"vault://secret/{unique}/a": "unchanged",
            f"vault://secret/{unique}/b": "unchanged",
            f"vault://secret/{unique}/c": "created",
            f"vault://secret/{unique}/d": "unchanged",
        }
        assert [bao_read(bao, f"{unique}/{n}")[1] for n in "abcd"] == [1, 1, 1, 1]

    def test_missing_source_exits_3(self, cli: Callable[..., Ran], unique: str) -> None:
        """A source that does not exist: a skipped row and exit code 3."""
        ran = cli("copy", f"aws://{unique}/none", f"vault://secret/{unique}/none")
        assert ran.code == 3
        assert "skipped" in ran.out

    @pytest.mark.parametrize(
        "argv",
        [
            ("copy", "aws://a#password", "vault://secret/a"),
            ("copy", "aws://a", "vault://secret/a?version=2"),
            ("copy", "aws://a", "aws://a"),
            ("copy", "nosuch://a", "aws://a"),
            ("copy", "--prefix", "aws://a?x", "vault://secret/a/"),
        ],
    )
    def test_bad_arguments_exit_2(
        self, cli: Callable[..., Ran], argv: tuple[str, ...]
    ) -> None:
        """Bad references, a self-copy and unknown backends: exit 2 before any I/O."""
        ran = cli(*argv)
        assert (ran.code, ran.out) == (2, "")
        assert ran.err.splitlines()[-1].startswith("secretkit: error: ")


def test_help_has_examples(cli: Callable[..., Ran]) -> None:
    """copy --help and sync --help show examples and the exit codes."""
    for command, example in (
        ("copy", "secretkit copy file://app/db aws://app/db"),
        ("sync", "secretkit sync --manifest"),
    ):
        ran = cli(command, "--help")
        assert ran.code == 0
        assert example in ran.out
        assert "6    conflicts" in ran.out


def test_progress_on_a_terminal_only(
    cli: Callable[..., Ran],
    files: Path,
    monkeypatch: pytest.MonkeyPatch,
    unique: str,
) -> None:
    """Many secrets show ``copied N/M`` on a terminal's stderr, nothing on a pipe."""
    files.write_text(json.dumps({unique: {f"s{i:02}": str(i) for i in range(24)}}))
    piped = cli("copy", "--prefix", f"file://{unique}/", f"aws://{unique}/piped/")
    assert piped.code == 0, piped.err
    assert "copied" not in piped.err
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    shown = cli("copy", "--prefix", f"file://{unique}/", f"aws://{unique}/tty/")
    assert shown.code == 0, shown.err
    assert "secretkit: copied 1/24" in shown.err
    assert "secretkit: copied 24/24" in shown.err
    assert "copied" not in shown.out
