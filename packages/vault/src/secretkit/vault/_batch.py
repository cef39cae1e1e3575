"""Batched KV v2 reads: many secrets per worker-thread hop, on the session's pool.

On loopback a Vault read costs the client more than the server: a thread hop,
hvac and requests each take more CPU than the answer takes to parse. A batch
(``get_many``) therefore reads its KV v2 secrets with a few workers; each takes
one thread hop, then reads secret after secret from a shared queue, each a
urllib3 GET on the pool the backend's requests session keeps (its TLS trust,
client certificate and retries), with the headers hvac sends (token, namespace).

Only a 200 becomes a value here. Any other answer (404, 403, a standby's
redirect...) is left to the one-secret path, which maps every error and logs in
again when the token is refused; a connection that fails after the retries is
that secret's ``BackendUnavailable``.
"""

from __future__ import annotations

__all__ = ("Batch", "Read")

import json
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, final
from urllib.parse import quote, urlsplit

from secretkit.core.errors import BackendError

from ._connect import read_pool
from ._kv import value_v2
from .errors import map_errors

if TYPE_CHECKING:
    from secretkit.core.backend import SecretValue
    from secretkit.core.secret import SecretRef

    from .config import VaultSettings


@dataclass(frozen=True, slots=True, kw_only=True)
class Read:
    """One KV v2 read of a batch.

    :param ref: the reference asked for
    :param mount: the KV v2 mount's path
    :param path: the secret's path inside the mount
    :param version: a version, else the newest
    """

    ref: SecretRef
    mount: str
    path: str
    version: int | None


@final
@dataclass(slots=True, kw_only=True)
class Batch:
    """The reads of one ``fetch_many`` and what became of them.

    :param backend: the backend instance name, for errors
    :param settings: the server's address, namespace and TLS
    :param reads: the reads still to send
    :ivar results: per ref, its value, its error, or ``None`` (for the
        one-secret path); a ref still queued has none
    :ivar stopped: set when the caller gave up; workers stop after their read
    """

    backend: str
    settings: VaultSettings
    reads: deque[Read] = field(default_factory=deque)
    results: dict[SecretRef, SecretValue | BackendError | None] = field(
        default_factory=dict
    )
    stopped: bool = False

    def work(self, client: Any, token: str) -> None:
        """Send queued reads until none is left or the batch stops (a thread).

        :param client: the backend's hvac client (its session's pool is used)
        :param token: the token to send
        """
        found = read_pool(client, self.settings)
        if found is None:
            return  # through a proxy: the one-secret path reads them all
        pool, retries = found
        prefix = urlsplit(self.settings.url).path.rstrip("/")
        headers = {"X-Vault-Token": token, "X-Vault-Request": "true"}
        if self.settings.namespace:
            headers["X-Vault-Namespace"] = self.settings.namespace
        timeout = self.settings.timeout
        reads, results = self.reads, self.results
        while not self.stopped:
            try:
                read = reads.popleft()
            except IndexError:
                return
            url = f"{prefix}/v1/{quote(read.mount)}/data/{quote(read.path)}"
            if read.version is not None:
                url = f"{url}?version={read.version}"
            try:
                with map_errors("read", read.ref.name, backend=self.backend):
                    answer = pool.urlopen(
                        "GET",
                        url,
                        headers=headers,
                        retries=retries,
                        timeout=timeout,
                        redirect=False,  # a standby's redirect: the hvac path
                    )
            except BackendError as exc:
                results[read.ref] = exc
                continue
            results[read.ref] = _value(answer, read)


def _value(answer: Any, read: Read) -> SecretValue | None:
    """A 200's value; ``None`` for anything else (the one-secret path says why)."""
    if answer.status != 200:
        return None
    try:
        data = json.loads(answer.data)
    except ValueError:
        return None
    if not isinstance(data, dict):
        return None
    return value_v2(data, read.mount, read.path)
