"""The explicit AssumeRole: a role's credentials on top of the base chain.

``role_arn`` (or the seed's ``AWS_ROLE_ARN`` without a web identity token file)
asks for it, with ``external_id``, ``role_session_name`` and ``duration_seconds``.
STS is called with the base chain's credentials, in the backend's region and at
its ``sts_endpoint_url`` (else botocore's); each call opens its own STS client,
as renewals come once an hour or so. Failures name the role, never the keys.
"""

from __future__ import annotations

__all__ = ("AssumeRoleProvider",)

from typing import TYPE_CHECKING, Any, final

from secretkit.core.credentials import Credentials
from secretkit.core.errors import CredentialError

from ._bridge import AwsKeys
from .errors import map_errors

if TYPE_CHECKING:
    from aiobotocore.session import AioSession

    from secretkit.core.credentials import CredentialChain

    from .config import AwsSettings


@final
class AssumeRoleProvider:
    """Assumes ``settings.role_arn`` with the credentials of a base chain.

    :param settings: the role, external ID, session name, duration, region,
        endpoint, retries and timeouts
    :param base: the chain whose credentials call STS
    :param session: the botocore session that makes the STS client
    """

    __slots__ = ("_base", "_session", "_settings", "name")

    def __init__(
        self,
        settings: AwsSettings,
        *,
        base: CredentialChain[AwsKeys],
        session: AioSession,
    ) -> None:
        self.name = "explicit-assume-role"
        self._settings = settings
        self._base = base
        self._session = session

    def __repr__(self) -> str:
        return f"AssumeRoleProvider({self._settings.role_arn!r}, base={self._base!r})"

    async def load(self) -> Credentials[AwsKeys]:
        """Call STS AssumeRole; return the role's temporary credentials.

        :raises CredentialError: no base credentials, or STS refused or failed;
            the message names the role
        """
        settings = self._settings
        role = settings.role_arn
        try:
            source = await self._base.get()
        except CredentialError as exc:
            raise CredentialError(
                f"AssumeRole of {role!r} needs base credentials: {exc.message}"
            ) from exc
        params: dict[str, Any] = {
            "RoleArn": role,
            "RoleSessionName": settings.role_session_name,
            "DurationSeconds": settings.duration_seconds,
        }
        if settings.external_id:
            params["ExternalId"] = settings.external_id
        config = settings.sdk_config()
        with map_errors(f"AssumeRole of {role!r}"):
            async with self._session.create_client(
                "sts",
                region_name=settings.region_order[0],
                endpoint_url=settings.sts_endpoint_url,
                config=config,
                aws_access_key_id=source.value.access_key,
                aws_secret_access_key=source.value.secret_key,
                aws_session_token=source.value.token,
            ) as sts:
                response = await sts.assume_role(**params)
        found = response["Credentials"]
        return Credentials(
            value=AwsKeys(
                access_key=found["AccessKeyId"],
                secret_key=found["SecretAccessKey"],
                token=found["SessionToken"],
            ),
            provider=self.name,
            expires_at=found["Expiration"].timestamp(),
            metadata={
                "role_arn": role,
                "arn": response.get("AssumedRoleUser", {}).get("Arn"),
                "source": source.provider,
            },
        )
