"""TLS for SMTP and the token endpoint: whom to trust, and why a certificate was refused.

`client_context()` trusts the system's CAs plus the PEM bundle in `NYHETSBREV_SMTP_CA_FILE` (an
organisation's own CA). `certificate_problem()` turns OpenSSL's verify result into the real cause
(untrusted issuer, a name the certificate does not have, expired) and, to say which names or
dates the certificate has, looks at it over a second, unverified connection that sends nothing
but EHLO and STARTTLS.
"""

from __future__ import annotations

import smtplib
import ssl
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nyhetsbrev.errors import DeliveryError

CA_FILE_ENV = "NYHETSBREV_SMTP_CA_FILE"

# OpenSSL's X509_V_ERR_* codes (ssl.SSLCertVerificationError.verify_code)
_NOT_YET_VALID, _EXPIRED = 9, 10
_SELF_SIGNED, _SELF_SIGNED_IN_CHAIN, _NO_ISSUER_LOCALLY, _NO_ISSUER_LEAF = 18, 19, 20, 21
_NO_ISSUER = 2
_HOSTNAME_MISMATCH, _IP_MISMATCH = 62, 64
_UNTRUSTED = {_NO_ISSUER, _SELF_SIGNED, _SELF_SIGNED_IN_CHAIN, _NO_ISSUER_LOCALLY, _NO_ISSUER_LEAF}


def client_context(ca_file: Path | None) -> ssl.SSLContext:
    """Certificate and host name checks on; the system's CAs and `ca_file` trusted."""
    context = ssl.create_default_context()
    if ca_file is not None:
        try:
            context.load_verify_locations(cafile=str(ca_file))
        except (OSError, ssl.SSLError) as exc:
            raise DeliveryError(
                f"{CA_FILE_ENV}={ca_file}: not a PEM file of CA certificates "
                f"({getattr(exc, 'reason', None) or exc})"
            ) from None
    return context


def certificate_problem(
    exc: ssl.SSLError, scheme: str, host: str, port: int, timeout: float = 10.0
) -> str:
    """What is wrong with the server's certificate, and what to do about it."""
    where = f"{host}:{port}"
    if not isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS with {where} failed: {exc.reason or exc}"
    code, said = exc.verify_code, exc.verify_message
    seen = peer_certificate(scheme, host, port, timeout)
    if code in (_HOSTNAME_MISMATCH, _IP_MISMATCH):
        names = ", ".join(_names(seen)) if seen is not None else "other names"
        return (
            f"the certificate of {where} is for {names}, not for {host} ({said}) — write the "
            "host name the certificate has in NYHETSBREV_SMTP_URL"
        )
    if code == _EXPIRED:
        when = f" on {seen.not_valid_after_utc:%Y-%m-%d}" if seen is not None else ""
        return (
            f"the certificate of {where} expired{when} ({said}) — the server's administrator "
            "must renew it"
        )
    if code == _NOT_YET_VALID:
        return (
            f"the certificate of {where} is not valid yet ({said}) — check this machine's "
            f"clock (it says {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
        )
    if code in _UNTRUSTED:
        issuer = seen.issuer.rfc4514_string() if seen is not None else "an unknown issuer"
        what = "is self-signed" if code == _SELF_SIGNED else f"is issued by {issuer}"
        return (
            f"the certificate of {where} {what}, which this machine does not trust ({said}) — "
            f"if it is your organisation's own CA, set {CA_FILE_ENV} to a PEM file with the CA's "
            "certificate"
        )
    return f"the certificate of {where} cannot be verified: {said}"


def peer_certificate(scheme: str, host: str, port: int, timeout: float) -> Any:
    """The server's certificate (a `cryptography` x509.Certificate), unverified; None if unseen.

    Only EHLO and STARTTLS are sent, and the connection is closed at once: no credentials, no
    mail.
    """
    from cryptography import x509

    unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    smtp: smtplib.SMTP | None = None
    try:
        if scheme == "smtps":
            smtp = smtplib.SMTP_SSL(host, port, timeout=timeout, context=unverified)
        else:
            smtp = smtplib.SMTP(host, port, timeout=timeout)
            smtp.ehlo()
            smtp.starttls(context=unverified)
        sock = smtp.sock
        der = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
        return x509.load_der_x509_certificate(der) if der else None
    except (OSError, smtplib.SMTPException, ValueError):
        return None
    finally:
        if smtp is not None:
            smtp.close()


def _names(certificate: Any) -> list[str]:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    try:
        alternative = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        names = alternative.value.get_values_for_type(x509.DNSName) + [
            str(ip) for ip in alternative.value.get_values_for_type(x509.IPAddress)
        ]
    except x509.ExtensionNotFound:
        names = []
    if not names:
        names = [
            str(a.value) for a in certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        ]
    return names or ["no names at all"]
