"""The ``aws`` backend: AWS Secrets Manager.

``aws://mlflow/auth?stage=AWSPREVIOUS#token`` reads a stage (or ``?version=`` a
version id) of a secret by name, partial ARN or full ARN; an ARN's region wins
over the configured one, and each region gets one client, reused. ``SecretString``
comes back as text, ``SecretBinary`` as the same bytes. With ``regions``, a read
that finds a region unavailable tries the next (replicated secrets); any other
error is final, and writes go to the primary region only.

``get_many`` reads through BatchGetSecretValue (see ``_batch.py``). For migration
tools there are ``put``, ``delete``, ``describe`` and ``list``; ``check`` serves
``secretkit doctor``.
"""

from __future__ import annotations

__all__ = ("SecretsManagerBackend",)

import re
from typing import TYPE_CHECKING, Any, Final, final

from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import BackendError, NotSupported

from ._batch import BatchReader
from ._calls import SERVICE, Caller
from ._clients import ClientPool
from ._responses import arn_region, to_info
from .errors import error_code

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from types_aiobotocore_secretsmanager.type_defs import TagTypeDef

    from secretkit.core.backend import SecretInfo
    from secretkit.core.secret import SecretRef

    from .config import AwsSettings

_CURRENT: Final = "AWSCURRENT"
# What a secret name may hold; a prefix with anything else matches no name (and
# AWS's filter syntax would read a leading "!" as negation).
_NAME_CHARS: Final = re.compile(r"[A-Za-z0-9/_+=.@-]+")


@final
class SecretsManagerBackend(Backend):
    """Secrets in AWS Secrets Manager.

    :param settings: region(s), endpoint, credentials, retries, timeouts
    :param name: the instance name this backend is configured under
    :ivar page_size: secrets per ListSecrets page (AWS allows 1 to 100)
    """

    def __init__(self, settings: AwsSettings, *, name: str = "aws") -> None:
        self.name = name
        self.settings = settings
        self.pool = ClientPool(settings, name=name)
        self.page_size = 100
        self._caller = Caller(settings, self.pool, name=name)
        self._batch = BatchReader(self._caller)

    def __repr__(self) -> str:
        regions = self.settings.region_order
        return f"SecretsManagerBackend({self.name!r}, regions={regions})"

    async def fetch(self, ref: SecretRef) -> SecretValue:
        """Read one secret (its ``?version=`` or ``?stage=``, else AWSCURRENT).

        :raises SecretNotFound: no such secret, version or stage, or the secret is
            scheduled for deletion
        :raises AccessDenied: IAM or KMS refused
        :raises CredentialError: no usable credentials
        :raises BackendUnavailable: every region unreachable or throttling
        """
        return await self._caller.get_value(ref)

    async def fetch_many(
        self, refs: Sequence[SecretRef]
    ) -> Mapping[SecretRef, SecretValue | BackendError]:
        """Read many secrets by BatchGetSecretValue, 20 a call, calls concurrent.

        A ref with a version or stage is read by GetSecretValue; where the batch API
        is refused, every ref is.

        :return: for every ref, its value or its own error
        """
        return await self._batch.read(refs)

    async def put(
        self,
        ref: SecretRef,
        value: str | bytes,
        *,
        create: bool = True,
        description: str | None = None,
        tags: Mapping[str, str] | None = None,
        stages: Sequence[str] = (),
    ) -> SecretValue:
        """Store a new version: text as ``SecretString``, bytes as ``SecretBinary``.

        Without ``stages`` the new version becomes AWSCURRENT and the one before
        AWSPREVIOUS; with them (``?stage=`` adds one) it gets exactly those labels,
        so ``stages=["AWSPENDING"]`` stages a rotation without moving AWSCURRENT.
        A new secret's first version is AWSCURRENT whatever ``stages`` says. A
        ``?version=`` becomes the new version's id (AWS's idempotency token).

        :param create: create the secret when it does not exist yet
        :param description: set the secret's description
        :param tags: add or overwrite these tags
        :param stages: staging labels for the new version
        :return: what was stored, with the new version id
        :raises SecretNotFound: ``create=False`` and no such secret, or the secret
            is scheduled for deletion
        :raises AccessDenied: IAM or KMS refused
        """
        home = self._caller.home(ref.name)
        labels = tuple(dict.fromkeys([*stages, *filter(None, [ref.stage])]))
        payload: dict[str, Any] = (
            {"SecretString": value}
            if isinstance(value, str)
            else {"SecretBinary": bytes(value)}
        )
        if ref.version is not None:
            payload["ClientRequestToken"] = ref.version
        if create and arn_region(ref.name) is None:  # an ARN's secret exists
            created = await self._create(ref, value, payload, labels, description, tags)
            if created is not None:
                return created
        if labels:
            payload["VersionStages"] = list(labels)
        put = await self._caller.call(
            "PutSecretValue",
            lambda client: client.put_secret_value(SecretId=ref.name, **payload),
            ref=ref.name,
            regions=home,
        )
        if description is not None:
            await self._caller.call(
                "UpdateSecret",
                lambda client: client.update_secret(
                    SecretId=ref.name, Description=description
                ),
                ref=ref.name,
                regions=home,
            )
        if tags:
            await self._caller.call(
                "TagResource",
                lambda client: client.tag_resource(SecretId=ref.name, Tags=_tags(tags)),
                ref=ref.name,
                regions=home,
            )
        stored = tuple(put.body.get("VersionStages") or labels or (_CURRENT,))
        return _stored(value, put.body, stored, put.region)

    async def _create(
        self,
        ref: SecretRef,
        value: str | bytes,
        payload: dict[str, Any],
        labels: Sequence[str],
        description: str | None,
        tags: Mapping[str, str] | None,
    ) -> SecretValue | None:
        """CreateSecret, then the extra labels; ``None`` when it exists already."""
        home = self._caller.home(ref.name)
        extra: dict[str, Any] = {}
        if description is not None:
            extra["Description"] = description
        if tags:
            extra["Tags"] = _tags(tags)
        try:
            created = await self._caller.call(
                "CreateSecret",
                lambda client: client.create_secret(Name=ref.name, **payload, **extra),
                ref=ref.name,
                regions=home,
            )
        except BackendError as exc:
            if error_code(exc.__cause__) == "ResourceExistsException":
                return None
            raise
        version = created.body["VersionId"]
        moved = [label for label in labels if label != _CURRENT]
        for label in moved:
            await self._caller.call(
                "UpdateSecretVersionStage",
                lambda client: client.update_secret_version_stage(
                    SecretId=ref.name,
                    VersionStage=label,  # noqa: B023 - awaited within the iteration
                    MoveToVersionId=version,
                ),
                ref=ref.name,
                regions=home,
            )
        return _stored(value, created.body, (_CURRENT, *moved), created.region)

    async def delete(self, ref: SecretRef, *, force: bool = False) -> None:
        """Schedule the secret for deletion, or delete it now with ``force``.

        The recovery window is ``recovery_window_days`` (7 to 30), else AWS's 30
        days; until then ``RestoreSecret`` brings it back and reads raise
        ``SecretNotFound`` saying it is scheduled for deletion.

        :param force: delete without a recovery window (ForceDeleteWithoutRecovery)
        :raises NotSupported: the reference names a version or stage: Secrets
            Manager deletes whole secrets
        :raises SecretNotFound: no such secret, or already scheduled for deletion
        """
        if ref.version is not None or ref.stage is not None:
            raise NotSupported(
                f"Secrets Manager deletes whole secrets, not one version of "
                f"{ref.name!r}: drop ?version= and ?stage=, or move the stage instead",
                ref=ref.name,
                backend=self.name,
            )
        options: dict[str, Any] = {}
        if force:
            options["ForceDeleteWithoutRecovery"] = True
        elif self.settings.recovery_window_days is not None:
            options["RecoveryWindowInDays"] = self.settings.recovery_window_days
        await self._caller.call(
            "DeleteSecret",
            lambda client: client.delete_secret(SecretId=ref.name, **options),
            ref=ref.name,
            regions=self._caller.home(ref.name),
        )

    async def describe(self, ref: SecretRef) -> SecretInfo:
        """Describe a secret: versions and stages, rotation, tags, KMS key, deletion.

        Never reads the value (DescribeSecret).

        :raises SecretNotFound: no such secret
        :raises AccessDenied: IAM refused
        """
        answer = await self._caller.call(
            "DescribeSecret",
            lambda client: client.describe_secret(SecretId=ref.name),
            ref=ref.name,
            regions=self._caller.regions(ref.name),
        )
        return to_info(answer.body, answer.region)

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        """Yield the names of the secrets whose names start with ``prefix``.

        Secrets scheduled for deletion are left out. Pages are followed in the
        region that answered the first.

        :param prefix: a name prefix (case-sensitive); empty for all
        :raises AccessDenied: IAM refused ListSecrets
        """
        if prefix and not _NAME_CHARS.fullmatch(prefix):
            return
        params: dict[str, Any] = {"MaxResults": self.page_size}
        if prefix:
            params["Filters"] = [{"Key": "name", "Values": [prefix]}]
        regions = self._caller.regions(None)
        while True:
            answer = await self._caller.call(
                "ListSecrets",
                lambda client: client.list_secrets(**params),
                ref=prefix or None,
                regions=regions,
            )
            regions = (answer.key,)  # a page token is only good where it came from
            for entry in answer.body.get("SecretList", ()):
                name = entry.get("Name", "")
                if name.startswith(prefix):  # the filter is AWS's; be sure
                    yield name
            token = answer.body.get("NextToken")
            if not token:
                return
            params["NextToken"] = token

    async def check(self) -> str:
        """Who we are (STS GetCallerIdentity), where, and if ``check_secret`` reads.

        The secret's value is read and dropped, never shown.

        :return: ``<caller ARN> (region R, endpoint E); 'name' is readable in R``
        :raises BackendError: what went wrong, mapped; for ``check_secret``, the
            message also says which identity was refused
        """
        caller, line = await self.pool.whoami(SERVICE, self._caller.home(None)[0])
        secret = self.settings.check_secret
        if secret:
            try:
                answer = await self._caller.call(
                    "GetSecretValue",
                    lambda client: client.get_secret_value(SecretId=secret),
                    ref=secret,
                    regions=self._caller.regions(secret),
                )
            except BackendError as exc:
                raise type(exc)(
                    f"{exc.message}; checked as {caller}", ref=secret, backend=self.name
                ) from exc
            line += f"; {secret!r} is readable in {answer.region}"
        return line

    async def aclose(self) -> None:
        """Close the AWS clients."""
        await self.pool.aclose()


def _tags(tags: Mapping[str, str]) -> Sequence[TagTypeDef]:
    return [{"Key": key, "Value": value} for key, value in tags.items()]


def _stored(
    value: str | bytes,
    body: Mapping[str, Any],
    stages: Sequence[str],
    region: str,
) -> SecretValue:
    """What ``put`` returns: the value stored, as AWS now knows it."""
    return SecretValue(
        value=value,
        version=body.get("VersionId"),
        stages=tuple(stages),
        metadata={"arn": body.get("ARN"), "name": body.get("Name"), "region": region},
    )
