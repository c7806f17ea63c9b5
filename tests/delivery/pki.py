"""A test certificate authority made in the test (cryptography): server and client certificates.

Nothing here is a fixture; `conftest.py` builds one CA per session from it.
"""

from __future__ import annotations

import ipaddress
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

Key = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey


def _name(common: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "KOM test"),
            x509.NameAttribute(NameOID.COMMON_NAME, common),
        ]
    )


def _pem_key(key: Key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _alt_names(names: list[str]) -> x509.SubjectAlternativeName:
    general: list[x509.GeneralName] = []
    for name in names:
        try:
            general.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            general.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(general)


@dataclass
class Issued:
    """A certificate and its key, as PEM files (`pem` holds both, key first)."""

    cert: Path
    key: Path
    pem: Path
    certificate: x509.Certificate

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert, self.key)
        return context


class CertificateAuthority:
    """A CA in `folder`; `ca_file` is its certificate, to trust."""

    def __init__(self, folder: Path, name: str = "KOM Test Root CA") -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.now(UTC)
        self.certificate = (
            x509.CertificateBuilder()
            .subject_name(_name(name))
            .issuer_name(_name(name))
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(self.key.public_key()), critical=False
            )
            .sign(self.key, hashes.SHA256())
        )
        self.ca_file = folder / "ca.pem"
        self.ca_file.write_bytes(self.certificate.public_bytes(serialization.Encoding.PEM))

    def issue(
        self,
        label: str,
        names: list[str],
        *,
        expired: bool = False,
        self_signed: bool = False,
        client: bool = False,
    ) -> Issued:
        """A certificate for `names` (DNS names or IP addresses), signed by this CA."""
        key: Key = (
            rsa.generate_private_key(65537, 2048)
            if client
            else ec.generate_private_key(ec.SECP256R1())
        )
        now = datetime.now(UTC)
        start, end = (
            (now - timedelta(days=60), now - timedelta(days=30))
            if expired
            else (now - timedelta(days=1), now + timedelta(days=30))
        )
        issuer_key: Key = key if self_signed else self.key
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(names[0]))
            .issuer_name(_name(names[0]) if self_signed else self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(_alt_names(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        )
        if not self_signed:
            builder = builder.add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                critical=False,
            )
        certificate = builder.sign(issuer_key, hashes.SHA256())
        cert = self.folder / f"{label}.crt"
        cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        key_path = self.folder / f"{label}.key"
        key_path.write_bytes(_pem_key(key))
        pem = self.folder / f"{label}.pem"
        pem.write_bytes(key_path.read_bytes() + cert.read_bytes())
        return Issued(cert, key_path, pem, certificate)
