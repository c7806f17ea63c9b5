"""The sign-up emails (confirm your subscription; you are already on the list), sent over SMTP."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Protocol

from nyhetsbrev.delivery.message import format_address
from nyhetsbrev.delivery.transport import SmtpSettings, SmtpTransport
from nyhetsbrev.errors import DeliveryError
from nyhetsbrev.issue.model import Sender

log = logging.getLogger("nyhetsbrev.web")


@dataclass(frozen=True)
class Mail:
    """One plain-text message to one address (ASCII: nyhetsbrev sends no SMTPUTF8)."""

    to: str
    subject: str
    body: str
    language: str


class Mailer(Protocol):
    def send(self, mail: Mail) -> bool:
        """Send `mail`; True if the server accepted it. Never raises: failures are logged."""
        ...


def build_message(mail: Mail, sender: Sender) -> EmailMessage:
    """The MIME message: text/plain in UTF-8, from the publication's sender, marked as automatic."""
    message = EmailMessage(policy=policy.SMTP)
    message["From"] = format_address(sender.name, sender.email)
    message["To"] = mail.to
    if sender.reply_to:
        message["Reply-To"] = sender.reply_to
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(datetime.now(UTC), usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.email.rpartition("@")[2] or None)
    # RFC 3834: an automatic message; vacation responders must not answer it.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(mail.body + "\n", charset="utf-8")
    message["Content-Language"] = mail.language  # after set_content, which resets Content-*
    return message


class SmtpMailer:
    """Sends each sign-up email over its own SMTP connection (they are few and far between)."""

    def __init__(
        self, settings: SmtpSettings, sender: Sender, *, attempts: int = 3, backoff: float = 1.0
    ) -> None:
        self.settings = settings
        self.sender = sender
        self.attempts = attempts
        self.backoff = backoff

    def send(self, mail: Mail) -> bool:
        try:
            data = build_message(mail, self.sender).as_bytes()
            with SmtpTransport(
                self.settings, attempts=self.attempts, backoff=self.backoff
            ) as transport:
                result = transport.send(self.sender.email, mail.to, data)
        except (DeliveryError, OSError) as exc:
            log.error("sign-up email to a subscriber not sent: %s", exc)
            return False
        if result.outcome != "sent":
            log.error(
                "sign-up email not accepted by %s: %s %s (%s)",
                self.settings.display,
                result.code,
                result.reply,
                result.outcome,
            )
            return False
        return True
