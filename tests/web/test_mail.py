"""The sign-up emails as MIME, and their way through a real SMTP server on loopback."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.web.conftest import free_port

from nyhetsbrev.delivery.transport import SmtpSettings
from nyhetsbrev.issue.model import Sender
from nyhetsbrev.web.mail import Mail, SmtpMailer, build_message

SENDER = Sender(
    name="Koordineringsenheten mot menneskehandel",
    email="kom@example.no",
    reply_to="svar@example.no",
)
MAIL = Mail(
    to="kari@example.no",
    subject="Bekreft påmeldingen til Nyhetsbrev fra KOM",
    body="Hei!\n\nFølg lenken:\n\nhttps://nyhetsbrev.example.org/confirm/AQJ-_x",
    language="nb",
)


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK"


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


def test_the_message_is_plain_text_from_the_sender_and_automatic() -> None:
    message = build_message(MAIL, SENDER)
    assert message["From"] == "Koordineringsenheten mot menneskehandel <kom@example.no>"
    assert message["To"] == "kari@example.no"
    assert message["Reply-To"] == "svar@example.no"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message["Content-Language"] == "nb"
    assert message["Message-ID"].endswith("@example.no>")
    assert message.get_content_type() == "text/plain"
    raw = message.as_bytes()
    assert b"\r\n" in raw and b"=?utf-8?" in raw.lower()  # the subject's å is encoded
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == MAIL.subject
    body = parsed.get_body()
    assert body is not None
    assert "https://nyhetsbrev.example.org/confirm/AQJ-_x" in body.get_content()


def test_the_mail_arrives_at_an_smtp_server_on_loopback(smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    mailer = SmtpMailer(SmtpSettings.parse(f"smtp://127.0.0.1:{port}"), SENDER)
    assert mailer.send(MAIL) is True
    ((sender, recipients, content),) = inbox.messages
    assert sender == "kom@example.no" and recipients == ["kari@example.no"]
    parsed = email.message_from_bytes(content, policy=email.policy.default)
    assert parsed["Subject"] == MAIL.subject


def test_a_failing_server_is_logged_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nobody listens there
    mailer = SmtpMailer(SmtpSettings.parse(f"smtp://127.0.0.1:{port}"), SENDER, backoff=0.0)
    with caplog.at_level("ERROR", logger="nyhetsbrev.web"):
        assert mailer.send(MAIL) is False
    assert "sign-up email" in caplog.text and "cannot connect" in caplog.text
