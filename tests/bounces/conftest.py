"""Fixtures for bounces: the loopback SMTP server and sending workspace of tests/delivery, and
bounce messages built from the messages that server received (as a relay would send them)."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from email.policy import SMTP

from tests.bounces.dovecot import (  # noqa: F401  (fixtures)
    dovecot,
    dovecot_tls,
    dovecot_without_move,
)
from tests.delivery.conftest import (  # noqa: F401  (fixtures, shared)
    Received,
    built_workspace,
    contacts,
    send_ws,
    smtp_sink,
    store,
)

SEND = (
    "send",
    "2024-q4",
    "--confirm",
    "--allow-warnings",
    "--allow-placeholder-links",
    "--rate",
    "0",
)


def dsn(
    received: Received,
    status: str = "5.1.1",
    diagnostic: str = "550 5.1.1 <{rcpt}>: Recipient address rejected: User unknown",
    *,
    returned: bool = True,
    action: str = "failed",
    message_id: str | None = None,
    date: str = "Mon, 06 Jan 2025 09:14:02 +0100",
) -> bytes:
    """A Postfix-style RFC 3464 report for `received` (with its headers returned, or not)."""
    rcpt = received.rcpt_tos[0]
    original = received.data.split(b"\r\n\r\n", 1)[0].decode("utf-8")
    report = EmailMessage(policy=SMTP)
    report["From"] = "MAILER-DAEMON@mx1.politiet.no (Mail Delivery System)"
    report["To"] = "KOM.pod@politiet.no"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report["Date"] = date
    report["Message-ID"] = message_id or email.utils.make_msgid(domain="mx1.politiet.no")
    report["Auto-Submitted"] = "auto-replied"
    report.set_content(f"This is the mail system at host mx1.politiet.no.\n\n<{rcpt}>: failed\n")
    report.make_mixed()
    report.set_type("multipart/report")
    report.set_param("report-type", "delivery-status")
    said = diagnostic.format(rcpt=rcpt)
    status_part = (
        "Reporting-MTA: dns; mx1.politiet.no\r\n\r\n"
        f"Final-Recipient: rfc822; {rcpt}\r\nOriginal-Recipient: rfc822;{rcpt}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\nDiagnostic-Code: smtp; {said}\r\n"
    )
    parts = [("message/delivery-status", status_part)]
    if returned:
        parts.append(("text/rfc822-headers", original + "\r\n"))
    raw = report.as_bytes()
    boundary = report.get_boundary()
    assert boundary is not None
    extra = b"".join(
        f"--{boundary}\r\nContent-Type: {kind}\r\n\r\n{text}\r\n".encode() for kind, text in parts
    )
    closing = f"--{boundary}--".encode()
    return raw.replace(closing, extra + closing)


def auto_reply(received: Received) -> bytes:
    rcpt = received.rcpt_tos[0]
    return (
        f"From: {rcpt}\r\nTo: KOM.pod@politiet.no\r\nSubject: Automatisk svar: Nyhetsbrev\r\n"
        f"Date: Mon, 06 Jan 2025 09:20:00 +0100\r\nMessage-ID: <ooo.{rcpt}>\r\n"
        "Auto-Submitted: auto-replied\r\n\r\nJeg er på ferie.\r\n"
    ).encode()


def mbox(messages: list[bytes]) -> bytes:
    """An mbox file (mboxrd-style From_ lines) holding these messages."""
    out = []
    for data in messages:
        body = data.replace(b"\r\n", b"\n").replace(b"\nFrom ", b"\n>From ")
        out.append(b"From MAILER-DAEMON Mon Jan  6 09:14:02 2025\n" + body.rstrip(b"\n") + b"\n\n")
    return b"".join(out)
