"""The ``vault`` backend: HashiCorp Vault and OpenBao, through hvac.

``vault://secret/mlflow/auth#token`` reads ``mlflow/auth`` in the KV mount
``secret``: the mount is the ``mount`` option, else detected from the server
(``sys/internal/ui/mounts``) and remembered. KV v2 (``?version=N``, else the
newest) and KV v1 are read as their data, a JSON object; any other logical path
(``rabbitmq/creds/app``, ``pki/...``) is read the generic way, and its lease
duration caps how long the value is cached.

hvac is blocking: every call runs in the core's worker threads on one client per
backend, whose session pools connections.
"""

from __future__ import annotations

__all__ = ("VaultBackend",)

import logging
import time
from typing import TYPE_CHECKING, Any, TypeVar, final

from secretkit.core.backend import Backend, SecretValue
from secretkit.core.errors import (
    AccessDenied,
    BackendError,
    BackendUnavailable,
    CredentialError,
    NotSupported,
    SecretkitError,
    SecretNotFound,
)

from . import _batch, _kv, _leases
from ._connect import open_client
from ._mounts import Mounts
from .credentials import chain_for
from .errors import map_errors

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable, Mapping, Sequence

    import anyio

    from secretkit.core.backend import SecretInfo
    from secretkit.core.credentials import CredentialChain, Credentials
    from secretkit.core.secret import SecretRef

    from .config import VaultSettings

_T = TypeVar("_T")
_log = logging.getLogger(__name__)


@final
class VaultBackend(Backend):
    """Secrets in Vault or OpenBao.

    :param settings: address, namespace, mount, TLS, timeouts, token
    :param name: the instance name this backend is configured under
    :param chain: where the token comes from (default: the ``vault`` chain)
    :param clock: monotonic seconds, for lease expiry (tests pass their own)
    """

    def __init__(
        self,
        settings: VaultSettings,
        *,
        name: str = "vault",
        chain: CredentialChain[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.settings = settings
        self._chain = chain if chain is not None else chain_for(settings, name=name)
        self._client: Any = None
        self._lock: anyio.Lock | None = None
        self._mounts = Mounts(settings, self._detect, backend=name)
        self._leases = _leases.Leases(clock)

    def __repr__(self) -> str:
        return f"VaultBackend({self.name!r}, url={self.settings.url!r})"

    async def fetch(self, ref: SecretRef) -> SecretValue:
        """Read a KV secret (its ``?version=``, else the newest) or a logical path.

        :raises SecretNotFound: no such secret or version, or it was soft-deleted
            or destroyed (the message says which)
        :raises AccessDenied: the token's policies do not allow it
        :raises CredentialError: no token, or the server rejects it
        :raises BackendUnavailable: unreachable, sealed, standby, 5xx, timeout
        """
        if ref.stage is not None:
            raise NotSupported(
                f"Vault has no stages ({ref.name!r}): use ?version=N",
                ref=ref.name,
                backend=self.name,
            )
        mount, path = await self._mounts.locate(ref.name)
        if mount is not None and mount.kv_version == 2:
            version = _kv.version(ref)
            return await self._call(
                "read", ref.name, _kv.read_v2, mount.path, path, version
            )
        if ref.version is not None:
            raise NotSupported(
                f"{ref.name!r} is not in a KV v2 mount and has no versions",
                ref=ref.name,
                backend=self.name,
            )
        full = path if mount is None else f"{mount.path}/{path}"
        return await self._read_leased(ref.name, full)

    async def fetch_many(
        self, refs: Sequence[SecretRef]
    ) -> Mapping[SecretRef, SecretValue | SecretkitError]:
        """Read many secrets: KV v2 ones a queue per worker thread, others one by one.

        Up to ``max_threads`` workers each take one thread hop and read KV v2
        secrets from a shared queue on the pooled connections (``_batch``); what
        they cannot read (any answer but a 200), and every other secret, is read
        by :meth:`fetch`, concurrently.

        :return: for every ref, its value or its own error
        """
        import anyio

        outcomes: dict[SecretRef, SecretValue | SecretkitError] = {}
        batch = _batch.Batch(backend=self.name, settings=self.settings)
        for ref in refs:
            try:
                read = await self._kv2_read(ref)
            except SecretkitError as exc:
                outcomes[ref] = exc
                continue
            if read is not None:
                batch.reads.append(read)
        limit = 8 if self._limiter is None else int(self._limiter.total_tokens)
        workers = min(len(batch.reads), max(1, limit))
        if workers:
            client, credentials = await self._ready()
            try:
                async with anyio.create_task_group() as tg:
                    for _ in range(workers):
                        tg.start_soon(
                            self.run_blocking, batch.work, client, credentials.value
                        )
            finally:
                batch.stopped = True  # cancelled: threads stop after their read
        for ref, result in batch.results.items():
            if result is not None:
                outcomes[ref] = result

        async def one(ref: SecretRef) -> None:
            try:
                outcomes[ref] = await self.fetch(ref)
            except SecretkitError as exc:
                outcomes[ref] = exc

        async with anyio.create_task_group() as tg:
            for ref in refs:
                if ref not in outcomes:
                    tg.start_soon(one, ref)
        return outcomes

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
        """Write a JSON object to a KV secret (a new version in KV v2).

        In KV v2 ``?version=N`` is a check-and-set: the write succeeds only if the
        current version is N (0: only if the secret does not exist yet); with
        ``create=False`` the write is a check-and-set on the current version.

        :param value: a JSON object, as text or UTF-8 bytes
        :param create: create the secret when it does not exist yet
        :raises SecretNotFound: ``create=False`` and no such secret
        :raises DecodeError: the value is not a JSON object
        :raises NotSupported: a path outside a KV mount, or stages, tags or a
            description, which KV does not keep
        :raises BackendError: the check-and-set failed
        """
        if stages or tags or description is not None or ref.stage is not None:
            raise NotSupported(
                "Vault KV keeps no stages, tags or descriptions",
                ref=ref.name,
                backend=self.name,
            )
        data = _kv.json_object(value, ref.name)
        mount, path = await self._mounts.kv(ref.name)
        if mount.kv_version == 1:
            if not create:
                await self.fetch(ref)  # raises SecretNotFound
            await self._call("write", ref.name, _kv.write, mount, path, data, None)
            return SecretValue(value=value)
        cas = _kv.version(ref)
        if cas is None and not create:
            info = await self.describe(ref)
            cas = int(info.version or 0)
        version = await self._call("write", ref.name, _kv.write, mount, path, data, cas)
        return SecretValue(value=value, version=version)

    async def delete(self, ref: SecretRef, *, force: bool = False) -> None:
        """Delete a KV secret's newest version (``?version=N``: that one).

        In KV v2 a deleted version can be undeleted; ``force=True`` deletes the
        metadata and every version for good. In KV v1 deletion is always final.
        """
        mount, path = await self._mounts.kv(ref.name)
        version = _kv.version(ref)
        await self._call("delete", ref.name, _kv.delete, mount, path, version, force)

    async def describe(self, ref: SecretRef) -> SecretInfo:
        """Describe a KV v2 secret: versions (deleted, destroyed), custom metadata.

        :raises SecretNotFound: no such secret
        :raises NotSupported: not in a KV v2 mount
        """
        mount, path = await self._mounts.kv(ref.name)
        if mount.kv_version != 2:
            raise NotSupported(
                f"only KV v2 keeps metadata to describe ({ref.name!r})",
                ref=ref.name,
                backend=self.name,
            )
        name = ref.name
        return await self._call(
            "describe", name, _kv.describe_v2, mount.path, path, name
        )

    async def list(self, prefix: str = "") -> AsyncIterator[str]:
        """Yield the names of the KV secrets under ``prefix``, recursively.

        Without the ``mount`` option, names (and so the prefix) start with their
        mount: ``secret/app/`` lists ``secret/app/db``, ``secret/app/x/api``...

        :raises NotSupported: no mount option and no mount in ``prefix``
        """
        mount, path = await self._mounts.kv(prefix or "")
        folder = path[: path.rfind("/") + 1]
        names = await self._call("list", prefix, _kv.list_names, mount, folder)
        lead = "" if self.settings.mount else f"{mount.path}/"
        for name in names:
            if name.startswith(path):
                yield f"{lead}{name}"

    async def check(self) -> str:
        """Server health and version, who the token is, and ``check_secret``.

        The secret named by the ``check_secret`` option is read, never shown.

        :return: ``token 'NAME' (policies ...; ttl ...) on <url> (version V,
            active)``, then ``; 'NAME' readable`` with ``check_secret``
        :raises BackendUnavailable: unreachable, uninitialized or sealed
        :raises CredentialError: the token is missing or invalid
        :raises SecretNotFound: ``check_secret`` does not exist
        :raises AccessDenied: the token may not read ``check_secret``
        """
        health = await self._call("health check", None, _kv.health)
        if not health.get("initialized", True) or health.get("sealed"):
            state = "sealed" if health.get("sealed") else "not initialized"
            raise BackendUnavailable(
                f"Vault at {self.settings.url} is {state}", backend=self.name
            )
        line = _kv.token_line(await self._lookup_self(), health, self.settings.url)
        name = self.settings.check_secret
        if name is None:
            return line
        from secretkit.core.secret import SecretRef

        found = await self.fetch(SecretRef.parse(name))
        version = f" (version {found.version})" if found.version else ""
        return f"{line}; {name!r} readable{version}"

    async def aclose(self) -> None:
        """Revoke the leases handed out if ``revoke_leases``; close the session."""
        client, self._client = self._client, None
        live = self._leases.take_live()
        if client is None:
            return
        try:
            for lease_id in live if self.settings.revoke_leases else ():
                try:
                    with map_errors("lease revocation", None, backend=self.name):
                        await self.run_blocking(_leases.revoke, client, lease_id)
                except BackendError as exc:  # the lease expires on its own
                    _log.warning("could not revoke a Vault lease: %s", exc)
        finally:
            client.adapter.close()

    async def _read_leased(self, name: str, path: str) -> SecretValue:
        """Renew the lease handed out for ``name`` when possible, else read ``path``."""
        leases = self._leases
        lease = leases.renewable(name)
        if lease is not None:
            since = leases.now()
            try:
                granted = await self._call(
                    "lease renewal", name, _leases.renew, lease.lease_id, lease.duration
                )
            except (BackendUnavailable, CredentialError):
                raise
            except BackendError as exc:  # revoked or expired meanwhile: read anew
                _log.info("Vault lease of %r not renewed (%s); reading anew", name, exc)
            else:
                value = leases.renewed(name, lease, granted, since=since)
                if value is not None:
                    _log.debug("renewed the Vault lease of %r for %ds", name, granted)
                    return value
            leases.forget(name)
        since = leases.now()
        found = await self._call("read", name, _kv.read_generic, path)
        if found is None:
            raise SecretNotFound(
                f"Vault read {name!r}: not found (404)", ref=name, backend=self.name
            )
        leases.remember(name, found, since=since)
        return found

    async def _ready(self) -> tuple[Any, Credentials[str]]:
        """The client, built on first use, and the chain's current token on it."""
        if self._client is None:
            import anyio

            if self._lock is None:
                self._lock = anyio.Lock()
            async with self._lock:
                if self._client is None:
                    self._client = await self.run_blocking(open_client, self.settings)
        credentials = await self._chain.get()
        if self._client.token != credentials.value:
            self._client.token = credentials.value
        return self._client, credentials

    async def _call(
        self, action: str, ref: str | None, fn: Callable[..., _T], *args: object
    ) -> _T:
        """Run ``fn(*args)`` in a worker thread, errors mapped.

        A 403 is ``AccessDenied`` unless the token itself is refused
        (``lookup-self`` fails too): then the chain drops it, logs in again once
        for every caller that used it, and the call is retried once; refused
        again, it is a ``CredentialError``.
        """
        for retry in (False, True):
            client, used = await self._ready()
            try:
                with map_errors(action, ref, backend=self.name):
                    return await self.run_blocking(fn, client, *args)
            except AccessDenied as denied:
                with map_errors("token lookup", None, backend=self.name):
                    refused = await self.run_blocking(
                        _kv.token_refused, client, self.settings, used.value
                    )
                if not refused:
                    raise
                if retry:
                    raise CredentialError(
                        f"Vault {action}{f' {ref!r}' if ref else ''}: the token "
                        f"from {used.provider} is invalid or expired, even anew",
                        ref=ref,
                        backend=self.name,
                    ) from denied
                if await self._chain.get() is used:  # not yet replaced by another
                    self._chain.invalidate()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _lookup_self(self) -> Mapping[str, Any]:
        client, _ = await self._ready()
        with map_errors("token lookup", None, backend=self.name):
            return await self.run_blocking(_kv.lookup_self, client)

    async def _detect(self, path: str) -> _kv.Mount | None:
        try:
            return await self._call("mount lookup", path, _kv.detect_mount, path)
        except (SecretNotFound, AccessDenied):
            return None  # the read itself will say what is wrong

    async def _kv2_read(self, ref: SecretRef) -> _batch.Read | None:
        """The batch read of ``ref`` if it is a KV v2 secret, else ``None``."""
        if ref.stage is not None:
            return None  # fetch() says why not
        mount, path = await self._mounts.locate(ref.name)
        if mount is None or mount.kv_version != 2:
            return None
        return _batch.Read(
            ref=ref, mount=mount.path, path=path, version=_kv.version(ref)
        )
