"""The SMTP transport against a real server on loopback: settings, login, outcomes, reconnects."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from tests.delivery.conftest import Sink, free_port

from nyhetsbrev.delivery.transport import (
    RateLimiter,
    SmtpSettings,
    SmtpTransport,
    TransportError,
    check_credentials_allowed,
)
from nyhetsbrev.errors import DeliveryError

LOOPBACK = "STARTTLS when the server offers it, else plain (loopback)"
LOOPBACK_LOGIN = "STARTTLS when the server offers it; no login without it"
MESSAGE = b"From: a@politiet.no\r\nTo: b@example.no\r\nSubject: x\r\n\r\n.leading dot\r\nbody\r\n"


@pytest.mark.parametrize(
    ("url", "display", "security", "loopback"),
    [
        (
            "smtp://kom@smtp.office365.com:587",
            "smtp://kom@smtp.office365.com:587",
            "STARTTLS",
            False,
        ),
        (
            "smtp://kom%40politiet.no@smtp.office365.com",
            "smtp://kom@politiet.no@smtp.office365.com:587",
            "STARTTLS",
            False,
        ),
        ("smtps://relay.example.no", "smtps://relay.example.no:465", "TLS", False),
        ("smtp://127.0.0.1:2525", "smtp://127.0.0.1:2525", LOOPBACK, True),
        ("smtp://localhost:25", "smtp://localhost:25", LOOPBACK, True),
        ("smtp://[::1]:2525", "smtp://[::1]:2525", LOOPBACK, True),
        ("smtp://kom@[::1]:2525", "smtp://kom@[::1]:2525", LOOPBACK_LOGIN, True),
    ],
)
def test_settings_from_url(url: str, display: str, security: str, loopback: bool) -> None:
    settings = SmtpSettings.parse(url, "hunter2-secret" if "@" in url else None)
    assert settings.display == display
    assert settings.security == security
    assert settings.loopback is loopback
    assert "hunter2" not in repr(settings) and "hunter2" not in settings.display


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {},
            "NYHETSBREV_SMTP_URL is not set: say which SMTP server sends the newsletter, e.g. "
            "export NYHETSBREV_SMTP_URL=smtp://kom@politiet.no@smtp.office365.com:587 and the "
            "password in NYHETSBREV_SMTP_PASSWORD — see docs/operations.md",
        ),
        (
            {"NYHETSBREV_SMTP_URL": "http://smtp.office365.com"},
            'NYHETSBREV_SMTP_URL must start with smtp:// (STARTTLS) or smtps:// (TLS), not "http://" '
            "— e.g. smtp://user@smtp.office365.com:587",
        ),
        (
            {"NYHETSBREV_SMTP_URL": "smtp://kom:hunter2@smtp.office365.com:587"},
            "NYHETSBREV_SMTP_URL contains a password: remove it from the URL and set it in "
            "NYHETSBREV_SMTP_PASSWORD instead (the URL is printed; the password never is)",
        ),
        (
            {"NYHETSBREV_SMTP_URL": "smtp://kom@smtp.office365.com:587"},
            "NYHETSBREV_SMTP_URL names the user kom but NYHETSBREV_SMTP_PASSWORD is not set: set it "
            "to that account's password (or an app password), or log in with a token: "
            "NYHETSBREV_SMTP_AUTH=m365 (Microsoft 365) or xoauth2",
        ),
        (
            {"NYHETSBREV_SMTP_URL": "smtp://host:99999"},
            "NYHETSBREV_SMTP_URL is not a valid URL: smtp://host:99999",
        ),
    ],
)
def test_settings_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(DeliveryError) as caught:
        SmtpSettings.from_env(env)
    assert caught.value.message == message
    assert "hunter2" not in caught.value.message


def test_credentials_only_over_tls_loopback_included() -> None:
    for url in ("smtp://kom@mail.politiet.no:587", "smtp://kom@127.0.0.1:25"):
        settings = SmtpSettings.parse(url, "pw")
        with pytest.raises(TransportError) as caught:
            check_credentials_allowed(settings, encrypted=False)
        assert caught.value.message == (
            f"refusing to send the password for kom to {settings.display} over an unencrypted "
            "connection — the server offers no STARTTLS: use STARTTLS (smtp://…:587) or "
            "smtps://…:465; for a relay on this machine only, "
            "NYHETSBREV_SMTP_ALLOW_PLAINTEXT_AUTH=1 allows it"
        )
        check_credentials_allowed(settings, encrypted=True)
    allowed = SmtpSettings.parse("smtp://kom@127.0.0.1:25", "pw", allow_plaintext_auth=True)
    check_credentials_allowed(allowed, encrypted=False)


def test_remote_server_without_starttls_is_refused(
    smtp_sink: Sink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A server that is not on loopback and offers no STARTTLS: nothing goes over plain text."""
    monkeypatch.setattr(SmtpSettings, "loopback", property(lambda self: False))
    transport = SmtpTransport(SmtpSettings.parse(smtp_sink.url), attempts=1)
    with pytest.raises(TransportError, match="does not offer STARTTLS"):
        transport.open()
    assert smtp_sink.count() == 0


class Accounts:
    def __call__(self, server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        ok = isinstance(auth_data, LoginPassword) and auth_data.password == b"riktig-passord"
        return AuthResult(success=ok, handled=False)


@pytest.fixture
def auth_sink() -> Iterator[Sink]:
    sink = Sink(port=free_port())
    controller = Controller(
        sink,
        hostname="127.0.0.1",
        port=sink.port,
        authenticator=Accounts(),
        auth_require_tls=False,
        auth_exclude_mechanism=["LOGIN"],
    )
    controller.start()
    yield sink
    controller.stop()


def test_no_password_in_clear_even_to_loopback(auth_sink: Sink) -> None:
    """The server offers AUTH without STARTTLS: the password is not sent."""
    settings = SmtpSettings.parse(f"smtp://kom@127.0.0.1:{auth_sink.port}", "riktig-passord")
    with pytest.raises(TransportError, match="over an unencrypted connection"):
        SmtpTransport(settings).open()


def test_plaintext_login_on_loopback_when_allowed(auth_sink: Sink) -> None:
    settings = SmtpSettings.from_env(
        {
            "NYHETSBREV_SMTP_URL": f"smtp://kom@127.0.0.1:{auth_sink.port}",
            "NYHETSBREV_SMTP_PASSWORD": "riktig-passord",
            "NYHETSBREV_SMTP_ALLOW_PLAINTEXT_AUTH": "1",
        }
    )
    with SmtpTransport(settings) as transport:
        result = transport.send("a@politiet.no", "b@example.no", MESSAGE)
    assert result.outcome == "sent"
    assert auth_sink.received[0].data.endswith(b".leading dot\r\nbody\r\n")  # dots unstuffed


def test_wrong_password_is_a_clear_error(auth_sink: Sink) -> None:
    settings = SmtpSettings.parse(
        f"smtp://kom@127.0.0.1:{auth_sink.port}", "feil-passord", allow_plaintext_auth=True
    )
    with pytest.raises(TransportError) as caught:
        SmtpTransport(settings).open()
    assert caught.value.message == (
        f"smtp://kom@127.0.0.1:{auth_sink.port} refused the login for kom: 535 5.7.8 "
        "Authentication credentials invalid — check NYHETSBREV_SMTP_PASSWORD; with Microsoft 365, "
        "authenticated SMTP must be enabled for the mailbox"
    )
    assert "feil-passord" not in caught.value.message


def test_cannot_connect() -> None:
    port = free_port()
    transport = SmtpTransport(SmtpSettings.parse(f"smtp://127.0.0.1:{port}"), backoff=0)
    with pytest.raises(TransportError) as caught:
        transport.send("a@politiet.no", "b@example.no", MESSAGE)
    assert caught.value.message == (
        f"cannot connect to smtp://127.0.0.1:{port} (4 tries): Connection refused — check "
        "NYHETSBREV_SMTP_URL and that the server is reachable from this machine"
    )


@pytest.mark.parametrize(
    ("stage", "reply", "outcome", "code", "hard", "connections"),
    [
        ("rcpt", "451 4.7.1 Greylisted, try again later", "temporary", 451, False, 1),
        ("rcpt", "550 5.1.1 <b@example.no>: user unknown", "permanent", 550, True, 1),
        ("data", "554 5.7.1 Message rejected as spam", "permanent", 554, False, 1),
        ("data", "452 4.3.1 Insufficient system storage", "temporary", 452, False, 1),
        ("mail", "421 4.7.0 Too many connections, closing", "sent", 250, False, 2),
        ("rcpt", "drop", "sent", 250, False, 2),
        ("data", "421 4.4.2 Timeout, closing", "sent", 250, False, 2),
        ("data", "drop", "uncertain", 0, False, 1),
    ],
)
def test_outcomes(
    smtp_sink: Sink, stage: str, reply: str, outcome: str, code: int, hard: bool, connections: int
) -> None:
    smtp_sink.fault(stage, None, reply)
    with SmtpTransport(SmtpSettings.parse(smtp_sink.url), backoff=0) as transport:
        result = transport.send("a@politiet.no", "b@example.no", MESSAGE)
        assert (result.outcome, result.code, result.hard_bounce) == (outcome, code, hard)
        assert transport.connections == connections
        if outcome == "uncertain":
            assert result.reply.startswith("no answer after the message:")
        # the connection (or a new one) keeps working for the next message
        assert transport.send("a@politiet.no", "c@example.no", MESSAGE).outcome == "sent"
    assert smtp_sink.per_recipient()["c@example.no"] == 1


def test_repeated_421_gives_up_as_temporary(smtp_sink: Sink) -> None:
    smtp_sink.fault("mail", None, "421 4.3.2 Service shutting down", times=10)
    with SmtpTransport(SmtpSettings.parse(smtp_sink.url), backoff=0) as transport:
        result = transport.send("a@politiet.no", "b@example.no", MESSAGE)
    assert (result.outcome, result.code) == ("temporary", 421)
    assert result.reply == "421 4.3.2 Service shutting down"


def test_sender_refused_stops_everything(smtp_sink: Sink) -> None:
    smtp_sink.fault("mail", None, "550 5.7.60 SendAsDenied; not allowed to send as KOM.pod")
    with (
        pytest.raises(TransportError) as caught,
        SmtpTransport(SmtpSettings.parse(smtp_sink.url)) as transport,
    ):
        transport.send("KOM.pod@politiet.no", "b@example.no", MESSAGE)
    assert caught.value.message == (
        f"the SMTP server {smtp_sink.url} refused the sender KOM.pod@politiet.no: 550 5.7.60 "
        "SendAsDenied; not allowed to send as KOM.pod — check that the account may send as the "
        "publication's sender address"
    )


def test_one_connection_for_many_messages(smtp_sink: Sink) -> None:
    with SmtpTransport(SmtpSettings.parse(smtp_sink.url)) as transport:
        for number in range(20):
            assert (
                transport.send("a@politiet.no", f"p{number}@example.no", MESSAGE).outcome == "sent"
            )
        assert transport.connections == 1
    assert smtp_sink.count() == 20


def test_rate_limiter_spaces_starts_evenly() -> None:
    clock = [100.0]
    limiter = RateLimiter(120, clock=lambda: clock[0])  # one every 0.5 s
    starts = []
    for _ in range(5):
        clock[0] += limiter.delay()
        starts.append(clock[0])
        limiter.started()
        clock[0] += 0.1  # the transaction itself
    assert starts == [100.0, 100.5, 101.0, 101.5, 102.0]
    assert RateLimiter(0).delay() == 0.0
