"""``secretkit put`` into real servers, and no value in any output or log."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from .conftest import CANARY
from .test_copy import DB, bao_read

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from tests.azure.fake_keyvault import FakeKeyVault

    from .conftest import Ran


def test_put_into_aws_with_metadata(
    cli: Callable[..., Ran], boto: Any, unique: str
) -> None:
    """A piped value becomes a new secret, then a new version, with its metadata."""
    argv = ("put", f"aws://{unique}/db", "--description", "db", "--tag", "team=ml")
    first = cli(*argv, stdin=json.dumps(DB).encode())
    assert first.code == 0, first.err
    second = cli("put", f"aws://{unique}/db", stdin=b"rotated-" + CANARY.encode())
    assert second.code == 0, second.err
    described = boto.describe_secret(SecretId=f"{unique}/db")
    assert described["Description"] == "db"
    assert described["Tags"] == [{"Key": "team", "Value": "ml"}]
    assert len(described["VersionIdsToStages"]) == 2
    current = boto.get_secret_value(SecretId=f"{unique}/db")["SecretString"]
    assert current == f"rotated-{CANARY}"


def test_put_binary_file_into_aws(
    cli: Callable[..., Ran], boto: Any, tmp_path: Path, unique: str
) -> None:
    """--from-file with non-UTF-8 bytes stores SecretBinary, the same bytes."""
    blob = tmp_path / "key.der"
    blob.write_bytes(b"\x30\x82\xff" + CANARY.encode())
    ran = cli("put", f"aws://{unique}/key", "--from-file", str(blob))
    assert ran.code == 0, ran.err
    stored = boto.get_secret_value(SecretId=f"{unique}/key")["SecretBinary"]
    assert stored == blob.read_bytes()


def test_put_into_vault_and_azure(
    cli: Callable[..., Ran], bao: Any, key_vault: FakeKeyVault, unique: str
) -> None:
    """Vault takes a JSON object; Key Vault text; each refusal is one clear line."""
    value = json.dumps(DB).encode()
    assert cli("put", f"vault://secret/{unique}/db", stdin=value).code == 0
    assert bao_read(bao, f"{unique}/db") == (DB, 1)
    refused = cli("put", f"vault://secret/{unique}/x", "--tag", "a=b", stdin=value)
    assert refused.code == 2
    assert "keeps no stages, tags or descriptions" in refused.err
    assert cli("put", f"azure://{unique}/db", stdin=value).code == 0
    assert key_vault.secrets[f"{unique}-db"][0].value == value.decode()


def test_no_create_on_a_missing_secret(cli: Callable[..., Ran], unique: str) -> None:
    """--no-create refuses to create: exit 3."""
    ran = cli("put", f"aws://{unique}/none", "--no-create", stdin=b"v")
    assert ran.code == 3


def test_canary_in_no_output(
    cli: Callable[..., Ran], boto: Any, files: Path, tmp_path: Path, unique: str
) -> None:
    """Every command of this family, verbose, succeeding or failing, shows no value.

    The ``cli`` fixture asserts the canary's absence on each run; this walks the
    paths that handle values: put, copy (create, unchanged, conflict, failure),
    a dry run, --json and sync.
    """
    files.write_text(json.dumps({unique: {"a": CANARY, "obj": DB}}))
    stdin = CANARY.encode()
    runs = [
        cli("put", f"aws://{unique}/p", stdin=stdin),
        cli("put", f"aws://{unique}/p", CANARY),  # refused: a value argument
        cli("copy", f"file://{unique}/a", f"aws://{unique}/a"),
        cli("copy", f"file://{unique}/a", f"aws://{unique}/a", "--json"),
        cli("copy", f"file://{unique}/obj", f"aws://{unique}/a", "--dry-run"),
        cli("copy", f"file://{unique}/obj", f"aws://{unique}/a"),
        cli("copy", f"file://{unique}/a", f"vault://secret/{unique}/a"),  # not JSON
        cli("copy", f"aws://{unique}/p", f"file://{unique}/p"),  # read-only
        cli("copy", "--prefix", f"aws://{unique}/", f"azure://{unique}/", "--json"),
    ]
    path = tmp_path / "m.toml"
    path.write_text(f'[secrets.a]\nref = "file://{unique}/a"\n')
    runs.append(cli("sync", "--manifest", str(path), "--to", "vault"))
    assert [ran.code for ran in runs] == [0, 2, 0, 0, 6, 6, 2, 2, 0, 2]
    assert any("DEBUG" in ran.err for ran in runs)  # -v was on
