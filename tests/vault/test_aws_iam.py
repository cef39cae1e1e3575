"""AWS IAM login: a signed sts:GetCallerIdentity from botocore's credential chain.

OpenBao 2.7 has no ``aws`` auth method, so the login goes to a loopback stand-in
(``aws_login.py``) that checks the signature and replays the request to a real
moto server's STS, as Vault's method replays it to AWS, and binds the caller ARN
moto answers to the role.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import TYPE_CHECKING, Any

import pytest

from secretkit.core.errors import ConfigurationError, CredentialError
from secretkit.core.options import Options
from secretkit.vault.config import read_settings
from secretkit.vault.credentials import chain_for
from tests.aws.moto_process import identity, moto_server

from .aws_login import HEADER, AwsAuth, aws_auth_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(scope="module")
def moto_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A moto server (STS and IAM on one port), for this module."""
    with moto_server(tmp_path_factory.mktemp("moto")) as url:
        yield url


@pytest.fixture(scope="module")
def iam_user(moto_url: str) -> tuple[str, str, str]:
    """An IAM user in moto with an access key: its ARN, key id and secret key."""
    import botocore.session

    iam: Any = botocore.session.get_session().create_client(
        "iam",
        endpoint_url=moto_url,
        region_name="us-east-1",
        aws_access_key_id="admin",
        aws_secret_access_key="admin",
    )
    arn = iam.create_user(UserName="ci")["User"]["Arn"]
    key = iam.create_access_key(UserName="ci")["AccessKey"]
    return arn, key["AccessKeyId"], key["SecretAccessKey"]


@pytest.fixture
def aws_auth(moto_url: str, iam_user: tuple[str, str, str]) -> Iterator[AwsAuth]:
    """The stand-in login endpoint, role ``ci`` bound to the IAM user."""
    arn, key_id, secret = iam_user
    with aws_auth_server(moto_url) as auth:
        auth.roles["ci"] = arn
        auth.secrets[key_id] = secret
        yield auth


@pytest.fixture
def aws_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, iam_user: tuple[str, str, str]
) -> None:
    """The IAM user's keys in the environment; no real AWS files or metadata."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            monkeypatch.delenv(name)
    for name, value in identity(tmp_path, key=iam_user[1], secret=iam_user[2]).items():
        monkeypatch.setenv(name, value)


def _chain(url: str, **values: object):
    options = Options({"url": url, "auth": "aws", **values}, instance="v", source="t")
    return chain_for(read_settings(options, {}), name="v")


async def test_login_signed_from_the_chain(aws_env, aws_auth, iam_user) -> None:
    """The login carries a GetCallerIdentity signed with the environment's keys."""
    aws_auth.header_value = "vault.example.com"
    chain = _chain(aws_auth.url, role="ci", aws_header_value="vault.example.com")
    found = await chain.get()
    assert found.value.startswith("aws-token-")
    assert found.metadata["auth"] == "aws"
    assert found.expires_at is not None
    login = aws_auth.logins[-1]
    assert login["path"] == "/v1/auth/aws/login"
    assert (login["method"], login["url"]) == ("POST", "https://sts.amazonaws.com/")
    assert login["body"] == "Action=GetCallerIdentity&Version=2011-06-15"
    assert login["headers"][HEADER] == "vault.example.com"
    assert f"Credential={iam_user[1]}/" in login["headers"]["Authorization"]
    assert "/us-east-1/sts/aws4_request" in login["headers"]["Authorization"]
    assert login["arn"] == iam_user[0]


async def test_region_and_mount(aws_env, aws_auth) -> None:
    """aws_region signs for that region's STS endpoint; auth_mount is the path."""
    chain = _chain(aws_auth.url, role="ci", aws_region="eu-west-1", auth_mount="iam")
    await chain.get()
    login = aws_auth.logins[-1]
    assert login["path"] == "/v1/auth/iam/login"
    assert login["url"] == "https://sts.eu-west-1.amazonaws.com/"
    assert "/eu-west-1/sts/aws4_request" in login["headers"]["Authorization"]


async def test_unbound_principal(aws_env, aws_auth, iam_user, caplog) -> None:
    """A principal the role does not bind: CredentialError naming method and role."""
    caplog.set_level(logging.DEBUG)
    aws_auth.roles["ci"] = "arn:aws:iam::123456789012:user/someone-else"
    with pytest.raises(CredentialError, match=r"aws login \(mount 'aws', role 'ci'\)"):
        await _chain(aws_auth.url, role="ci").get()
    assert iam_user[2] not in caplog.text


async def test_no_aws_credentials(aws_env, aws_auth, monkeypatch) -> None:
    """botocore's chain finding nothing is a CredentialError saying so."""
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with pytest.raises(CredentialError, match="no AWS credentials"):
        await _chain(aws_auth.url, role="ci").get()
    assert aws_auth.logins == []


def test_without_botocore(monkeypatch) -> None:
    """auth = aws without botocore installed is a ConfigurationError at once."""
    monkeypatch.setitem(sys.modules, "botocore", None)
    with pytest.raises(ConfigurationError, match=r"secretkit\[aws\]"):
        _chain("http://127.0.0.1:1", role="ci")
