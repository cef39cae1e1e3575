"""One aioboto3 session per backend, and one client per service and region, reused.

Clients open on first use and close with the backend (``aclose``). Their retries
(``max_attempts``, ``retry_mode``) and timeouts come from the settings. botocore
logs request parameters and response bodies at DEBUG, where secret values live;
a filter on those loggers drops such records, whatever the logging setup.
"""

from __future__ import annotations

__all__ = ("ClientPool",)

import logging
from contextlib import AsyncExitStack
from typing import TYPE_CHECKING, Any, Final

import anyio

from .credentials import session_for
from .errors import map_errors

if TYPE_CHECKING:
    from .config import AwsSettings

# botocore/aiobotocore loggers whose DEBUG records can hold values: request
# parameters (PutSecretValue's SecretString) and response bodies; botocore.auth
# logs the canonical request, session token header included.
_CHATTY: Final = (
    "botocore.auth",
    "botocore.endpoint",
    "botocore.parsers",
    "botocore.hooks",
    "botocore.httpchecksum",
    "aiobotocore.endpoint",
    "aiobotocore.parsers",
    "aiobotocore.httpchecksum",
)


class _NoBodies(logging.Filter):
    """Drop DEBUG records from botocore that carry request params or bodies."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_quieted = False


def _quiet_botocore() -> None:
    global _quieted
    if not _quieted:
        for name in _CHATTY:
            logging.getLogger(name).addFilter(_NoBodies())
        _quieted = True


class ClientPool:
    """The AWS clients of one backend instance.

    :param settings: the instance's settings
    :param name: the instance name, for messages
    """

    def __init__(self, settings: AwsSettings, *, name: str) -> None:
        self.settings = settings
        self.name = name
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._stack: AsyncExitStack | None = None
        self._session: Any = None
        self._lock: anyio.Lock | None = None

    async def client(self, service: str, region: str | None) -> Any:
        """The client for ``service`` in ``region`` (``None``: the default region)."""
        found = self._clients.get((service, region))
        if found is not None:
            return found
        if self._lock is None:
            self._lock = anyio.Lock()
        async with self._lock:
            found = self._clients.get((service, region))
            if found is None:
                found = self._clients[(service, region)] = await self._open(
                    service, region
                )
        return found

    async def _open(self, service: str, region: str | None) -> Any:
        import aioboto3

        _quiet_botocore()
        settings = self.settings
        if self._session is None:
            self._session = aioboto3.Session(botocore_session=session_for(settings))
            self._stack = AsyncExitStack()
        config = settings.sdk_config()
        assert self._stack is not None
        return await self._stack.enter_async_context(
            self._session.client(
                service,
                region_name=region,
                # A Secrets Manager VPC endpoint does not answer STS.
                endpoint_url=(
                    settings.sts_endpoint_url
                    if service == "sts"
                    else settings.endpoint_url
                ),
                config=config,
            )
        )

    async def whoami(self, service: str, region: str | None) -> tuple[str, str]:
        """Who we call AWS as, and where ``service`` answers: for ``doctor``.

        :return: the caller ARN, and ``<ARN> (region R, endpoint E)``
        :raises BackendError: STS or the client failed, mapped
        """
        with map_errors("GetCallerIdentity", backend=self.name):
            sts = await self.client("sts", region)
            identity = await sts.get_caller_identity()
            meta = (await self.client(service, region)).meta
        caller = str(identity.get("Arn", "an unknown identity"))
        return (
            caller,
            f"{caller} (region {meta.region_name}, endpoint {meta.endpoint_url})",
        )

    async def aclose(self) -> None:
        """Close every client (their HTTP connection pools)."""
        stack, self._stack = self._stack, None
        self._clients.clear()
        self._session = None
        if stack is not None:
            await stack.aclose()
