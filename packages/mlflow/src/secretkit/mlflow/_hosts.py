"""Which hosts may receive MLflow credentials: glob patterns over host and port.

A pattern is a host (``mlflow.corp.com``, ``*.corp.com``, ``10.0.0.*``, ``::1``)
or a host with a port (``mlflow.corp.com:8443``, ``[::1]:5000``, ``*:5000``).
Matching ignores case; a pattern without a port allows every port, one with a port
allows that port only, where a URL without a port has its scheme's (80, 443).
"""

from __future__ import annotations

__all__ = ("HostAllowlist", "describe", "same_origin")

import logging
import threading
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Final, final
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from collections.abc import Iterable

_log = logging.getLogger(__name__)
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_REMEMBERED: Final = 1024  # decisions kept per allowlist; a bound on odd input


@final
class HostAllowlist:
    """Decides, per request URL, whether credentials may go there.

    Decisions are remembered by scheme and authority, so a request to a known host
    costs one dict lookup.

    :param patterns: host patterns, as the module docstring describes
    :raises ValueError: a pattern is a URL, empty, or has a bad port
    """

    __slots__ = ("_decided", "_lock", "_patterns", "_warned", "patterns")

    def __init__(self, patterns: Iterable[str]) -> None:
        self.patterns = tuple(patterns)
        self._patterns = tuple(_parse(p) for p in self.patterns)
        self._decided: dict[str, bool] = {}
        self._warned: set[str] = set()
        self._lock = threading.Lock()

    def allows(self, url: str) -> bool:
        """Say whether ``url``'s host (and port) matches a pattern."""
        end = url.find("/", 8)  # the first slash after "https://"
        key = url if end < 0 else url[:end]
        found = self._decided.get(key)
        if found is None:
            found = self._decide(key)
            if len(self._decided) >= _REMEMBERED:
                self._decided.clear()
            self._decided[key] = found
        return found

    def refuse(self, url: str) -> None:
        """Log, once per host, that credentials were not sent to ``url``'s host."""
        host = describe(url)
        if host in self._warned:
            return
        with self._lock:
            if host in self._warned:
                return
            self._warned.add(host)
        _log.warning(
            "MLflow credentials not sent to %s: the host is not in the allowlist "
            "(SECRETKIT_MLFLOW_ALLOWED_HOSTS / MLFLOW_SECRETS_ALLOWED_HOSTS: %s)",
            host,
            ", ".join(self.patterns),
        )

    def _decide(self, url: str) -> bool:
        target = _target(url)
        if target is None:
            return False
        host, port = target
        return any(
            fnmatchcase(host, host_glob)
            and (port_glob is None or fnmatchcase(str(port), port_glob))
            for host_glob, port_glob in self._patterns
        )


def describe(url: str) -> str:
    """``host:port`` of a URL, for messages (never its user info or path)."""
    target = _target(url)
    if target is None:
        return "<no host>"
    host, port = target
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def same_origin(old: str, new: str) -> bool:
    """Say whether a redirect from ``old`` to ``new`` may keep the credentials.

    It may when scheme, host and port are the same, or for an upgrade from http
    on port 80 to https on port 443 of the same host: the rule requests follows
    for ``Authorization``, here for any header.
    """
    was, now = _origin(old), _origin(new)
    if was is None or now is None or was[1] != now[1]:
        return False
    return was == now or (was[::2], now[::2]) == (("http", 80), ("https", 443))


def _origin(url: str) -> tuple[str, str, int] | None:
    try:
        scheme = urlsplit(url).scheme.lower()
    except ValueError:
        return None
    target = _target(url)
    return None if target is None else (scheme, target[0], target[1])


def _target(url: str) -> tuple[str, int] | None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return None
    if port is None:
        port = _DEFAULT_PORTS.get(parts.scheme.lower(), 0)
    return host, port


def _parse(pattern: str) -> tuple[str, str | None]:
    text = pattern.strip().lower()
    if not text:
        raise ValueError("an empty host pattern")
    if "://" in text or "/" in text:
        raise ValueError(f"{pattern!r} is a URL: give a host or host:port")
    if text.startswith("["):  # [v6] or [v6]:port
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise ValueError(f"{pattern!r}: expected [address] or [address]:port")
        port = rest[1:] or None
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:  # a bare name, or an IPv6 address without brackets
        host, port = text, None
    if port is not None and not all(c.isdigit() or c in "*?" for c in port):
        raise ValueError(f"{pattern!r}: the port must be digits (or a glob)")
    if not host:
        raise ValueError(f"{pattern!r}: no host before the port")
    return host.rstrip("."), port
