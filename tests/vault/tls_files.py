"""The TLS files of the Vault TLS tests: a server chain and a client certificate.

The server's CA and certificate come from ``tests/azure/_tls.py``. The client
certificate is self-signed, for client authentication: the TLS listener trusts
it as its own CA (``tls_client_ca_file``) and the ``cert`` auth method as a role's
``certificate``, as a pinned client certificate is trusted in production.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.azure._tls import TestCertificates, make_certificates

if TYPE_CHECKING:
    from pathlib import Path


@dataclass(frozen=True)
class TlsFiles:
    """Paths of the PEM files: the server's (CA, chain, key) and the client's."""

    server: TestCertificates
    client_cert: Path
    client_key: Path


def make_tls_files(where: Path) -> TlsFiles:
    """Write the server's CA and certificate and a client certificate in ``where``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "secretkit-client")])
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    files = TlsFiles(
        server=make_certificates(where),
        client_cert=where / "client.pem",
        client_key=where / "client-key.pem",
    )
    files.client_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    files.client_key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return files
