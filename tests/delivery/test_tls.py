"""TLS done right, against a real aiosmtpd on loopback that wants STARTTLS before mail and AUTH,
with certificates from a test CA made in the test: trusted only through NYHETSBREV_SMTP_CA_FILE."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from tests.delivery.conftest import Sink
from tests.delivery.pki import CertificateAuthority

from nyhetsbrev.delivery.transport import SmtpSettings, SmtpTransport, TransportError
from nyhetsbrev.errors import DeliveryError

MESSAGE = b"From: a@politiet.no\r\nTo: b@example.no\r\nSubject: x\r\n\r\nbody\r\n"


class Accounts:
    def __call__(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"riktig-passord"
        return AuthResult(success=ok, handled=False)


def settings(sink: Sink, ca: CertificateAuthority | None, host: str = "127.0.0.1") -> SmtpSettings:
    return SmtpSettings.parse(
        f"smtp://kom@{host}:{sink.port}",
        "riktig-passord",
        ca_file=ca.ca_file if ca else None,
    )


def test_starttls_then_login_on_loopback(
    tls_sink: Callable[..., Sink], ca: CertificateAuthority
) -> None:
    sink = tls_sink(Sink(), authenticator=Accounts())
    with SmtpTransport(settings(sink, ca)) as transport:
        assert transport.send("a@politiet.no", "b@example.no", MESSAGE).outcome == "sent"
        assert isinstance(transport._smtp.sock, ssl.SSLSocket)  # type: ignore[union-attr]
    assert sink.per_recipient() == {"b@example.no": 1}


def test_starttls_without_login_on_loopback(
    tls_sink: Callable[..., Sink], ca: CertificateAuthority
) -> None:
    """No credentials, but the server offers STARTTLS (and insists on it): it is used."""
    sink = tls_sink(Sink())
    plain = SmtpSettings.parse(sink.url, ca_file=ca.ca_file)
    assert plain.security == "STARTTLS when the server offers it, else plain (loopback)"
    with SmtpTransport(plain) as transport:
        assert transport.send("a@politiet.no", "b@example.no", MESSAGE).outcome == "sent"
    assert sink.count() == 1


def refusal(sink: Sink, ca: CertificateAuthority | None, host: str = "127.0.0.1") -> str:
    with pytest.raises(TransportError) as caught:
        SmtpTransport(settings(sink, ca, host), attempts=1).open()
    assert sink.count() == 0
    return caught.value.message


def test_untrusted_issuer_says_how_to_trust_it(tls_sink: Callable[..., Sink]) -> None:
    sink = tls_sink(Sink(), authenticator=Accounts())
    assert refusal(sink, None) == (
        f"TLS with smtp://kom@127.0.0.1:{sink.port} failed: the certificate of "
        f"127.0.0.1:{sink.port} is issued by CN=KOM Test Root CA,O=KOM test, which this machine "
        "does not trust (unable to get local issuer certificate) — if it is your organisation's "
        "own CA, set NYHETSBREV_SMTP_CA_FILE to a PEM file with the CA's certificate"
    )


def test_self_signed(tls_sink: Callable[..., Sink], ca: CertificateAuthority) -> None:
    ca.issue("selfsigned", ["127.0.0.1"], self_signed=True)
    sink = tls_sink(Sink(), cert="selfsigned", authenticator=Accounts())
    message = refusal(sink, ca)
    assert f"the certificate of 127.0.0.1:{sink.port} is self-signed, which this" in message
    assert "(self-signed certificate)" in message and "NYHETSBREV_SMTP_CA_FILE" in message


@pytest.mark.parametrize(
    ("host", "said"),
    [
        ("127.0.0.1", "IP address mismatch, certificate is not valid for '127.0.0.1'."),
        ("localhost", "Hostname mismatch, certificate is not valid for 'localhost'."),
    ],
)
def test_name_mismatch_names_the_certificate_names(
    tls_sink: Callable[..., Sink], ca: CertificateAuthority, host: str, said: str
) -> None:
    ca.issue("othername", ["mail.politiet.no", "smtp.politiet.no"])
    sink = tls_sink(Sink(), cert="othername", authenticator=Accounts())
    assert refusal(sink, ca, host) == (
        f"TLS with smtp://kom@{host}:{sink.port} failed: the certificate of {host}:{sink.port} "
        f"is for mail.politiet.no, smtp.politiet.no, not for {host} ({said}) — write the host "
        "name the certificate has in NYHETSBREV_SMTP_URL"
    )


def test_expired_certificate(tls_sink: Callable[..., Sink], ca: CertificateAuthority) -> None:
    issued = ca.issue("expired", ["127.0.0.1"], expired=True)
    sink = tls_sink(Sink(), cert="expired", authenticator=Accounts())
    assert refusal(sink, ca) == (
        f"TLS with smtp://kom@127.0.0.1:{sink.port} failed: the certificate of "
        f"127.0.0.1:{sink.port} expired on {issued.certificate.not_valid_after_utc:%Y-%m-%d} "
        "(certificate has expired) — the server's administrator must renew it"
    )


def test_ca_file_that_is_not_pem(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(DeliveryError) as caught:
        SmtpTransport(SmtpSettings.parse("smtp://127.0.0.1:25", ca_file=bad))
    assert caught.value.message.startswith(
        f"NYHETSBREV_SMTP_CA_FILE={bad}: not a PEM file of CA certificates"
    )


def test_ca_file_from_env_must_exist(tmp_path: Path) -> None:
    env = {"NYHETSBREV_SMTP_URL": "smtp://127.0.0.1:25", "NYHETSBREV_SMTP_CA_FILE": "nope.pem"}
    with pytest.raises(DeliveryError) as caught:
        SmtpSettings.from_env(env)
    assert caught.value.message == (
        "NYHETSBREV_SMTP_CA_FILE=nope.pem: no such file — give the path of a PEM file with the "
        "certificate(s) of the CA to trust (in addition to this machine's)"
    )


def test_dry_run_says_how_the_connection_is_protected(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    monkeypatch: pytest.MonkeyPatch,
    smtp_sink: Sink,
) -> None:
    contacts(2)
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", f"smtp://kom@127.0.0.1:{smtp_sink.port}")
    monkeypatch.setenv("NYHETSBREV_SMTP_PASSWORD", "riktig-passord")
    shown = cli("send", "2024-q4").output
    assert (
        f"SMTP:     smtp://kom@127.0.0.1:{smtp_sink.port} (STARTTLS when the server offers it; "
        "no login without it)\nLogin:    password for kom (NYHETSBREV_SMTP_PASSWORD)\n"
    ) in shown
    monkeypatch.setenv("NYHETSBREV_SMTP_ALLOW_PLAINTEXT_AUTH", "1")
    assert (
        "(STARTTLS when the server offers it, else plain: NYHETSBREV_SMTP_ALLOW_PLAINTEXT_AUTH=1 "
        "lets the login travel unencrypted to this loopback server)"
    ) in cli("send", "2024-q4").output
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", "smtp://kom@smtp.office365.com:587")
    assert (
        "SMTP:     smtp://kom@smtp.office365.com:587 (STARTTLS)\n" in cli("send", "2024-q4").output
    )


def test_every_smtp_setting_is_documented() -> None:
    """docs/operations.md names each environment setting the SMTP modules read."""
    from nyhetsbrev.delivery import campaign, oauth, smtpconfig, tls

    docs = (Path(__file__).parents[2] / "docs" / "operations.md").read_text("utf-8")
    names = {
        value
        for module in (smtpconfig, oauth, tls, campaign)
        for key, value in vars(module).items()
        if key.endswith("_ENV") and isinstance(value, str)
    }
    assert len(names) == 12
    assert sorted(n for n in names if f"`{n}`" not in docs) == []
