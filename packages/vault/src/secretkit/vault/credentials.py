"""Where the Vault backend's token comes from: providers of the core's ``vault`` chain.

In this order, as the Vault CLI looks (plugins add providers of kind ``vault``
around them, by ``order``):

- ``token`` (order 10): the ``token`` option (or ``SECRETKIT_VAULT_TOKEN``)
- ``env`` (order 20): ``VAULT_TOKEN``
- ``token-file`` (order 30): the ``token_file`` option, else ``~/.vault-token``,
  the file ``vault login`` writes

Between the ``token`` option and ``VAULT_TOKEN`` come the auth methods (orders 12
to 17, see ``_login``): AppRole, userpass, JWT/OIDC, Kubernetes, TLS certificates
and AWS IAM, chosen by the ``auth`` option or detected from what is given. Their
tokens carry their lease as ``expires_at``, and the chain renews them from
``ADVISORY`` seconds before expiry, and makes every caller wait for that from
``MANDATORY`` seconds before it. A token read from an option, a variable or a file
carries no expiry here.
"""

from __future__ import annotations

__all__ = (
    "ADVISORY",
    "MANDATORY",
    "TokenProvider",
    "chain_for",
    "credential_factories",
)

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Final, final

from secretkit.core.credentials import (
    CredentialChain,
    CredentialProviderFactory,
    Credentials,
    build_chain,
)
from secretkit.core.errors import CredentialError

from ._login import login_factories
from .config import chain_options

if TYPE_CHECKING:
    from collections.abc import Callable

    from secretkit.core.options import Options
    from secretkit.core.plugins import Registry

    from .config import VaultSettings

KIND: Final = "vault"
#: Seconds before a token's expiry from which one caller renews it.
ADVISORY: Final = 60.0
#: Seconds before a token's expiry from which every caller waits for the renewal.
MANDATORY: Final = 15.0


@final
class TokenProvider:
    """A Vault token from an option, a variable or a file, read on every load.

    :param name: the provider's name (``token``, ``env``, ``token-file``)
    :param token: a fixed token (the option); never shown
    :param variable: an environment variable holding the token
    :param path: a file holding the token
    """

    __slots__ = ("_path", "_token", "_variable", "name")

    def __init__(
        self,
        name: str,
        *,
        token: str | None = None,
        variable: str | None = None,
        path: Path | None = None,
    ) -> None:
        self.name = name
        self._token = token
        self._variable = variable
        self._path = path

    def __repr__(self) -> str:
        return f"TokenProvider({self.name!r})"

    async def load(self) -> Credentials[str] | None:
        """Return the token, or ``None`` when this source has none.

        :raises CredentialError: the token file exists but cannot be read
        """
        token = self._token
        if token is None and self._variable is not None:
            token = os.environ.get(self._variable)
        if token is None and self._path is not None:
            token = await self._read_file(self._path)
        token = (token or "").strip()
        if not token:
            return None
        return Credentials(value=token, provider=self.name, metadata={"auth": "token"})

    async def _read_file(self, path: Path) -> str | None:
        import anyio

        try:
            return await anyio.Path(path).read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            raise CredentialError(
                f"cannot read the Vault token file {str(path)!r} "
                f"({type(exc).__name__}); fix its permissions or remove it"
            ) from None


def _from_option(options: Options) -> TokenProvider | None:
    token = options.get_str("token", None)
    if token is None or options.get_str("auth", "auto") not in ("auto", "token"):
        return None  # an explicit auth method wins over a stray token option
    return TokenProvider("token", token=token)


def _from_env(options: Options) -> TokenProvider:
    return TokenProvider("env", variable="VAULT_TOKEN")


def _from_file(options: Options) -> TokenProvider:
    path = options.get_path("token_file", None)
    return TokenProvider("token-file", path=path or Path.home() / ".vault-token")


def credential_factories() -> list[CredentialProviderFactory]:
    """The token providers and auth methods of the ``vault`` chain (orders 10 to 30)."""
    return [
        *login_factories(),
        CredentialProviderFactory(
            kind=KIND, name="token", create=_from_option, order=10
        ),
        CredentialProviderFactory(kind=KIND, name="env", create=_from_env, order=20),
        CredentialProviderFactory(
            kind=KIND, name="token-file", create=_from_file, order=30
        ),
    ]


def chain_for(
    settings: VaultSettings,
    *,
    name: str,
    plugins: Registry | None = None,
    clock: Callable[[], float] = time.time,
) -> CredentialChain[str]:
    """Build the token chain of one backend from every ``vault`` provider factory.

    :param settings: the backend's settings, given to the factories as options
    :param name: the backend instance name
    :param plugins: the registry to take factories from (default: installed)
    :param clock: the time in epoch seconds, for expiry
    :return: the chain, resolving on first use
    :raises ConfigurationError: an explicit ``auth`` method misses an input
    """
    from secretkit.core.plugins import registry

    found = (registry() if plugins is None else plugins).credential_factories(KIND)
    return build_chain(
        KIND,
        found,
        chain_options(settings, instance=name),
        advisory=ADVISORY,
        mandatory=MANDATORY,
        clock=clock,
    )
