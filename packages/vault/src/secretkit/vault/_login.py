"""Vault auth methods as providers of the ``vault`` chain: a login yields a token.

AppRole, userpass, JWT/OIDC, Kubernetes, TLS certificates and AWS IAM each log
in through hvac (``auth/<mount>/login``) and answer with the token and its lease
(``expires_at``). Files (a service-account token, a JWT, AppRole ids) are read
again at every login, as Kubernetes and CI systems rotate them; the AWS request
is signed anew from botocore's credential chain (``_aws_iam``); a certificate
login presents the connection's client certificate (``client_cert``).

When the chain renews, a renewable token is renewed (``renew-self``); a token
that cannot be renewed, or whose renewal would leave it less than half its first
lifetime (its ``max_ttl`` is near), is replaced by a new login. Each login or
renewal runs in a worker thread on a short-lived hvac client of its own, holding
no token but the one renewed.

A failure is a ``CredentialError`` naming the method, the mount and the role,
never a token, a secret_id, a password or a JWT.
"""

from __future__ import annotations

__all__ = ("LoginProvider", "login_factories")

import importlib.util
import logging
import time
from dataclasses import dataclass, field
from functools import partial
from typing import TYPE_CHECKING, Any, Final, final

from secretkit.core.credentials import CredentialProviderFactory, Credentials
from secretkit.core.errors import (
    BackendError,
    ConfigurationError,
    CredentialError,
    SecretkitError,
)

from ._connect import open_client
from .config import settings_from
from .errors import map_errors

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path

    from secretkit.core.options import Options

    from .config import VaultSettings

_log = logging.getLogger(__name__)
# Chain order: after the explicit ``token`` option (10), before VAULT_TOKEN (20).
_ORDER: Final = {
    "approle": 12,
    "userpass": 13,
    "jwt": 14,
    "kubernetes": 15,
    "cert": 16,
    "aws": 17,
}


@dataclass(frozen=True, slots=True, kw_only=True)
class _Held:
    """The token a login gave, to renew it later."""

    token: str = field(repr=False)
    ttl: float
    renewable: bool


@final
class LoginProvider:
    """Log in to Vault with one auth method; renew the token while it may be.

    :param method: ``approle``, ``userpass``, ``jwt``, ``kubernetes``, ``cert``
        or ``aws``
    :param settings: the connection and the method's inputs
    :param optional: answer ``None`` when the inputs' files are absent (detected
        Kubernetes outside a cluster) instead of failing
    :param clock: the time in epoch seconds, the chain's own (tests pass theirs)
    """

    __slots__ = ("_clock", "_held", "_optional", "mount", "name", "role", "settings")

    def __init__(
        self,
        method: str,
        settings: VaultSettings,
        *,
        optional: bool = False,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = method
        self.mount = (settings.auth_mount or method).strip("/")
        self.role = settings.role
        self.settings = settings
        self._optional = optional
        self._clock = clock
        self._held: _Held | None = None

    def __repr__(self) -> str:
        return f"LoginProvider({self.name!r}, mount={self.mount!r}, role={self.role!r})"

    async def load(self) -> Credentials[str] | None:
        """Renew the token when it may be, else log in.

        :return: the token and its expiry; ``None`` for an optional method whose
            token file is absent
        :raises CredentialError: the login failed (naming method, mount, role)
        """
        from anyio.to_thread import run_sync

        held = self._held
        if held is not None and held.renewable:
            try:
                auth = await run_sync(self._blocking, _renew, held.token)
            except SecretkitError as exc:
                _log.info("renewing the Vault %s token failed: %s", self.name, exc)
            else:
                if float(auth.get("lease_duration") or 0) >= held.ttl / 2:
                    return self._answer(auth, renewed=True)
        inputs = await self._inputs()
        if inputs is None:
            return None
        try:
            auth = await run_sync(self._blocking, _LOGINS[self.name], inputs)
        except ConfigurationError:
            raise
        except SecretkitError as exc:
            self._held = None
            raise CredentialError(
                f"{exc.message}; check the {self.name} credentials and role",
                backend=exc.backend,
            ) from exc
        return self._answer(auth, renewed=False)

    def _who(self) -> str:
        role = f", role {self.role!r}" if self.role else ""
        return f"{self.name} login (mount {self.mount!r}{role})"

    def _blocking(self, action: Callable[..., Any], arg: object) -> Mapping[str, Any]:
        """Open a client, run ``action`` on it, close it (in a worker thread)."""
        client = open_client(self.settings)
        try:
            with map_errors(self._who(), None, backend="vault"):
                answer = action(client, self, arg)
        finally:
            client.adapter.close()
        auth = (answer or {}).get("auth") or {}
        if not auth.get("client_token"):
            raise BackendError(f"Vault {self._who()}: the answer holds no token")
        return dict(auth)

    def _answer(self, auth: Mapping[str, Any], *, renewed: bool) -> Credentials[str]:
        ttl = float(auth.get("lease_duration") or 0)
        renewable = bool(auth.get("renewable"))
        token = str(auth["client_token"])
        first = self._held.ttl if renewed and self._held is not None else ttl
        self._held = _Held(token=token, ttl=first, renewable=renewable and ttl > 0)
        return Credentials(
            value=token,
            provider=self.name,
            expires_at=self._clock() + ttl if ttl > 0 else None,
            metadata={
                "auth": self.name,
                "mount": self.mount,
                "role": self.role,
                "policies": tuple(auth.get("token_policies") or ()),
                "renewable": renewable,
                "renewed": renewed,
            },
        )

    async def _inputs(self) -> dict[str, str] | None:
        """The method's inputs, files read now (they may be rotated)."""
        s = self.settings
        every: dict[str, dict[str, tuple[str | None, Path | None]]] = {
            "approle": {
                "role_id": (s.role_id, s.role_id_file),
                "secret_id": (s.secret_id, s.secret_id_file),
            },
            "userpass": {
                "username": (s.username, None),
                "password": (s.password, None),
            },
            "jwt": {"jwt": (s.jwt, s.jwt_file)},
            "kubernetes": {"jwt": (None, s.kubernetes_token_file)},
            "cert": {},  # the connection presents client_cert
            "aws": {},  # signed in the worker thread, from botocore's chain
        }
        wanted = every[self.name]
        found: dict[str, str] = {}
        for key, (value, path) in wanted.items():
            if value is None and path is not None:
                value = await self._read(key, path)
                if value is None:
                    return None
            if value:
                found[key] = value
        return found

    async def _read(self, key: str, path: Path) -> str | None:
        import anyio

        try:
            return (await anyio.Path(path).read_text(encoding="utf-8")).strip()
        except FileNotFoundError:
            if self._optional:
                return None
            problem = "does not exist"
        except (OSError, UnicodeDecodeError) as exc:
            problem = f"cannot be read ({type(exc).__name__})"
        raise CredentialError(
            f"Vault {self._who()}: the {key} file {str(path)!r} {problem}"
        )


def _approle(client: Any, p: LoginProvider, inputs: Mapping[str, str]) -> Any:
    return client.auth.approle.login(
        role_id=inputs["role_id"],
        secret_id=inputs.get("secret_id"),
        use_token=False,
        mount_point=p.mount,
    )


def _userpass(client: Any, p: LoginProvider, inputs: Mapping[str, str]) -> Any:
    return client.auth.userpass.login(
        username=inputs["username"],
        password=inputs["password"],
        use_token=False,
        mount_point=p.mount,
    )


def _jwt(client: Any, p: LoginProvider, inputs: Mapping[str, str]) -> Any:
    return client.auth.jwt.jwt_login(
        role=p.role or "", jwt=inputs["jwt"], use_token=False, path=p.mount
    )


def _kubernetes(client: Any, p: LoginProvider, inputs: Mapping[str, str]) -> Any:
    return client.auth.kubernetes.login(
        role=p.role, jwt=inputs["jwt"], use_token=False, mount_point=p.mount
    )


def _cert(client: Any, p: LoginProvider, inputs: Mapping[str, str]) -> Any:
    # hvac's cert login insists on a CA even with verify off; the session
    # already presents client_cert, so post the login as the others do.
    body = {"name": p.role} if p.role else {}
    return client.adapter.login(f"/v1/auth/{p.mount}/login", use_token=False, json=body)


def _aws(client: Any, p: LoginProvider, inputs: Mapping[str, str]) -> Any:
    from ._aws_iam import login_data

    body = login_data(p.settings)
    return client.adapter.login(f"/v1/auth/{p.mount}/login", use_token=False, json=body)


def _renew(client: Any, p: LoginProvider, token: str) -> Any:
    client.token = token
    return client.auth.token.renew_self()


_LOGINS: Final[Mapping[str, Callable[..., Any]]] = {
    "approle": _approle,
    "userpass": _userpass,
    "jwt": _jwt,
    "kubernetes": _kubernetes,
    "cert": _cert,
    "aws": _aws,
}


def _detected(s: VaultSettings) -> str | None:
    """The method ``auth = auto`` picks from what is given, if any."""
    if s.role_id or s.role_id_file:
        return "approle"
    if s.username:
        return "userpass"
    if s.jwt or s.jwt_file:
        return "jwt"
    if s.role:
        return "kubernetes"  # only if its token file exists (optional)
    return None


_REQUIRED: Final = {
    "approle": (("role_id", "role_id_file"),),
    "userpass": (("username",), ("password",)),
    "jwt": (("jwt", "jwt_file"),),
    "kubernetes": (("role",),),
    "cert": (("client_cert",),),
    "aws": (),
}


def _create(method: str, options: Options) -> LoginProvider | None:
    settings = settings_from(options)
    chosen = settings.auth
    if chosen == "auto":
        if _detected(settings) != method:
            return None
        return LoginProvider(method, settings, optional=method == "kubernetes")
    if chosen != method:
        return None
    for keys in _REQUIRED[method]:
        if not any(getattr(settings, key) for key in keys):
            raise options.error(keys[0], f"is required for auth = {method}")
    if method == "aws" and importlib.util.find_spec("botocore") is None:
        raise options.error(
            "auth", "aws signs with botocore: pip install 'secretkit[aws]'"
        )
    return LoginProvider(method, settings)


def login_factories() -> list[CredentialProviderFactory]:
    """The auth methods, as factories of the ``vault`` chain (orders 12 to 17)."""
    return [
        CredentialProviderFactory(
            kind="vault", name=method, create=partial(_create, method), order=order
        )
        for method, order in _ORDER.items()
    ]
