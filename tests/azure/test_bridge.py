"""Key Vault's challenges reach the credentials: the vault's tenant, CAE, claims."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pytest

from secretkit.azure._bridge import ChainTokenCredential
from secretkit.azure.config import read_settings
from secretkit.azure.credentials import CLAIMS, AzureToken
from secretkit.core.credentials import CredentialProviderFactory, Credentials
from secretkit.core.errors import CredentialError
from secretkit.core.options import Options
from secretkit.core.secret import SecretRef

from ._direct import opened, run
from .fake_keyvault import TENANT

if TYPE_CHECKING:
    from .fake_keyvault import FakeKeyVault

OTHER = "00000000-0000-0000-0000-00000000000b"
SCOPE = "https://vault.azure.net/.default"
CAE = {"access_token": {"xms_cc": {"values": ["CP1"]}}}  # azure-identity's, for CAE
NBF = {"access_token": {"nbf": {"essential": True, "value": "1726258122"}}}


def _bearers(kv: FakeKeyVault) -> list[str]:
    signed = [r for r in kv.vault_requests() if "authorization" in r.headers]
    return [r.headers["authorization"].removeprefix("Bearer ") for r in signed]


class TestTenant:
    """A vault whose challenge names another tenant gets a token of that tenant."""

    async def test_allowed_other_tenant(self, kv, options) -> None:
        """With the tenant allowed, the token is asked for and issued by it."""
        kv.tenants.add(OTHER)
        kv.vault_tenant = OTHER
        kv.seed("a", "v")
        allowed = {**options, "additionally_allowed_tenants": [OTHER]}
        async with opened(allowed) as backend:
            assert (await run(backend.fetch, SecretRef.parse("a"))).value == "v"
            line = await run(backend.check)
        assert [ask.tenant for ask in kv.asked] == [OTHER]
        assert {kv.token_tenants[token] for token in _bearers(kv)} == {OTHER}
        assert f"tenant {OTHER}" in line

    async def test_other_tenant_not_allowed(self, kv, options) -> None:
        """Without it, CredentialError says which tenant and what to allow."""
        kv.tenants.add(OTHER)
        kv.vault_tenant = OTHER
        async with opened(options) as backend:
            with pytest.raises(CredentialError) as caught:
                await run(backend.fetch, SecretRef.parse("a"))
        message = str(caught.value)
        assert "'client_secret'" in message
        assert OTHER in message
        assert "additionally_allowed_tenants" in message
        assert kv.asked == []  # azure-identity refused before asking

    async def test_configured_tenant_is_asked(self, kv, options) -> None:
        """The usual case: the vault's tenant is the configured one, asked with CAE."""
        kv.seed("a", "v")
        async with opened(options) as backend:
            await run(backend.fetch, SecretRef.parse("a"))
        (ask,) = kv.asked
        assert (ask.tenant, ask.scope, ask.claims) == (TENANT, SCOPE, CAE)


async def test_claims_challenge_gets_a_new_token(kv, options) -> None:
    """A revoked token meets a claims challenge; the claims reach Entra ID once."""
    for name in ("a", "b", "c"):
        kv.seed(name, name)
    async with opened(options) as backend:
        await run(backend.fetch, SecretRef.parse("a"))
        (first,) = set(_bearers(kv))
        kv.claims = NBF
        kv.revoked.add(first)
        assert (await run(backend.fetch, SecretRef.parse("b"))).value == "b"
        assert (await run(backend.fetch, SecretRef.parse("c"))).value == "c"
    assert len(kv.asked) == 2
    again = kv.asked[-1]
    assert again.tenant == TENANT
    assert again.claims["access_token"]["nbf"] == NBF["access_token"]["nbf"]
    assert again.claims["access_token"]["xms_cc"] == CAE["access_token"]["xms_cc"]
    bearers = _bearers(kv)
    assert bearers[0] == bearers[1] == first  # a, then b refused by its claims
    assert bearers[2] == bearers[3] != first  # b again, then c: the new token


class TestForwarding:
    """get_token and get_token_info pass tenant, CAE and claims to the providers."""

    def _bridge(self, seen: list[dict[str, Any]]) -> ChainTokenCredential:
        def create(options: Options) -> Any:
            asked = {
                "scope": options.get_str("scope"),
                "tenant": options.get_str("challenge_tenant", None),
                "cae": options.get_bool("enable_cae"),
            }
            options.get_str_list("additionally_allowed_tenants")

            class Provider:
                name = "recorder"

                async def load(self) -> Credentials[AzureToken]:
                    seen.append({**asked, "claims": CLAIMS.get()})
                    expires = int(time.time()) + 3600
                    token = AzureToken(token=f"t{len(seen)}", expires_on=expires)
                    return Credentials(
                        value=token, provider=self.name, expires_at=expires
                    )

            return Provider()

        settings = read_settings(
            Options(
                {"vault_url": "https://v.vault.azure.net"},
                instance="azure",
                source="test",
            ),
            {},
        )
        factory = CredentialProviderFactory(
            kind="azure", name="recorder", create=create
        )
        return ChainTokenCredential(settings, [factory])

    async def test_get_token_info(self) -> None:
        """Options reach the chain; claims force one new load, then it is reused."""
        seen: list[dict[str, Any]] = []
        bridge = self._bridge(seen)
        options: Any = {"tenant_id": OTHER, "enable_cae": True}
        first = await bridge.get_token_info(SCOPE, options=options)
        renewed = await bridge.get_token_info(SCOPE, options={**options, "claims": "c"})
        reused = await bridge.get_token_info(SCOPE, options=options)
        assert (first.token, renewed.token, reused.token) == ("t1", "t2", "t2")
        expected = {"scope": SCOPE, "tenant": OTHER, "cae": True}
        assert seen == [{**expected, "claims": None}, {**expected, "claims": "c"}]
        assert CLAIMS.get() is None  # only for that one load

    async def test_get_token(self) -> None:
        """The older get_token forwards the same keywords."""
        seen: list[dict[str, Any]] = []
        bridge = self._bridge(seen)
        token = await bridge.get_token(SCOPE, tenant_id=OTHER, claims="c")
        assert token.token == "t1"
        assert seen == [{"scope": SCOPE, "tenant": OTHER, "cae": False, "claims": "c"}]
