"""Every error secretkit raises. One tree; catch ``SecretkitError`` for all of them.

SecretkitError                      .ref and .backend, when known
├── ConfigurationError, InvalidReference, DecodeError     (also ValueError)
├── BackendNotFound                                       (also LookupError)
├── NotSupported                                          (also TypeError)
└── BackendError                    what a backend reports
    ├── SecretNotFound (also LookupError), AccessDenied, CredentialError
    └── BackendUnavailable          the cache may serve a stale value through this one

Messages are one line, name the reference and never show a secret value.
"""

from __future__ import annotations

__all__ = (
    "AccessDenied",
    "BackendError",
    "BackendNotFound",
    "BackendUnavailable",
    "ConfigurationError",
    "CredentialError",
    "DecodeError",
    "InvalidReference",
    "NotSupported",
    "SecretNotFound",
    "SecretkitError",
)


class SecretkitError(Exception):
    """Base of every error secretkit raises.

    :param message: one line saying what went wrong and what to do; never a value
    :param ref: the secret reference concerned, when known
    :param backend: the backend instance name concerned, when known
    """

    def __init__(
        self, message: str, *, ref: str | None = None, backend: str | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.ref = ref
        self.backend = backend

    def __str__(self) -> str:
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        # Keyword-only context survives pickling (multiprocessing, gunicorn).
        return (_rebuild, (type(self), self.message, dict(self.__dict__)))


def _rebuild(
    cls: type[SecretkitError], message: str, state: dict[str, object]
) -> SecretkitError:
    err = cls.__new__(cls)
    Exception.__init__(err, message)
    err.__dict__.update(state)
    return err


class ConfigurationError(SecretkitError, ValueError):
    """Configuration is invalid: an unknown key, a wrong type, a missing option.

    :param key: the offending key, dotted (``backends.prod.region``)
    :param source: where it came from (a file path, ``environment``, ``SecretClient()``)
    """

    def __init__(
        self,
        message: str,
        *,
        key: str | None = None,
        source: str | None = None,
        ref: str | None = None,
        backend: str | None = None,
    ) -> None:
        super().__init__(message, ref=ref, backend=backend)
        self.key = key
        self.source = source


class InvalidReference(SecretkitError, ValueError):
    """A secret reference does not follow ``[backend://]name[?version=..|stage=..][#field]``.

    :param position: zero-based index in the reference text where parsing failed
    """

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        ref: str | None = None,
        backend: str | None = None,
    ) -> None:
        super().__init__(message, ref=ref, backend=backend)
        self.position = position


class DecodeError(SecretkitError, ValueError):
    """A value cannot be read as asked: not JSON, not UTF-8, or the field is missing."""


class BackendNotFound(SecretkitError, LookupError):
    """No backend of that name is configured or installed.

    :param installed: the backend types that are installed
    """

    def __init__(
        self,
        message: str,
        *,
        installed: tuple[str, ...] = (),
        ref: str | None = None,
        backend: str | None = None,
    ) -> None:
        super().__init__(message, ref=ref, backend=backend)
        self.installed = installed


class NotSupported(SecretkitError, TypeError):
    """The backend (or object) cannot do this: a read-only store asked to write, say."""


class BackendError(SecretkitError):
    """Something a backend reported. Subclasses say what; this one is the rest."""


class SecretNotFound(BackendError, LookupError):
    """The secret (or the version asked for) does not exist."""


class AccessDenied(BackendError):
    """The backend refused: the identity lacks permission for this secret."""


class CredentialError(BackendError):
    """No usable credentials: none found, expired, or rejected while signing in."""


class BackendUnavailable(BackendError):
    """The backend could not be reached or kept failing: network, throttling, timeouts.

    The cache may serve a stale value through this error, up to ``max_stale``.
    """
