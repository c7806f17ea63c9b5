"""The MIME message: structure, headers, personal links, one-click headers and DKIM, as received
by a real SMTP server on loopback (and a few unit cases of the template)."""

from __future__ import annotations

import base64
import re
import socket
import subprocess
from collections.abc import Callable
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import dkim
import pytest
from tests.conftest import require_tool
from tests.delivery.conftest import ISSUE, PUBLIC_URL, Sink

from nyhetsbrev.contacts.tokens import read_token
from nyhetsbrev.delivery.message import (
    Attachment,
    MessageTemplate,
    Recipient,
    Sender,
    format_address,
    list_id,
)
from nyhetsbrev.delivery.signing import signer_from_env

SUBJECT = "Nyhetsbrev fra KOM – oktober–desember 2024"
SENDER = Sender(
    "Koordineringsenheten mot menneskehandel", "KOM.pod@politiet.no", "KOM.pod@politiet.no"
)


def parse(data: bytes) -> EmailMessage:
    message = message_from_bytes(data, policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def text_of(message: EmailMessage, subtype: str) -> str:
    part = message.get_body((subtype,))
    assert part is not None
    content = part.get_content()
    assert isinstance(content, str)
    return content.replace("\r\n", "\n")


def raw_header_lines(data: bytes) -> list[bytes]:
    head = data.split(b"\r\n\r\n", 1)[0]
    return head.split(b"\r\n")


def template(**changes: Any) -> MessageTemplate:
    values: dict[str, Any] = {
        "subject": SUBJECT,
        "sender": SENDER,
        "list_id": list_id("Nyhetsbrev fra KOM", "KOM", "politiet.no"),
        "public_url": PUBLIC_URL,
        "html_body": '<p>Hei</p><a href="[[unsubscribe_url]]">Meld deg av</a> ([[recipient_email]])',
        "text_body": "Hei\n\nMeld deg av: [[unsubscribe_url]]\nSendt til [[recipient_email]]\n",
        "issue_id": ISSUE,
    }
    values.update(changes)
    return MessageTemplate(**values)


def test_received_message_structure_and_headers(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    ids = contacts(2)
    result = cli(
        "send", ISSUE, "--confirm", "--allow-warnings", "--allow-placeholder-links", "--rate", "0"
    )
    assert result.exit_code == 0, result.output
    assert smtp_sink.count() == 2
    built_html = (send_ws / "build" / ISSUE / "email.html").read_text("utf-8")
    built_text = (send_ws / "build" / ISSUE / "email.txt").read_text("utf-8")
    links = []
    for received, contact_id, number in zip(smtp_sink.received, ids, (1, 2), strict=True):
        address = f"person{number}@example.no"
        assert received.mail_from == "KOM.pod@politiet.no"
        assert received.rcpt_tos == [address]
        message = received.message
        assert message.get_content_type() == "multipart/alternative"
        parts = [part.get_content_type() for part in message.iter_parts()]
        assert parts == ["text/plain", "text/html"]  # text first, HTML last
        assert all(p.get_content_charset() == "utf-8" for p in message.iter_parts())
        assert message["Subject"] == SUBJECT
        assert message["From"] == "Koordineringsenheten mot menneskehandel <KOM.pod@politiet.no>"
        assert message["Reply-To"] == "KOM.pod@politiet.no"
        assert message["To"] == f"Person Ø {number} <{address}>"
        assert message["List-Id"] == "Nyhetsbrev fra KOM <kom.politiet.no>"
        assert parsedate_to_datetime(message["Date"]).tzinfo is not None
        message_id = message["Message-ID"]
        assert re.fullmatch(r"<nyhetsbrev\.2024-q4\.[0-9a-f]{32}@politiet\.no>", message_id)
        assert socket.gethostname() not in message_id
        raw = b"\r\n".join(raw_header_lines(received.data))
        assert b"Subject: Nyhetsbrev fra KOM =?utf-8?q?" in raw  # RFC 2047 for the dashes
        assert b"To: =?utf-8?q?Person_=C3=98_" in raw
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        match = re.fullmatch(
            rf"<{re.escape(PUBLIC_URL)}/unsubscribe/([A-Za-z0-9_-]+)>, "
            r"<mailto:KOM\.pod@politiet\.no\?subject=unsubscribe>",
            message["List-Unsubscribe"],
        )
        assert match, message["List-Unsubscribe"]
        assert read_token(match[1], "unsubscribe") == contact_id
        link = f"{PUBLIC_URL}/unsubscribe/{match[1]}"
        links.append(link)
        settings = re.search(
            rf'href="{re.escape(PUBLIC_URL)}/preferences/([A-Za-z0-9_-]+)"',
            text_of(message, "html"),
        )
        assert settings and read_token(settings[1], "preferences") == contact_id
        preferences = f"{PUBLIC_URL}/preferences/{settings[1]}"
        # the build's parts, with only the placeholders substituted: nothing re-rendered
        expected_html = built_html.replace("[[unsubscribe_url]]", link)
        expected_html = expected_html.replace("[[preferences_url]]", preferences)
        expected_html = expected_html.replace("[[recipient_email]]", address)
        assert text_of(message, "html") == expected_html.rstrip("\n") + "\n"
        expected_text = built_text.replace("[[unsubscribe_url]]", link)
        expected_text = expected_text.replace("[[preferences_url]]", preferences)
        expected_text = expected_text.replace("[[recipient_email]]", address)
        assert text_of(message, "plain") == expected_text.rstrip("\n") + "\n"
        assert link in text_of(message, "plain") and f'href="{link}"' in text_of(message, "html")
        assert b"[[" not in received.data
        body_lines = received.data.split(b"\r\n\r\n", 1)[1].split(b"\r\n")
        assert max(len(line) for line in body_lines) <= 76  # quoted-printable's limit
    assert links[0] != links[1]


def test_one_click_headers_are_one_unencoded_line_each(smtp_sink: Sink) -> None:
    long_url = "https://nyhetsbrev.koordineringsenheten-mot-menneskehandel.politiet.no/abonnement"
    token = "A" * 60  # longer than any real token: would be folded by the email package
    message = template(public_url=long_url)
    url = message.unsubscribe_url(token)
    data = message.render(Recipient("kari.nordmann@example.no", "Kari Ærlig", url)).data
    import smtplib

    with smtplib.SMTP("127.0.0.1", smtp_sink.port) as smtp:
        smtp.sendmail(SENDER.email, ["kari.nordmann@example.no"], data)
    for raw in (data, smtp_sink.received[0].data):
        lines = raw_header_lines(raw)
        index = next(i for i, line in enumerate(lines) if line.startswith(b"List-Unsubscribe:"))
        line = lines[index]
        assert (
            line
            == (
                f"List-Unsubscribe: <{long_url}/unsubscribe/{token}>, "
                "<mailto:KOM.pod@politiet.no?subject=unsubscribe>"
            ).encode()
        )
        assert len(line) > 78  # long enough that the email package would have folded it
        assert not lines[index + 1][:1].isspace(), "folded"
        assert b"=?" not in line
        assert b"List-Unsubscribe-Post: List-Unsubscribe=One-Click" in lines


def test_personal_values_are_html_escaped_in_html_only() -> None:
    message = template()
    data = message.render(Recipient("a&b@example.no", None, "https://x.no/u/T?a=1&b=2")).data
    parsed = parse(data)
    assert 'href="https://x.no/u/T?a=1&amp;b=2"' in text_of(parsed, "html")
    assert "(a&amp;b@example.no)" in text_of(parsed, "html")
    assert "Meld deg av: https://x.no/u/T?a=1&b=2\nSendt til a&b@example.no" in text_of(
        parsed, "plain"
    )
    assert parsed["To"] == "a&b@example.no"


def test_attachment_makes_multipart_mixed() -> None:
    pdf = b"%PDF-1.7\n" + bytes(range(256)) * 40
    message = template(attachment=Attachment("kom-nyhetsbrev-2024-q4.pdf", pdf))
    parsed = parse(message.render(Recipient("a@example.no", None, "https://x.no/u/T")).data)
    assert parsed.get_content_type() == "multipart/mixed"
    first, attached = list(parsed.iter_parts())
    assert first.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in first.iter_parts()] == ["text/plain", "text/html"]
    assert attached.get_content_type() == "application/pdf"
    assert attached.get_filename() == "kom-nyhetsbrev-2024-q4.pdf"
    assert attached.get_content() == pdf


def test_test_messages_say_so_in_the_subject() -> None:
    parsed = parse(template(test=True).render(Recipient("a@example.no", None, "u")).data)
    assert parsed["Subject"] == "[TEST] " + SUBJECT


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        (None, "kari@example.no"),
        ("", "kari@example.no"),
        ("Kari Nordmann", "Kari Nordmann <kari@example.no>"),
        ("Nordmann, Kari", '"Nordmann, Kari" <kari@example.no>'),
        ('Kari "K" N.', '"Kari \\"K\\" N." <kari@example.no>'),
        ("Kari\r\nBcc: evil@example.org", '"Kari Bcc: evil@example.org" <kari@example.no>'),
        ("Åse Ærlig", "=?utf-8?b?w4VzZSDDhnJsaWc=?= <kari@example.no>"),
        ("Pål", "=?utf-8?q?P=C3=A5l?= <kari@example.no>"),
    ],
)
def test_format_address(name: str | None, expected: str) -> None:
    assert format_address(name, "kari@example.no") == expected


@pytest.fixture(scope="module")
def dkim_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    """An RSA key made with openssl, and its DNS TXT record."""
    openssl = require_tool("openssl")
    folder = tmp_path_factory.mktemp("dkim")
    key = folder / "dkim.pem"
    subprocess.run([openssl, "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    der = subprocess.run(
        [openssl, "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return key, b"v=DKIM1; k=rsa; p=" + base64.b64encode(der)


def test_dkim_signature_verifies_and_covers_list_unsubscribe(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    smtp_sink: Sink,
    dkim_key: tuple[Path, bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key, record = dkim_key
    monkeypatch.setenv("NYHETSBREV_DKIM_KEY_FILE", str(key))
    monkeypatch.setenv("NYHETSBREV_DKIM_SELECTOR", "nyhetsbrev")
    contacts(1)
    result = cli(
        "send", ISSUE, "--confirm", "--allow-warnings", "--allow-placeholder-links", "--rate", "0"
    )
    assert result.exit_code == 0, result.output
    data = smtp_sink.received[0].data
    asked: list[bytes] = []

    def dns(name: bytes, timeout: int = 5) -> bytes:
        asked.append(name)
        return record

    assert dkim.verify(data, dnsfunc=dns)
    assert asked == [b"nyhetsbrev._domainkey.politiet.no."]
    signature = parse(data)["DKIM-Signature"]
    tags = dict(t.strip().split("=", 1) for t in "".join(signature.split()).split(";") if t)
    signed = tags["h"].split(":")
    assert "list-unsubscribe" in signed and "list-unsubscribe-post" in signed
    assert tags["d"] == "politiet.no" and tags["s"] == "nyhetsbrev"
    tampered = data.replace(
        b"List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        b"List-Unsubscribe-Post: List-Unsubscribe=Two-Click",
    )
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_dkim_settings_errors(tmp_path: Path) -> None:
    from nyhetsbrev.errors import DeliveryError

    with pytest.raises(DeliveryError) as caught:
        signer_from_env("politiet.no", {"NYHETSBREV_DKIM_KEY_FILE": str(tmp_path / "k.pem")})
    assert caught.value.message == (
        "NYHETSBREV_DKIM_KEY_FILE is set but NYHETSBREV_DKIM_SELECTOR is not: set it to the "
        "selector of the DNS record that publishes the public key (e.g. nyhetsbrev for "
        "nyhetsbrev._domainkey.politiet.no)"
    )
    env = {"NYHETSBREV_DKIM_KEY_FILE": str(tmp_path / "k.pem"), "NYHETSBREV_DKIM_SELECTOR": "s"}
    with pytest.raises(DeliveryError, match=r"cannot read .*k\.pem \(No such file or directory\)"):
        signer_from_env("politiet.no", env)
    (tmp_path / "k.pem").write_text("not a key")
    with pytest.raises(DeliveryError, match="it must be a PEM RSA private key"):
        signer_from_env("politiet.no", env)
    assert signer_from_env("politiet.no", {}) is None


def test_dkim_configured_without_dkimpy_says_how_to_install_it(
    dkim_key: tuple[Path, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """dkimpy is an extra; without it, a configured DKIM key is a clear error, not a traceback.

    The test extra installs dkimpy, so its absence is simulated: `sys.modules["dkim"] = None`
    makes `import dkim` raise ImportError exactly as on a machine without the package.
    """
    import subprocess as _subprocess
    import sys

    from nyhetsbrev.errors import DeliveryError

    monkeypatch.setitem(sys.modules, "dkim", None)
    env = {"NYHETSBREV_DKIM_KEY_FILE": str(dkim_key[0]), "NYHETSBREV_DKIM_SELECTOR": "s"}
    with pytest.raises(DeliveryError) as caught:
        signer_from_env("politiet.no", env)
    assert caught.value.message == (
        "NYHETSBREV_DKIM_KEY_FILE is set, so messages are to be DKIM-signed, but dkimpy is not "
        'installed — install it with: pip install "nyhetsbrev[dkim]" (or unset '
        "NYHETSBREV_DKIM_KEY_FILE and NYHETSBREV_DKIM_SELECTOR to send unsigned)"
    )
    assert signer_from_env("politiet.no", {}) is None  # no DKIM configured: dkimpy not needed
    # Sending without DKIM never imports dkimpy (nor dnspython) at all.
    probe = _subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, nyhetsbrev.delivery.send; "
            "print('dkim' in sys.modules, 'dns' in sys.modules)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.split() == ["False", "False"]
