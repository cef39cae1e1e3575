"""``secretkit sync``: every secret a manifest names, copied to one backend."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .conftest import CANARY
from .test_copy import DB, aws_versions

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from .conftest import Ran


def manifest(tmp_path: Path, entries: dict[str, str]) -> Path:
    """A manifest file naming each entry's reference."""
    path = tmp_path / "secretkit-manifest.toml"
    path.write_text(
        "".join(
            f"[secrets.{name}]\nref = {json.dumps(ref)}\n\n"
            for name, ref in entries.items()
        )
    )
    return path


def test_sync_then_rerun(
    cli: Callable[..., Ran],
    boto: Any,
    bao: Any,
    files: Path,
    tmp_path: Path,
    unique: str,
) -> None:
    """Whole secrets go to the same names in --to; a rerun finds them unchanged."""
    files.write_text(json.dumps({unique: {"api": CANARY}}))
    bao.secrets.kv.v2.create_or_update_secret(
        path=f"{unique}/db", secret=DB, mount_point="secret"
    )
    path = manifest(
        tmp_path,
        {
            "db_password": f"vault://secret/{unique}/db#password",
            "db_user": f"vault://secret/{unique}/db#user",  # the same secret
            "api": f"file://{unique}/api",
        },
    )
    first = cli("sync", "--manifest", str(path), "--to", "aws", "--json")
    assert first.code == 0, first.err
    assert first.statuses() == {
        f"aws://secret/{unique}/db": "created",
        f"aws://{unique}/api": "created",
    }
    stored = boto.get_secret_value(SecretId=f"secret/{unique}/db")["SecretString"]
    assert json.loads(stored) == DB
    again = cli("sync", "--manifest", str(path), "--to", "aws")
    assert again.code == 0, again.err
    assert again.out.splitlines()[-1] == "2 unchanged"
    assert aws_versions(boto, f"secret/{unique}/db") == 1


def test_dry_run_and_conflicts(
    cli: Callable[..., Ran], boto: Any, files: Path, tmp_path: Path, unique: str
) -> None:
    """A dry run writes nothing; a different value is a conflict until --overwrite."""
    files.write_text(json.dumps({unique: {"a": "new", "b": CANARY}}))
    boto.create_secret(Name=f"{unique}/b", SecretString="old")
    path = manifest(tmp_path, {"a": f"file://{unique}/a", "b": f"file://{unique}/b"})
    dry = cli("sync", "--manifest", str(path), "--to", "aws", "--dry-run", "--json")
    assert dry.code == 6
    assert dry.statuses() == {
        f"aws://{unique}/a": "create",
        f"aws://{unique}/b": "conflict",
    }
    listed = boto.list_secrets(Filters=[{"Key": "name", "Values": [unique]}])
    assert [s["Name"] for s in listed["SecretList"]] == [f"{unique}/b"]
    kept = cli("sync", "--manifest", str(path), "--to", "aws")
    assert kept.code == 6
    assert boto.get_secret_value(SecretId=f"{unique}/b")["SecretString"] == "old"
    replaced = cli("sync", "--manifest", str(path), "--to", "aws", "--overwrite")
    assert replaced.code == 0, replaced.err
    assert boto.get_secret_value(SecretId=f"{unique}/b")["SecretString"] == CANARY


def test_entries_already_there_and_missing(
    cli: Callable[..., Ran], boto: Any, files: Path, tmp_path: Path, unique: str
) -> None:
    """Entries in --to are left alone; a missing source fails with exit 3."""
    files.write_text("{}")
    boto.create_secret(Name=f"{unique}/here", SecretString="x")
    path = manifest(
        tmp_path,
        {"here": f"aws://{unique}/here", "gone": f"file://{unique}/gone"},
    )
    ran = cli("sync", "--manifest", str(path), "--to", "aws", "--json")
    assert ran.code == 3
    assert ran.statuses() == {f"aws://{unique}/gone": "skipped"}


def test_bad_manifest_and_backend(cli: Callable[..., Ran], tmp_path: Path) -> None:
    """An invalid manifest or an unknown --to backend: exit 2, nothing read."""
    path = tmp_path / "bad.toml"
    path.write_text('[secrets.a]\nref = "aws://a"\ncolour = "red"\n')
    ran = cli("sync", "--manifest", str(path), "--to", "vault")
    assert ran.code == 2
    assert f"{path}:3" in ran.err
    good = manifest(tmp_path, {"a": "aws://a"})
    ran = cli("sync", "--manifest", str(good), "--to", "nosuch")
    assert (ran.code, ran.out) == (2, "")
