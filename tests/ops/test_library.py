"""``secretkit.core.transfer`` used as a library, under asyncio and trio."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from secretkit.core import SecretClient, transfer

from .conftest import CANARY
from .test_copy import DB, bao_read

if TYPE_CHECKING:
    from pathlib import Path

    from tests.azure.fake_keyvault import FakeKeyVault


async def test_aws_to_azure_and_vault(
    config: Path, boto: Any, bao: Any, key_vault: FakeKeyVault, unique: str
) -> None:
    """Asyncio-only and blocking SDKs copy under either loop; a rerun is a no-op."""
    for name in ("a", "b"):
        boto.create_secret(Name=f"{unique}/{name}", SecretString=json.dumps(DB))
    async with SecretClient.from_config(config) as client:
        pairs = await transfer.prefix_pairs(client, f"aws://{unique}/", f"{unique}/")
        to_azure = [(src, f"azure://{dst.name}") for src, dst in pairs]
        to_vault = [(src, f"vault://secret/{dst.name}") for src, dst in pairs]
        report = await transfer.apply(client, await transfer.plan(client, to_azure))
        report_vault = await transfer.apply(
            client, await transfer.plan(client, to_vault)
        )
        again = await transfer.plan(client, to_azure + to_vault)
    assert report.ok, report.errors()
    assert report_vault.ok, report_vault.errors()
    assert again.counts() == {"unchanged": 4}
    assert json.loads(key_vault.secrets[f"{unique}-a"][0].value) == DB
    assert bao_read(bao, f"{unique}/b") == (DB, 1)
    assert CANARY not in repr(again) + repr(report)
