"""The header value a secret makes: ``Bearer <token>``, ``Basic ...`` or the token.

A secret is a JSON object (``{"token": ...}`` or ``{"username": ..., "password":
...}``, field names configurable, ``/pointers`` too) or plain text: a token, or
``user:pass`` in basic mode. Binary secrets are UTF-8 text. Whitespace around
values is dropped. Errors name the reference, never a value.
"""

from __future__ import annotations

__all__ = ("header_value",)

import json
import re
from base64 import b64encode
from typing import TYPE_CHECKING

from secretkit.core.errors import DecodeError
from secretkit.core.secret import Secret

if TYPE_CHECKING:
    from .config import MlflowSettings

# Header values must not break the request: no CR, LF or other control characters.
_UNSAFE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def header_value(secret: Secret, settings: MlflowSettings) -> str:
    """Build the header value for ``settings.mode`` from ``secret``.

    :raises DecodeError: not UTF-8, a field missing or empty, or a value that
        cannot go in a header
    """
    ref = settings.ref
    raw = secret.reveal()
    if isinstance(raw, bytes):
        try:
            raw = raw.decode()
        except UnicodeDecodeError:
            raise _bad(ref, "is binary and not UTF-8 text") from None
    text = Secret(secret.name, raw)
    structured = _is_object(raw)
    if settings.mode == "basic":
        user, password = _basic(text, structured, settings)
        value = "Basic " + b64encode(f"{user}:{password}".encode()).decode("ascii")
    else:
        token = _token(text, structured, settings)
        value = token if settings.mode == "header" else f"Bearer {token}"
    if _UNSAFE.search(value):
        raise _bad(ref, "holds a line break or control character; it was not sent")
    return value


def _is_object(raw: str) -> bool:
    if not raw.lstrip().startswith("{"):
        return False  # only a JSON object is structured; "123" is a plain token
    try:
        return isinstance(json.loads(raw), dict)
    except ValueError:
        return False


def _field(text: Secret, name: str) -> str | None:
    try:
        value = text.field(name).reveal()
    except DecodeError:
        return None
    return value.strip() if isinstance(value, str) else None


def _token(text: Secret, structured: bool, settings: MlflowSettings) -> str:
    if not structured:
        token = str(text.reveal()).strip()
    else:
        found = _field(text, settings.token_field)
        if found is None:
            hint = (
                "; it holds a user name: set SECRETKIT_MLFLOW_AUTH_MODE=basic"
                if _field(text, settings.username_field) is not None
                else " (SECRETKIT_MLFLOW_TOKEN_FIELD names another)"
            )
            raise _bad(
                settings.ref,
                f"has no {settings.token_field!r} field for {settings.mode} auth{hint}",
            )
        token = found
    if not token:
        raise _bad(settings.ref, "holds an empty token")
    return token


def _basic(text: Secret, structured: bool, settings: MlflowSettings) -> tuple[str, str]:
    if structured:
        user = _field(text, settings.username_field)
        password = _field(text, settings.password_field)
        if user is None or password is None:
            pair = _field(text, settings.token_field)
            if pair is None:
                raise _bad(
                    settings.ref,
                    f"needs {settings.username_field!r} and "
                    f"{settings.password_field!r} fields (or a "
                    f"{settings.token_field!r} of user:password) for basic auth",
                )
            user, _, password = pair.partition(":")
    else:
        user, _, password = str(text.reveal()).strip().partition(":")
    user, password = user.strip(), password.strip()
    if not user or not password:
        raise _bad(
            settings.ref,
            "needs a user name and a password for basic auth "
            "(JSON username and password, or user:password)",
        )
    if ":" in user:
        raise _bad(settings.ref, "has a ':' in the user name, which basic auth forbids")
    return user, password


def _bad(ref: str, problem: str) -> DecodeError:
    return DecodeError(f"MLflow auth secret {ref!r} {problem}", ref=ref)
