"""Auth methods on the dev server for the login tests: AppRole, userpass, JWT."""

from __future__ import annotations

import base64
import json
import time
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

READER = """
path "secret/data/*" { capabilities = ["read"] }
path "sys/internal/ui/mounts/*" { capabilities = ["read"] }
"""


@dataclass(frozen=True)
class Logins:
    """What the tests log in with (role_ids, secret_ids, a JWT signer)."""

    role_id: str
    secret_id: str
    batch_role_id: str
    batch_secret_id: str
    key: rsa.RSAPrivateKey

    def jwt(self, **claims: object) -> str:
        """A JWT signed with the key the server trusts (RS256)."""
        now = int(time.time())
        body = {"sub": "ci", "aud": "secretkit", "iat": now, "exp": now + 600}
        body.update(claims)
        head = _b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
        payload = _b64(json.dumps(body).encode())
        signed = f"{head}.{payload}".encode()
        sig = self.key.sign(signed, padding.PKCS1v15(), hashes.SHA256())
        return f"{head}.{payload}.{_b64(sig)}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def enable_logins(root: Any) -> Logins:
    """Enable approle, userpass and jwt with a ``reader`` policy; return inputs."""
    root.sys.create_or_update_policy("reader", READER)
    root.sys.enable_auth_method("approle")
    root.sys.enable_auth_method("userpass")
    root.sys.enable_auth_method("jwt")
    common = {"token_policies": ["reader"], "token_ttl": 3600, "token_max_ttl": 7200}
    root.write("auth/approle/role/app", **common)
    root.write("auth/approle/role/batch", token_type="batch", **common)
    ids = {}
    for role in ("app", "batch"):
        role_id = root.read(f"auth/approle/role/{role}/role-id")["data"]["role_id"]
        secret = root.write(f"auth/approle/role/{role}/secret-id")["data"]
        ids[role] = (role_id, secret["secret_id"])
    root.write("auth/userpass/users/alice", password="alice-pw", **common)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = (
        key.public_key()
        .public_bytes(
            serialization.Encoding.PEM,
            serialization.PublicFormat.SubjectPublicKeyInfo,
        )
        .decode()
    )
    root.write("auth/jwt/config", jwt_validation_pubkeys=[pem])
    root.write(
        "auth/jwt/role/ci",
        role_type="jwt",
        user_claim="sub",
        bound_audiences=["secretkit"],
        **common,
    )
    return Logins(
        role_id=ids["app"][0],
        secret_id=ids["app"][1],
        batch_role_id=ids["batch"][0],
        batch_secret_id=ids["batch"][1],
        key=key,
    )
