"""The AWS IAM login's proof: a signed ``sts:GetCallerIdentity`` the server replays.

Vault's ``aws`` auth method (``iam`` type) never sees AWS keys: the client signs
a GetCallerIdentity request with SigV4 and sends its method, URL, body and
headers (base64); the server sends it to STS and learns from the answer who
signed it. The credentials come from botocore's chain (environment, profiles,
web identity, container and instance roles), as every AWS SDK finds them, so
this needs botocore (``secretkit-aws`` brings it); it is imported only here.

Without ``aws_region`` the request is signed for the global endpoint
(``sts.amazonaws.com``, ``us-east-1``), which the server uses unless its
``sts_endpoint`` says otherwise; with it, for that region's endpoint, which the
server's ``sts_endpoint`` and ``sts_region`` must match. ``aws_header_value``
fills ``X-Vault-AWS-IAM-Server-ID``, signed with the rest, when the server
requires one (``iam_server_id_header_value``).
"""

from __future__ import annotations

__all__ = ("BODY", "login_data", "sts_url")

import base64
import json
from typing import TYPE_CHECKING, Final

from secretkit.core.errors import ConfigurationError, CredentialError

if TYPE_CHECKING:
    from .config import VaultSettings

BODY: Final = "Action=GetCallerIdentity&Version=2011-06-15"
_HEADER: Final = "X-Vault-AWS-IAM-Server-ID"


def sts_url(region: str | None) -> str:
    """The STS endpoint the request is signed for."""
    if region is None:
        return "https://sts.amazonaws.com/"
    return f"https://sts.{region}.amazonaws.com/"


def login_data(settings: VaultSettings) -> dict[str, str]:
    """The ``auth/<mount>/login`` body: a freshly signed request (blocking).

    :raises ConfigurationError: botocore is not installed
    :raises CredentialError: botocore's chain finds no AWS credentials
    """
    try:
        import botocore.session
        from botocore.auth import SigV4Auth
        from botocore.awsrequest import AWSRequest
    except ImportError:
        raise ConfigurationError(
            "auth = aws signs with botocore: pip install 'secretkit[aws]'",
            key="auth",
        ) from None
    found = botocore.session.get_session().get_credentials()
    if found is None:
        raise CredentialError(
            "Vault aws login: no AWS credentials found (environment, profile, web "
            "identity, container or instance role); configure one"
        )
    headers = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}
    if settings.aws_header_value:
        headers[_HEADER] = settings.aws_header_value
    url = sts_url(settings.aws_region)
    request = AWSRequest(method="POST", url=url, data=BODY, headers=headers)
    region = settings.aws_region or "us-east-1"
    SigV4Auth(found.get_frozen_credentials(), "sts", region).add_auth(request)
    signed = {key: str(value) for key, value in request.headers.items()}
    data = {
        "iam_http_request_method": "POST",
        "iam_request_url": _b64(url),
        "iam_request_body": _b64(BODY),
        "iam_request_headers": _b64(json.dumps(signed)),
    }
    if settings.role:
        data["role"] = settings.role
    return data


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()
