"""Secrets Manager calls: which regions to ask, failover between them, one read.

A full or partial ARN names its region, and that region alone is asked. A plain
name is read from the configured ``regions`` in order (replicated secrets): the
next region is tried only when one is unavailable (``BackendUnavailable``), never
when it answered no (not found, denied). Writes go to one region, the primary or
the ARN's: replicas are read-only.
"""

from __future__ import annotations

__all__ = ("SERVICE", "Answer", "Caller")

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, Generic, TypeVar, final

from secretkit.core.errors import BackendUnavailable

from ._responses import arn_region, to_value
from .errors import error_code, map_errors

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Sequence

    from types_aiobotocore_secretsmanager import SecretsManagerClient

    from secretkit.core.backend import SecretValue
    from secretkit.core.secret import SecretRef

    from ._clients import ClientPool
    from .config import AwsSettings

SERVICE: Final = "secretsmanager"

_T = TypeVar("_T")
_log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class Answer(Generic[_T]):
    """What one call returned, and where from.

    :param body: the response
    :param key: the region as the client pool knows it (``None``: botocore's
        default); pass ``(key,)`` as ``regions`` to stay there (the next page)
    :param region: the region that answered
    """

    body: _T = field(repr=False)  # may hold a secret value
    key: str | None
    region: str


@final
class Caller:
    """Makes the Secrets Manager calls of one backend instance.

    :param settings: the instance's settings (its ``regions``)
    :param pool: the instance's clients
    :param name: the instance name, for messages
    """

    __slots__ = ("name", "pool", "settings")

    def __init__(self, settings: AwsSettings, pool: ClientPool, *, name: str) -> None:
        self.settings = settings
        self.pool = pool
        self.name = name

    def regions(self, secret_id: str | None) -> tuple[str | None, ...]:
        """The regions to read ``secret_id`` from, in order.

        :param secret_id: a name or ARN; ``None`` for calls about no one secret
        """
        region = arn_region(secret_id) if secret_id else None
        return (region,) if region else self.settings.region_order

    def home(self, secret_id: str | None) -> tuple[str | None]:
        """The one region writes to ``secret_id`` go to: the ARN's, else the primary.

        :param secret_id: a name or ARN
        """
        return (self.regions(secret_id)[0],)

    async def client(self, region: str | None) -> SecretsManagerClient:
        """The Secrets Manager client for ``region``, opened on first use.

        :param region: a region; ``None`` for botocore's default region
        """
        client: SecretsManagerClient = await self.pool.client(SERVICE, region)
        return client

    async def call(
        self,
        operation: str,
        func: Callable[[SecretsManagerClient], Awaitable[_T]],
        *,
        ref: str | None,
        regions: Sequence[str | None],
    ) -> Answer[_T]:
        """Call ``func`` with each region's client in turn until one is available.

        :param operation: the AWS operation's name, for messages and logs
        :param func: makes the call, given the client
        :param ref: the secret concerned, for messages
        :param regions: where to try, in order; never empty
        :return: the first answer
        :raises BackendError: the last region's error, or the first that is not
            ``BackendUnavailable``, mapped
        """
        for index, region in enumerate(regions):
            try:
                with map_errors(operation, ref=ref, backend=self.name):
                    client = await self.client(region)
                    body = await func(client)
            except BackendUnavailable as exc:
                if index + 1 == len(regions):
                    raise
                _log.warning(
                    "%s: %s in %s failed (%s); trying %s",
                    self.name,
                    operation,
                    region or "the default region",
                    error_code(exc.__cause__) or type(exc.__cause__).__name__,
                    regions[index + 1] or "the default region",
                )
                continue
            return Answer(body=body, key=region, region=client.meta.region_name)
        raise AssertionError("unreachable: regions is never empty")

    async def get_value(self, ref: SecretRef) -> SecretValue:
        """Read one secret with GetSecretValue (its version or stage, if given).

        :param ref: the secret; its field is the core's business
        :return: the value, with the region that answered in its metadata
        :raises BackendError: mapped, after failover
        """
        answer = await self.call(
            "GetSecretValue",
            lambda client: client.get_secret_value(**_selector(ref)),
            ref=ref.name,
            regions=self.regions(ref.name),
        )
        return to_value(answer.body, answer.region)


def _selector(ref: SecretRef) -> dict[str, str]:
    params = {"SecretId": ref.name}
    if ref.version is not None:
        params["VersionId"] = ref.version
    if ref.stage is not None:
        params["VersionStage"] = ref.stage
    return params
