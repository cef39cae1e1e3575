"""The ``azure`` backend: secrets in one Azure Key Vault.

``azure://mlflow-auth#token`` reads the current version, ``?version=<id>`` a given
one. Our names map to Key Vault's (letters, digits, dashes) by ``name_map``, so
``azure://mlflow/auth`` reads ``mlflow-auth``. A value is Key Vault's text;
``content_type``, ``enabled``, ``not_before``, ``expires_on``, ``tags`` and the
rest come back as metadata. A disabled, expired or not yet valid version raises
``SecretNotFound`` saying which: Key Vault returns expired values, we do not.
Key Vault has no batch read: ``fetch_many`` (what ``get_many`` calls) reads
concurrently, at most ``max_concurrency`` requests of one backend in flight.

Several vaults are several instances: ``backends={"kv-prod": {"type": "azure",
"vault_url": ...}}``. For migration tools there are ``put``, ``delete`` (soft,
``force`` also purges), ``recover``, ``describe`` and ``list``; ``check`` serves
``secretkit doctor``.
"""

from __future__ import annotations

__all__ = ("KeyVaultBackend",)

from typing import TYPE_CHECKING, Any, final

import anyio

from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import NotSupported, SecretkitError, SecretNotFound

from ._client import VaultClient
from ._convert import from_bundle, metadata, to_info, unusable
from ._names import NameMap
from .credentials import describe
from .errors import map_errors

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping, Sequence
    from contextlib import AbstractContextManager
    from datetime import datetime

    from secretkit.core.backend import SecretInfo
    from secretkit.core.plugins import Registry
    from secretkit.core.secret import SecretRef

    from .config import AzureSettings


@final
class KeyVaultBackend(Backend):
    """Secrets in Azure Key Vault, through the aio SDK.

    :param settings: vault URL, credential, name mapping, retries, timeouts
    :param name: the instance name this backend is configured under
    :param clock: the time in epoch seconds, for token expiry (tests pass theirs)
    :param plugins: the registry whose ``azure`` credential factories make the
        token chain (default: the installed plugins)
    :ivar names: our names to Key Vault's and back
    """

    def __init__(
        self,
        settings: AzureSettings,
        *,
        name: str = "azure",
        clock: Callable[[], float] | None = None,
        plugins: Registry | None = None,
    ) -> None:
        self.name = name
        self.settings = settings
        self.names = NameMap(settings.name_map, settings.names, backend=name)
        self.vault = VaultClient(settings, clock=clock, plugins=plugins)

    def __repr__(self) -> str:
        return f"KeyVaultBackend({self.name!r}, vault_url={self.settings.vault_url!r})"

    def _errors(self, operation: str, ref: str | None) -> AbstractContextManager[None]:
        return map_errors(
            operation,
            vault=self.settings.vault_url,
            credential=self.settings.credential,
            ref=ref,
            backend=self.name,
        )

    def _vault_name(self, ref: SecretRef, what: str) -> str:
        if ref.stage is not None:
            raise NotSupported(
                f"Key Vault has no stages: drop ?stage= from {ref.name!r} "
                f"({what} takes ?version=<id>)",
                ref=ref.name,
                backend=self.name,
            )
        return self.names.to_vault(ref.name)

    async def fetch(self, ref: SecretRef) -> SecretValue:
        """Read the current version of a secret, or its ``?version=``.

        :raises SecretNotFound: no such secret or version; or it is disabled,
            expired or not yet valid (the message says which)
        :raises AccessDenied: the access policy, RBAC or the firewall refused
        :raises CredentialError: no usable credential
        :raises BackendUnavailable: unreachable, or throttling after retries
        :raises InvalidReference: no valid Key Vault name for ``ref.name``
        """
        vault_name = self._vault_name(ref, "fetch")
        with self._errors("get_secret", vault_name):
            bundle = await self.vault.read(vault_name, ref.version)
        value = from_bundle(bundle)
        reason = unusable(value.metadata)
        if reason is not None:
            raise SecretNotFound(
                f"Key Vault secret {vault_name!r} in {self.settings.vault_url}: "
                f"{reason}",
                ref=ref.name,
                backend=self.name,
            )
        return value

    async def fetch_many(
        self, refs: Sequence[SecretRef]
    ) -> Mapping[SecretRef, SecretValue | SecretkitError]:
        """Read several secrets concurrently: Key Vault has no batch read.

        ``max_concurrency`` workers, one per pooled connection, take the refs in
        turn. More would not send sooner: the pool holds their requests back, and
        building them up front delays reading the answers that free connections.
        Under trio the whole batch crosses to the SDK's loop once, not per ref.

        :return: for every ref, its value or its own error
        """
        outcomes: dict[SecretRef, SecretValue | SecretkitError] = {}
        pending = iter(refs)

        async def worker() -> None:
            for ref in pending:
                try:
                    outcomes[ref] = await self.fetch(ref)
                except SecretkitError as exc:
                    outcomes[ref] = exc

        async with anyio.create_task_group() as tg:
            for _ in range(min(len(refs), self.settings.max_concurrency)):
                tg.start_soon(worker)
        return outcomes

    async def put(
        self,
        ref: SecretRef,
        value: str | bytes,
        *,
        create: bool = True,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        stages: Sequence[str] = (),
        content_type: str | None = None,
        expires_on: datetime | None = None,
        not_before: datetime | None = None,
    ) -> SecretValue:
        """Store a new version (Key Vault picks its id); it becomes the current one.

        Key Vault keeps text only and has no description: ``description`` is kept
        as the tag ``description``.

        :param create: create the secret when it does not exist yet
        :param description: stored as the tag ``description``
        :param tags: the new version's tags
        :param stages: must be empty: Key Vault has no stages
        :param content_type: the new version's content type
        :param expires_on: when the new version expires
        :param not_before: when it becomes valid
        :return: what was stored, with the new version id
        :raises NotSupported: bytes, stages, or a ``?version=`` to write
        :raises SecretNotFound: ``create=False`` and no such secret
        """
        if isinstance(value, bytes):
            raise NotSupported(
                f"Key Vault stores text: encode the bytes for {ref.name!r} (base64) "
                "and set content_type",
                ref=ref.name,
                backend=self.name,
            )
        if stages or ref.version is not None:
            raise NotSupported(
                f"Key Vault has no stages and picks version ids: drop stages and "
                f"?version= to write {ref.name!r}",
                ref=ref.name,
                backend=self.name,
            )
        vault_name = self._vault_name(ref, "put")
        client = self.vault.get()
        if not create:
            with self._errors("list_properties_of_secret_versions", vault_name):
                pages = client.list_properties_of_secret_versions(vault_name).by_page()
                await anext(pages)
        all_tags = dict(tags or {})
        if description is not None:
            all_tags["description"] = description
        extra: dict[str, Any] = {}
        if not_before is not None:
            extra["not_before"] = not_before
        if expires_on is not None:
            extra["expires_on"] = expires_on
        with self._errors("set_secret", vault_name):
            stored = await client.set_secret(
                vault_name,
                value,
                content_type=content_type,
                tags=all_tags or None,
                **extra,
            )
        return SecretValue(
            value=value,
            version=stored.properties.version,
            created=stored.properties.created_on,
            metadata=metadata(stored.properties),
        )

    async def delete(self, ref: SecretRef, *, force: bool = False) -> None:
        """Delete every version (soft delete); with ``force``, purge it as well.

        A soft-deleted secret stays recoverable (``recover``) for the vault's
        retention period, and its name cannot be written until then.

        :param force: also purge, so the name is free at once
        :raises NotSupported: a ``?version=``: Key Vault deletes whole secrets
        :raises SecretNotFound: no such secret
        :raises AccessDenied: the identity may not delete (or purge)
        """
        if ref.version is not None:
            raise NotSupported(
                f"Key Vault deletes whole secrets: drop ?version= from {ref.name!r}, "
                "or disable that version",
                ref=ref.name,
                backend=self.name,
            )
        vault_name = self._vault_name(ref, "delete")
        client = self.vault.get()
        with self._errors("delete_secret", vault_name):
            await client.delete_secret(vault_name)
        if force:
            with self._errors("purge_deleted_secret", vault_name):
                await client.purge_deleted_secret(vault_name)

    async def recover(self, ref: SecretRef) -> None:
        """Bring back a soft-deleted secret with all its versions.

        :raises SecretNotFound: no such deleted secret
        """
        vault_name = self._vault_name(ref, "recover")
        with self._errors("recover_deleted_secret", vault_name):
            await self.vault.get().recover_deleted_secret(vault_name)

    async def describe(self, ref: SecretRef) -> SecretInfo:
        """Every version of a secret and the newest one's attributes; never a value.

        :raises SecretNotFound: no such secret
        """
        vault_name = self._vault_name(ref, "describe")
        client = self.vault.get()
        with self._errors("list_properties_of_secret_versions", vault_name):
            versions = [
                v async for v in client.list_properties_of_secret_versions(vault_name)
            ]
        return to_info(ref.name, versions)

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        """Yield our names of the secrets whose Key Vault names start with ``prefix``.

        ``prefix`` is mapped as names are (``mlflow/`` matches ``mlflow-...``);
        names come back through the ``names`` table, else as Key Vault's.

        :param prefix: a name prefix (case-sensitive); empty for all
        :raises AccessDenied: the identity may not list
        """
        start = self.names.prefix(prefix)
        with self._errors("list_properties_of_secrets", prefix or None):
            async for properties in self.vault.get().list_properties_of_secrets():
                if properties.name and properties.name.startswith(start):
                    yield self.names.from_vault(properties.name)

    async def check(self) -> str:
        """Reach the vault with the configured credential; read ``check_secret``.

        Lists one page of names, or reads ``check_secret`` (its value dropped).

        :return: ``<vault URL> as <credential>; 'name' is readable``
        :raises BackendError: what went wrong, mapped
        """
        client = self.vault.get()
        secret = self.settings.check_secret
        if secret:
            vault_name = self.names.to_vault(secret)
            with self._errors("get_secret", vault_name):
                await self.vault.read(vault_name, None)
        else:
            with self._errors("list_properties_of_secrets", None):
                await anext(
                    client.list_properties_of_secrets(max_page_size=1).by_page()
                )
        credential = self.vault.credential
        who = describe(
            self.settings,
            credential.provider if credential else None,
            credential.tenant if credential else None,
        )
        line = f"{self.settings.vault_url} as {who}"
        return line + (f"; {secret!r} is readable" if secret else "")

    async def aclose(self) -> None:
        """Close the SDK client, its transport and the credential."""
        await self.vault.aclose()
