"""Where the AWS backends' credentials come from: the core's chain of providers.

The base chain (kind ``aws``) holds botocore's own providers, in botocore's order
(``order`` 10, 20, ... 110), each as a provider of the core's chain:

- ``env``: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``, ``AWS_SESSION_TOKEN``
- ``assume-role``: a profile's ``role_arn`` with ``source_profile`` (or
  ``credential_source``), ``external_id`` and ``role_session_name``
- ``assume-role-with-web-identity``: IRSA, ``AWS_WEB_IDENTITY_TOKEN_FILE`` with
  ``AWS_ROLE_ARN`` (or a profile's ``web_identity_token_file``)
- ``sso``, ``shared-credentials-file``, ``custom-process``, ``config-file``: the
  rest of the profile (IAM Identity Center, keys, ``credential_process``)
- ``ec2-credentials-file``, ``boto-config``: legacy files
- ``container-role``: ECS task roles and EKS Pod Identity
  (``AWS_CONTAINER_CREDENTIALS_RELATIVE_URI`` or ``..._FULL_URI``)
- ``iam-role``: the EC2 instance profile, through IMDSv2

A plugin's factory of kind ``aws`` joins in between (order 5 comes first). The
profile is ``AWS_PROFILE`` or the ``profile`` option; as in botocore, a profile
given as an option skips ``env``, ``AWS_PROFILE`` does not.

With ``role_arn``, an explicit AssumeRole sits on top, in a chain of its own whose
provider calls STS with the base chain's credentials. Every chain renews ahead of
expiry (botocore's windows: 15 and 10 minutes), once for all callers; botocore's
signer asks the top chain before each request (see ``_bridge``).
"""

from __future__ import annotations

__all__ = ("AwsKeys", "credential_factories", "session_for")

import time
from dataclasses import fields
from functools import partial
from typing import TYPE_CHECKING, Any, Final, final

from secretkit.core.credentials import (
    CredentialChain,
    CredentialProviderFactory,
    Credentials,
    build_chain,
)
from secretkit.core.options import Options
from secretkit.core.plugins import registry

from ._bridge import ADVISORY, MANDATORY, AwsKeys, ChainBridge, refresh_windows
from ._sts import AssumeRoleProvider
from .errors import map_errors

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiobotocore.credentials import AioCredentialResolver
    from aiobotocore.session import AioSession

    from secretkit.core.plugins import Registry

    from .config import AwsSettings

# botocore's providers by METHOD, in the order of its default resolver.
_METHODS: Final = (
    "env",
    "assume-role",
    "assume-role-with-web-identity",
    "sso",
    "shared-credentials-file",
    "custom-process",
    "config-file",
    "ec2-credentials-file",
    "boto-config",
    "container-role",
    "iam-role",
)


def credential_factories() -> list[CredentialProviderFactory]:
    """botocore's credential providers, as factories of the ``aws`` chain.

    The plugin's ``secretkit_register_credential_providers`` hook returns these.
    The providers built for one chain share one botocore session.

    :return: one factory per provider, orders 10 to 110, in botocore's order
    """
    shared = _Shared()
    return [
        CredentialProviderFactory(
            kind="aws",
            name=method,
            create=partial(shared.create, method),
            order=10 * (index + 1),
        )
        for index, method in enumerate(_METHODS)
    ]


def session_for(
    settings: AwsSettings,
    *,
    clock: Callable[[], float] = time.time,
    plugins: Registry | None = None,
) -> AioSession:
    """Return an aiobotocore session whose credentials come from the AWS chain.

    Cheap and free of I/O: the chain resolves when the first client opens.

    :param settings: the backend's settings; factories read them as options
    :param clock: the time in epoch seconds, for expiry (tests pass their own)
    :param plugins: the registry whose ``aws`` factories make the base chain
        (default: the installed plugins)
    :return: the session, its credential resolver replaced by the chain
    """
    from aiobotocore.credentials import AioCredentialResolver
    from aiobotocore.session import AioSession

    found = (registry() if plugins is None else plugins).credential_factories("aws")
    chain: CredentialChain[AwsKeys] = build_chain(
        "aws",
        found,
        _options(settings),
        advisory=ADVISORY,
        mandatory=MANDATORY,
        clock=clock,
    )
    session = AioSession(profile=settings.profile)
    if settings.role_arn:
        advisory, mandatory = refresh_windows(settings.duration_seconds)
        chain = CredentialChain(
            [AssumeRoleProvider(settings, base=chain, session=session)],
            kind="aws",
            advisory=advisory,
            mandatory=mandatory,
            clock=clock,
        )
    resolver: AioCredentialResolver = AioCredentialResolver(
        providers=[ChainBridge(chain)]  # type: ignore[list-item]  # duck-typed
    )
    session.register_component("credential_provider", resolver)
    return session


def _options(settings: AwsSettings) -> Options:
    values = {f.name: getattr(settings, f.name) for f in fields(settings)}
    return Options(
        {key: value for key, value in values.items() if value is not None},
        instance="aws",
        source="the AWS backend's settings",
    )


@final
class _Botocore:
    """botocore's default credential resolver for one profile and region.

    Built on first need: a botocore session costs milliseconds to make.
    """

    __slots__ = ("_profile", "_region", "_resolver")

    def __init__(self, *, profile: str | None, region: str | None) -> None:
        self._profile = profile
        self._region = region
        self._resolver: AioCredentialResolver | None = None

    def provider(self, method: str) -> Any:
        """botocore's provider called ``method``, or ``None`` if it has none.

        :raises BotoCoreError: the profile is missing or its config is invalid
        """
        if self._resolver is None:
            from aiobotocore.credentials import create_credential_resolver
            from aiobotocore.session import AioSession

            self._resolver = create_credential_resolver(
                AioSession(profile=self._profile), region_name=self._region
            )
        # An explicit profile leaves ``env`` out of botocore's resolver.
        return {p.METHOD: p for p in self._resolver.providers}.get(method)


@final
class _Shared:
    """Hands the providers built for one ``Options`` object one :class:`_Botocore`."""

    __slots__ = ("_options", "_source")

    def __init__(self) -> None:
        self._options: Options | None = None
        self._source: _Botocore | None = None

    def create(self, method: str, options: Options) -> _BotocoreProvider:
        """Build the provider ``method`` for these options."""
        if self._source is None or self._options is not options:
            self._options = options
            self._source = _Botocore(
                profile=options.get_str("profile", None),
                region=options.get_str("region", None),
            )
        return _BotocoreProvider(method, self._source)


@final
class _BotocoreProvider:
    """One of botocore's credential providers, as a provider of the core chain."""

    __slots__ = ("_source", "name")

    def __init__(self, name: str, source: _Botocore) -> None:
        self.name = name
        self._source = source

    def __repr__(self) -> str:
        return f"_BotocoreProvider({self.name!r})"

    async def load(self) -> Credentials[AwsKeys] | None:
        """Ask botocore's provider; ``None`` when it is not configured.

        :raises CredentialError: configured, but failing (the chain stops)
        :raises BackendError: what else botocore raised, mapped
        """
        with map_errors(f"credentials from {self.name}"):
            provider = self._source.provider(self.name)
            found = None if provider is None else await provider.load()
            if found is None:
                return None
            frozen = await found.get_frozen_credentials()
        # botocore offers no public accessor for a refreshable one's expiry.
        expiry = getattr(found, "_expiry_time", None)
        return Credentials(
            value=AwsKeys(
                access_key=frozen.access_key,
                secret_key=frozen.secret_key,
                token=frozen.token or None,
            ),
            provider=self.name,
            expires_at=None if expiry is None else expiry.timestamp(),
        )
