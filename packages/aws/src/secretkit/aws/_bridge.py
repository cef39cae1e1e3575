"""AWS keys, and how a credential chain's keys reach botocore's signer.

botocore's session resolves credentials once, through its credential resolver;
:class:`ChainBridge` is the only provider of that resolver, and answers with
credentials that belong to a chain. aiobotocore's signer awaits their
``get_frozen_credentials()`` before every request, and they ask the chain, which
decides alone: the cached keys, an early renewal by one caller while the others
keep signing with the current keys (advisory window), or one renewal everyone
waits for and shares, success or failure (mandatory window). Nothing in botocore
renews on a clock of its own, so the two never disagree, and a failing STS is
asked once per round of waiters, not once per waiter in turn.
"""

from __future__ import annotations

__all__ = (
    "ADVISORY",
    "MANDATORY",
    "AwsKeys",
    "ChainBridge",
    "refresh_windows",
)

from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Final, final

from secretkit.core.errors import CredentialError

if TYPE_CHECKING:
    from collections.abc import Callable

    from aiobotocore.credentials import AioCredentials

    from secretkit.core.credentials import CredentialChain, Credentials

# botocore's own windows: 15 and 10 minutes before expiry.
ADVISORY: Final = 15 * 60
MANDATORY: Final = 10 * 60


def refresh_windows(duration: float) -> tuple[int, int]:
    """The advisory and mandatory windows for credentials lasting ``duration``.

    botocore's, shrunk for short sessions: 900-second credentials would otherwise
    be born inside the advisory window and renewed on every request.

    :param duration: how long the credentials last, in seconds
    :return: ``(advisory, mandatory)`` in seconds before expiry
    """
    advisory = min(ADVISORY, int(duration // 4))
    return advisory, min(MANDATORY, advisory * 2 // 3)


@final
@dataclass(frozen=True, slots=True, kw_only=True)
class AwsKeys:
    """An AWS access key pair, and the session token of temporary credentials.

    The value of the AWS credential chain: providers (a plugin's too) return
    ``Credentials[AwsKeys]``. Nothing of it shows in ``repr``.

    :param access_key: the access key ID
    :param secret_key: the secret access key
    :param token: the session token, for temporary credentials
    """

    access_key: str = field(repr=False)
    secret_key: str = field(repr=False)
    token: str | None = field(default=None, repr=False)


def _checked(creds: Credentials[AwsKeys]) -> AwsKeys:
    keys = creds.value
    if not isinstance(keys, AwsKeys):  # a plugin's provider returned something else
        raise CredentialError(
            f"aws credential provider {creds.provider!r} returned "
            f"{type(keys).__name__}, not AwsKeys"
        )
    return keys


@cache
def _chain_credentials() -> Callable[[CredentialChain[AwsKeys]], AioCredentials]:
    # Made on first use: botocore is imported only when a client opens.
    from aiobotocore.credentials import AioCredentials
    from botocore.credentials import ReadOnlyCredentials

    class ChainCredentials(AioCredentials):
        """botocore credentials that ask a chain before every signature.

        Asking costs a clock reading while the keys are fresh. The attributes
        (``access_key``...) hold the keys of the last signature.
        """

        def __init__(self, chain: CredentialChain[AwsKeys]) -> None:
            super().__init__("", "", method=ChainBridge.METHOD)
            self._chain = chain
            self._source: Credentials[AwsKeys] | None = None
            self._frozen = ReadOnlyCredentials("", "", None, None)

        def __repr__(self) -> str:
            return f"ChainCredentials({self._chain!r})"

        async def get_frozen_credentials(  # type: ignore[override]  # as aiobotocore's
            self,
        ) -> ReadOnlyCredentials:
            creds = await self._chain.get()
            if creds is not self._source:
                keys = _checked(creds)
                self.access_key, self.secret_key = keys.access_key, keys.secret_key
                self.token = keys.token
                self._frozen = ReadOnlyCredentials(
                    keys.access_key, keys.secret_key, keys.token, None
                )
                self._source = creds
            return self._frozen

    return ChainCredentials


@final
class ChainBridge:
    """The provider of a botocore credential resolver that answers from a chain.

    :param chain: the chain to ask, whose values are :class:`AwsKeys`
    """

    __slots__ = ("_chain",)

    # botocore's resolver finds providers by these names.
    METHOD: Final = "secretkit"
    CANONICAL_NAME: Final = "secretkit"

    def __init__(self, chain: CredentialChain[AwsKeys]) -> None:
        self._chain = chain

    def __repr__(self) -> str:
        return f"ChainBridge({self._chain!r})"

    async def load(self) -> AioCredentials:
        """Resolve the chain now, as botocore does when a client opens.

        :return: credentials whose every use asks the chain first
        :raises CredentialError: no provider answered, or one failed
        """
        credentials = _chain_credentials()(self._chain)
        await credentials.get_frozen_credentials()
        return credentials
