"""The ``aws`` backend: AWS Secrets Manager.

``aws://mlflow/auth?stage=AWSPREVIOUS#token`` reads a stage (or ``?version=`` a
version id) of a secret by name, partial ARN or full ARN; a full ARN's region wins
over the configured one. ``SecretString`` comes back as text, ``SecretBinary`` as
the same bytes. With ``regions``, a read that finds a region unavailable tries the
next (replicated secrets); any other error is final.
"""

from __future__ import annotations

__all__ = ("SecretsManagerBackend",)

from typing import TYPE_CHECKING, Any, Final, final

from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import BackendUnavailable

from ._clients import ClientPool
from .errors import map_errors

if TYPE_CHECKING:
    from secretkit.core.secret import SecretRef

    from .config import AwsSettings

SERVICE: Final = "secretsmanager"


def arn_region(name: str) -> str | None:
    """The region of a full Secrets Manager ARN, else ``None``."""
    parts = name.split(":", 6)
    if len(parts) == 7 and parts[0] == "arn" and parts[2] == SERVICE and parts[3]:
        return parts[3]
    return None


@final
class SecretsManagerBackend(Backend):
    """Secrets in AWS Secrets Manager.

    :param settings: region(s), endpoint, credentials, retries, timeouts
    :param name: the instance name this backend is configured under
    """

    def __init__(self, settings: AwsSettings, *, name: str = "aws") -> None:
        self.name = name
        self.settings = settings
        self.pool = ClientPool(settings, name=name)

    def __repr__(self) -> str:
        return f"SecretsManagerBackend({self.name!r}, regions={self._regions(None)})"

    def _regions(self, name: str | None) -> tuple[str | None, ...]:
        region = arn_region(name) if name else None
        return (region,) if region else self.settings.region_order

    async def fetch(self, ref: SecretRef) -> SecretValue:
        """Read one secret (its ``?version=`` or ``?stage=``, else AWSCURRENT).

        :raises SecretNotFound: no such secret or version, or scheduled for deletion
        :raises AccessDenied: IAM or KMS refused
        :raises CredentialError: no usable credentials
        :raises BackendUnavailable: every region unreachable or throttling
        """
        params: dict[str, str] = {"SecretId": ref.name}
        if ref.version is not None:
            params["VersionId"] = ref.version
        if ref.stage is not None:
            params["VersionStage"] = ref.stage
        response, region = await self._call("get_secret_value", params, ref.name)
        return to_value(response, region)

    async def _call(
        self, method: str, params: dict[str, Any], name: str | None
    ) -> tuple[dict[str, Any], str | None]:
        """Call one API in each region in turn until one is available."""
        operation = "".join(part.title() for part in method.split("_"))
        regions = self._regions(name)
        for index, region in enumerate(regions):
            try:
                with map_errors(operation, ref=name, backend=self.name):
                    client = await self.pool.client(SERVICE, region)
                    response: dict[str, Any] = await getattr(client, method)(**params)
            except BackendUnavailable:
                if index + 1 == len(regions):
                    raise
                continue
            return response, region
        raise AssertionError("unreachable: region_order is never empty")

    async def check(self) -> str:
        """Who we are (STS GetCallerIdentity), where, and if ``check_secret`` reads.

        :raises BackendError: what went wrong, mapped
        """
        region = self.settings.region_order[0]
        with map_errors("GetCallerIdentity", backend=self.name):
            sts = await self.pool.client("sts", region)
            identity = await sts.get_caller_identity()
        client = await self.pool.client(SERVICE, region)
        where = f"region {client.meta.region_name}, endpoint {client.meta.endpoint_url}"
        line = f"{identity['Arn']} ({where})"
        secret = self.settings.check_secret
        if secret:
            await self._call("describe_secret", {"SecretId": secret}, secret)
            await self._call("get_secret_value", {"SecretId": secret}, secret)
            line += f"; {secret!r} is readable"
        return line

    async def aclose(self) -> None:
        """Close the AWS clients."""
        await self.pool.aclose()


def to_value(response: dict[str, Any], region: str | None) -> SecretValue:
    """A ``SecretValue`` from a GetSecretValue (or batch) response entry."""
    value: str | bytes
    if "SecretBinary" in response and response["SecretBinary"] is not None:
        value = bytes(response["SecretBinary"])  # botocore already base64-decoded
    else:
        value = response.get("SecretString", "")
    return SecretValue(
        value=value,
        version=response.get("VersionId"),
        stages=tuple(response.get("VersionStages", ())),
        created=response.get("CreatedDate"),
        metadata={
            "arn": response.get("ARN"),
            "name": response.get("Name"),
            "region": region,
        },
    )
