"""The ``aws-ssm`` backend: AWS Systems Manager Parameter Store.

``aws-ssm:///app/db/password`` reads a parameter by its full name (the leading
``/`` is part of it) or ARN; ``?version=3``, ``?stage=prod`` or the native
``name:3`` / ``name:prod`` select a version or a label. ``SecureString`` values
come back decrypted, ``String`` and ``StringList`` as the text SSM holds (``a,b,c``).
``get_many`` reads through GetParameters, ten names per call, the calls
concurrent. With ``regions``, a read that finds a region unavailable tries the
next; writes and listings (whose page tokens belong to one region) use the
first. A full ARN's region wins.

SSM stores text: ``put`` of bytes raises ``NotSupported`` rather than decoding
them, so what was written as bytes never reads back as ``str``.
"""

from __future__ import annotations

__all__ = ("ParameterStoreBackend",)

import logging
from typing import TYPE_CHECKING, Any, Final, cast, final

from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import (
    BackendError,
    BackendUnavailable,
    NotSupported,
    SecretkitError,
    SecretNotFound,
)

from ._clients import ClientPool
from ._parameter_batches import read_batches
from ._parameters import Request, arn_region, request_for, to_info, to_value
from .errors import error_code, map_errors

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Mapping, Sequence

    from secretkit.core.backend import Runs, SecretInfo
    from secretkit.core.secret import SecretRef

    from .config import AwsSettings

_SERVICE: Final = "ssm"
_log = logging.getLogger(__name__)


@final
class ParameterStoreBackend(Backend):
    """Parameters in AWS SSM Parameter Store.

    :param settings: region(s), endpoint, credentials, retries, timeouts
    :param name: the instance name this backend is configured under
    """

    runs: Runs = "asyncio"  # aiobotocore; also read when given as a ready object

    def __init__(self, settings: AwsSettings, *, name: str = "aws-ssm") -> None:
        self.name = name
        self.settings = settings
        self.pool = ClientPool(settings, name=name)

    def __repr__(self) -> str:
        regions = self.settings.region_order
        return f"ParameterStoreBackend({self.name!r}, regions={regions})"

    def _regions(self, name: str, *, write: bool = False) -> tuple[str | None, ...]:
        region = arn_region(name)
        if region:
            return (region,)
        return self.settings.region_order[:1] if write else self.settings.region_order

    async def _call(
        self,
        method: str,
        params: dict[str, Any],
        *,
        ref: str | None,
        regions: tuple[str | None, ...],
    ) -> tuple[dict[str, Any], str | None]:
        """Call one SSM API in each region in turn until one is available."""
        operation = "".join(part.title() for part in method.split("_"))
        for index, region in enumerate(regions):
            try:
                with map_errors(operation, ref=ref, backend=self.name):
                    client = await self.pool.client(_SERVICE, region)
                    response: dict[str, Any] = await getattr(client, method)(**params)
            except BackendUnavailable:
                if index + 1 == len(regions):
                    raise
                continue
            return response, client.meta.region_name
        raise AssertionError("unreachable: region_order is never empty")

    async def fetch(self, ref: SecretRef) -> SecretValue:
        """Read one parameter, decrypted (its version or label, if selected).

        :raises InvalidReference: two selectors, or a malformed one
        :raises SecretNotFound: no such parameter, version or label
        :raises AccessDenied: IAM or KMS refused
        :raises CredentialError: no usable credentials
        :raises BackendUnavailable: every region unreachable or throttling
        """
        return await self._fetch(request_for(ref))

    async def _fetch(self, request: Request) -> SecretValue:
        params = {"Name": request.text, "WithDecryption": True}
        response, region = await self._call(
            "get_parameter",
            params,
            ref=request.text,
            regions=self._regions(request.name),
        )
        return to_value(response["Parameter"], region=region, label=request.label)

    async def fetch_many(
        self, refs: Sequence[SecretRef]
    ) -> Mapping[SecretRef, SecretValue | BackendError]:
        """Read many parameters through GetParameters, ten names per call, concurrently.

        Every ref gets its own outcome: a missing name, version or label is a
        ``SecretNotFound`` for that ref alone. A call that IAM refuses as a whole
        (one name it may not read) is retried name by name, so the others still
        come back.
        """
        # The reader settles any SecretkitError per ref (InvalidReference here);
        # the protocol's annotation names only what backends usually return.
        outcomes: dict[SecretRef, SecretValue | SecretkitError] = {}
        wanted: dict[Request, list[SecretRef]] = {}
        for ref in refs:
            try:
                wanted.setdefault(request_for(ref), []).append(ref)
            except SecretkitError as exc:
                outcomes[ref] = exc
        groups: dict[tuple[str | None, ...], list[Request]] = {}
        for request in wanted:
            groups.setdefault(self._regions(request.name), []).append(request)
        _log.debug("GetParameters for %d names", len(wanted))

        async def get_many(
            batch: list[Request], regions: tuple[str | None, ...]
        ) -> tuple[dict[str, Any], str | None]:
            names = [request.text for request in batch]
            params = {"Names": names, "WithDecryption": True}
            return await self._call("get_parameters", params, ref=None, regions=regions)

        results = await read_batches(
            groups, get_many=get_many, get_one=self._fetch, backend=self.name
        )
        for request, refs_for in wanted.items():
            outcomes.update(dict.fromkeys(refs_for, results[request]))
        return cast("Mapping[SecretRef, SecretValue | BackendError]", outcomes)

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
        """Write a new version of a parameter; a new one is a ``SecureString``.

        :param create: create the parameter when missing (else ``SecretNotFound``)
        :param description: its description
        :param tags: tags to add (PutParameter on creation, AddTagsToResource after)
        :param stages: labels to move to the new version (LabelParameterVersion)
        :return: what was stored, with the new version number
        :raises NotSupported: ``value`` is bytes: SSM stores text only
        :raises SecretNotFound: ``create=False`` and no such parameter
        :raises BackendError: SSM refused the value, a tag or a label
        """
        name = request_for(ref, plain="put").name
        if isinstance(value, bytes):
            raise NotSupported(
                f"SSM parameter {name!r} holds text, not bytes: decode the value "
                "or store it base64-encoded",
                ref=name,
                backend=self.name,
            )
        regions = self._regions(name, write=True)
        base: dict[str, Any] = {"Name": name, "Value": value}
        if description is not None:
            base["Description"] = description
        tag_list = [{"Key": key, "Value": text} for key, text in (tags or {}).items()]
        response = None
        if create:
            first = {**base, "Type": "SecureString", "Overwrite": False}
            if tag_list:
                first["Tags"] = tag_list  # AWS refuses Tags with Overwrite
            try:
                response, _ = await self._call(
                    "put_parameter", first, ref=name, regions=regions
                )
            except BackendError as exc:
                if error_code(exc.__cause__ or exc) != "ParameterAlreadyExists":
                    raise
        else:
            await self._describe(name, regions)  # SecretNotFound when missing
        if response is None:
            response, _ = await self._call(
                "put_parameter", {**base, "Overwrite": True}, ref=name, regions=regions
            )
            if tag_list:
                tagging = {"ResourceType": "Parameter", "ResourceId": name}
                await self._call(
                    "add_tags_to_resource",
                    {**tagging, "Tags": tag_list},
                    ref=name,
                    regions=regions,
                )
        version = response["Version"]
        if stages:
            labels = {"Name": name, "ParameterVersion": version, "Labels": [*stages]}
            answer, _ = await self._call(
                "label_parameter_version", labels, ref=name, regions=regions
            )
            if refused := answer.get("InvalidLabels"):
                raise BackendError(
                    f"SSM parameter {name!r} got version {version}, but SSM refused "
                    f"the labels {refused} (letters, digits, . - _; not starting with "
                    "a digit, aws or ssm)",
                    ref=name,
                    backend=self.name,
                )
        return SecretValue(
            value=value,
            version=str(version),
            stages=tuple(stages),
            metadata={"name": name, "tier": response.get("Tier")},
        )

    async def delete(self, ref: SecretRef, *, force: bool = False) -> None:
        """Delete a parameter and all its versions, at once.

        :param force: ignored: SSM has no recovery window
        :raises SecretNotFound: no such parameter
        """
        name = request_for(ref, plain="delete").name
        regions = self._regions(name, write=True)
        await self._call("delete_parameter", {"Name": name}, ref=name, regions=regions)

    async def _describe(
        self, name: str, regions: tuple[str | None, ...]
    ) -> dict[str, Any]:
        """The DescribeParameters entry of exactly ``name``."""
        where = {"Key": "Name", "Option": "Equals", "Values": [name]}
        response, _ = await self._call(
            "describe_parameters",
            {"ParameterFilters": [where]},
            ref=name,
            regions=regions,
        )
        for entry in response.get("Parameters", ()):
            if entry.get("Name") == name:
                return cast("dict[str, Any]", entry)
        raise SecretNotFound(
            f"AWS DescribeParameters for {name!r}: no such parameter "
            "(check the name and the region)",
            ref=name,
            backend=self.name,
        )

    async def describe(self, ref: SecretRef) -> SecretInfo:
        """Type, tier, description, KMS key, tags, and every version with its labels.

        ``created`` is the date of the oldest version SSM still keeps (it keeps
        100). Never reads the value.

        :raises SecretNotFound: no such parameter
        """
        name = request_for(ref, plain="describe").name
        regions = self._regions(name)
        described = await self._describe(name, regions)
        params = {"Name": name, "WithDecryption": False}
        history = [
            entry
            async for page in self._pages("get_parameter_history", params, ref=name)
            for entry in page.get("Parameters", ())
        ]
        tagging = {"ResourceType": "Parameter", "ResourceId": name}
        tags, _ = await self._call(
            "list_tags_for_resource", tagging, ref=name, regions=regions
        )
        return to_info(described, history, tags.get("TagList", ()))

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        """Yield the names that start with ``prefix``, page by page; never values.

        A prefix starting with ``/`` reads its hierarchy with GetParametersByPath
        (end it with ``/`` to read just that hierarchy); any other prefix goes to
        DescribeParameters with a ``BeginsWith`` filter. Names come in AWS's order.

        :param prefix: a name prefix; empty for all
        """
        params: dict[str, Any]
        if prefix.startswith("/"):
            method = "get_parameters_by_path"
            path = prefix[: prefix.rfind("/")] or "/"
            params = {"Path": path, "Recursive": True, "WithDecryption": False}
        else:
            method = "describe_parameters"
            begins = {"Key": "Name", "Option": "BeginsWith", "Values": [prefix]}
            params = {"ParameterFilters": [begins]} if prefix else {}
        async for page in self._pages(method, params, ref=prefix):
            for entry in page.get("Parameters", ()):
                name = entry.get("Name")
                if isinstance(name, str) and name.startswith(prefix):
                    yield name

    async def _pages(
        self, method: str, params: dict[str, Any], *, ref: str
    ) -> AsyncIterator[dict[str, Any]]:
        """Every page of a paginated read, in the first region (tokens stay there)."""
        regions = self.settings.region_order[:1]
        while True:
            page, _ = await self._call(method, params, ref=ref, regions=regions)
            yield page
            if not page.get("NextToken"):
                return
            params = {**params, "NextToken": page["NextToken"]}

    async def check(self) -> str:
        """Who we are (STS GetCallerIdentity), where, and if ``check_secret`` reads.

        :raises BackendError: what went wrong, mapped
        """
        _, line = await self.pool.whoami(_SERVICE, self.settings.region_order[0])
        name = self.settings.check_secret
        if name:
            from secretkit.core.secret import SecretRef

            await self._fetch(request_for(SecretRef(name=name)))
            line += f"; {name!r} is readable"
        return line

    async def aclose(self) -> None:
        """Close the AWS clients."""
        await self.pool.aclose()
