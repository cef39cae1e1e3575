"""The header value each secret shape makes, and the shapes that are refused."""

from __future__ import annotations

import base64

import pytest

from secretkit.core.errors import DecodeError
from secretkit.core.secret import Secret
from secretkit.mlflow._header import header_value
from secretkit.mlflow.config import MlflowSettings


def _value(secret: str | bytes, **settings: object) -> str:
    config = MlflowSettings(ref="file://mlflow/auth", **settings)  # type: ignore[arg-type]
    return header_value(Secret("mlflow/auth", secret), config)


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("secret", "settings", "expected"),
    [
        ('{"token": "t1"}', {}, "Bearer t1"),
        ("  plain-token\n", {}, "Bearer plain-token"),
        ("a:b", {}, "Bearer a:b"),
        ("12345", {}, "Bearer 12345"),
        ('{"token": "t1"}', {"mode": "header"}, "t1"),
        ('{"username": "u", "password": "p"}', {"mode": "basic"}, _basic("u", "p")),
        ("u:p:with:colons\n", {"mode": "basic"}, _basic("u", "p:with:colons")),
        ('{"token": "u:p"}', {"mode": "basic"}, _basic("u", "p")),
        ('{"key": "k"}', {"token_field": "key"}, "Bearer k"),
        ('{"auth": {"t": "deep"}}', {"token_field": "/auth/t"}, "Bearer deep"),
        (
            '{"user": "u", "pw": "p"}',
            {"mode": "basic", "username_field": "user", "password_field": "pw"},
            _basic("u", "p"),
        ),
        (b'{"token": "from-bytes"}', {}, "Bearer from-bytes"),
        ("t\u00e9", {}, "Bearer t\u00e9"),
    ],
)
def test_shapes(
    secret: str | bytes, settings: dict[str, object], expected: str
) -> None:
    """JSON objects, plain text and binary secrets make the header the mode asks."""
    assert _value(secret, **settings) == expected


@pytest.mark.parametrize(
    ("secret", "settings", "match"),
    [
        ('{"username": "u", "password": "p"}', {}, "AUTH_MODE=basic"),
        ('{"other": "x"}', {}, "'token'"),
        ("   ", {}, "empty"),
        ("no-colon", {"mode": "basic"}, "user name and a password"),
        ('{"username": "u"}', {"mode": "basic"}, "'password'"),
        (b"\xff\xfe", {}, "not UTF-8"),
        ("line\r\nX-Injected: 1", {}, "line break"),
    ],
)
def test_refused(secret: str | bytes, settings: dict[str, object], match: str) -> None:
    """Unusable secrets raise DecodeError naming the reference, never the value."""
    with pytest.raises(DecodeError, match=match) as caught:
        _value(secret, **settings)
    assert "file://mlflow/auth" in str(caught.value)
    assert "Injected" not in str(caught.value)
