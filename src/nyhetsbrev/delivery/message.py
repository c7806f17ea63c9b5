"""The MIME message: built once per issue, personalised per recipient by substituting bytes.

`MessageTemplate` serialises the whole message once — headers through the email package (RFC 2047
for the subject and names), the text and HTML parts pre-encoded as quoted-printable with every
placeholder of `render.placeholders` cut out. Per recipient, `render()` only encodes the few
personal values (a short quoted-printable run between two soft line breaks, which decodes to
nothing) and joins bytes: no MJML, CSS inlining, PDF or email-package work per recipient.

The personal headers are written as raw lines: `List-Unsubscribe` and `List-Unsubscribe-Post`
must reach the inbox unfolded and un-encoded (RFC 8058), which the email package's folding of
long tokens would break.
"""

from __future__ import annotations

import binascii
import html
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

from nyhetsbrev.errors import DeliveryError
from nyhetsbrev.render.placeholders import ALL as PLACEHOLDERS
from nyhetsbrev.render.placeholders import PREFERENCES_URL, RECIPIENT_EMAIL, UNSUBSCRIBE_URL

CRLF = b"\r\n"
TEST_PREFIX = "[TEST] "
#: The address part of `List-Id`, e.g. `kom.politiet.no`; the phrase is the publication title.
_LIST_ID_LABEL = re.compile(r"[^a-z0-9-]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")
_ATOM_SAFE = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~ .-]*$")
_MARK = "NYHETSBREV-PART-{}-7f3a9c"


@dataclass(frozen=True)
class Sender:
    """Who the message is from: the publication's sender (and where replies go)."""

    name: str
    email: str
    reply_to: str | None = None

    @property
    def domain(self) -> str:
        return self.email.rpartition("@")[2].lower()


@dataclass(frozen=True)
class Recipient:
    """One addressee and the personal values their copy carries."""

    email: str
    name: str | None
    unsubscribe_url: str
    preferences_url: str = ""  # empty: the unsubscribe page stands in


@dataclass(frozen=True)
class Rendered:
    """One recipient's message: the bytes to hand to SMTP and its Message-ID (with <>)."""

    data: bytes
    message_id: str


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes


class MessageTemplate:
    """The issue's message, serialised once; `render()` personalises a copy in microseconds."""

    def __init__(
        self,
        *,
        subject: str,
        sender: Sender,
        list_id: str,
        public_url: str,
        html_body: str,
        text_body: str,
        attachment: Attachment | None = None,
        test: bool = False,
        issue_id: str = "",
    ) -> None:
        self.subject = (TEST_PREFIX if test else "") + subject
        self.sender = sender
        self.public_url = public_url.rstrip("/")
        self.issue_id = issue_id
        self._mailto = f"mailto:{sender.email}?subject=unsubscribe"
        message = EmailMessage(policy=policy.SMTP)
        message["Subject"] = self.subject
        message["From"] = Address(display_name=sender.name, addr_spec=sender.email)
        if sender.reply_to:
            message["Reply-To"] = sender.reply_to
        message["List-Id"] = list_id
        marks = {part: _MARK.format(part) for part in ("TEXT", "HTML")}
        message.set_content(marks["TEXT"], charset="utf-8", cte="quoted-printable")
        message.add_alternative(
            marks["HTML"], subtype="html", charset="utf-8", cte="quoted-printable"
        )
        if attachment is not None:
            message.add_attachment(
                attachment.content,
                maintype="application",
                subtype="pdf",
                filename=attachment.filename,
            )
        raw = message.as_bytes(policy=policy.SMTP)
        head, _, body = raw.partition(CRLF + CRLF)
        body = body.replace(b"MIME-Version: 1.0" + CRLF, b"")  # the email package repeats it
        self._head = head + CRLF
        self._pieces: list[bytes | tuple[str, bool]] = []
        rest = body
        for part, text, escape in (("TEXT", text_body, False), ("HTML", html_body, True)):
            before, found, rest = rest.partition(marks[part].encode("ascii"))
            if not found:
                raise AssertionError(f"MIME skeleton lost its {part} marker")
            self._pieces.append(before)
            self._pieces.extend(_encode_segments(text, escape))
        self._pieces.append(rest)

    def new_message_id(self) -> str:
        """A fresh Message-ID under the sender's domain (never this machine's host name)."""
        return f"<nyhetsbrev.{self.issue_id}.{uuid.uuid4().hex}@{self.sender.domain}>"

    def render(
        self, recipient: Recipient, *, message_id: str | None = None, now: datetime | None = None
    ) -> Rendered:
        """The complete message for one recipient (CRLF line ends, ready for SMTP DATA)."""
        values = {
            UNSUBSCRIBE_URL: recipient.unsubscribe_url,
            PREFERENCES_URL: recipient.preferences_url or recipient.unsubscribe_url,
            RECIPIENT_EMAIL: recipient.email,
        }
        message_id = message_id or self.new_message_id()
        moment = now if now is not None else datetime.now().astimezone()
        head = (
            f"Date: {format_datetime(moment)}\r\n"
            f"To: {format_address(recipient.name, recipient.email)}\r\n"
            f"Message-ID: {message_id}\r\n"
            f"List-Unsubscribe: <{recipient.unsubscribe_url}>, <{self._mailto}>\r\n"
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click\r\n"
        ).encode()
        out = [head, self._head, CRLF]
        for piece in self._pieces:
            if isinstance(piece, bytes):
                out.append(piece)
            else:
                name, escape = piece
                value = html.escape(values[name]) if escape else values[name]
                out.append(b"=\r\n" + _qp(value) + b"=\r\n")
        return Rendered(b"".join(out), message_id)

    def unsubscribe_url(self, token: str) -> str:
        """The personal one-click link: `{public_url}/unsubscribe/{token}`."""
        return f"{self.public_url}/unsubscribe/{token}"

    def preferences_url(self, token: str) -> str:
        """The personal preferences page (topics, language): `{public_url}/preferences/{token}`."""
        return f"{self.public_url}/preferences/{token}"


def format_address(name: str | None, email: str) -> str:
    """`Name <addr>` for a header: RFC 2047 for non-ASCII names, quoted when needed."""
    check_address(email)
    clean = _CONTROL.sub(" ", name or "").strip()
    if not clean:
        return email
    if clean.isascii():
        if _ATOM_SAFE.match(clean) and "." not in clean:
            return f"{clean} <{email}>"
        quoted = clean.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{quoted}" <{email}>'
    encoded = Header(clean, "utf-8", header_name="To").encode(linesep="\r\n")
    return f"{encoded} <{email}>"


def check_address(email: str) -> None:
    """Refuse an address that cannot go into a header or an SMTP command as is.

    Non-ASCII addresses (`ærlig.øst@example.no`) pass: the transport sends them with SMTPUTF8
    (RFC 6531/6532) when the server offers it, and reports them as not sent when it does not.
    """
    if _CONTROL.search(email) or any(c in email for c in '<>, "') or email.count("@") != 1:
        raise DeliveryError(f"{email!r} is not a single email address")


def list_id(title: str, short_name: str, sender_domain: str) -> str:
    """`Nyhetsbrev fra KOM <kom.politiet.no>` (RFC 2919): a stable id under the sender's domain."""
    label = _LIST_ID_LABEL.sub("-", short_name.lower()).strip("-") or "nyhetsbrev"
    return f"{title} <{label}.{sender_domain}>"


def check_placeholders(name: str, body: str, required: Sequence[str] = (UNSUBSCRIBE_URL,)) -> None:
    """Stop when a built edition lacks the personal-link marker (an old or foreign build)."""
    missing = [p for p in required if p not in body]
    if missing:
        raise DeliveryError(
            f"{name} has no {', '.join(missing)} marker, so recipients would get no personal "
            "unsubscribe link — rebuild the issue with the current theme (`nyhetsbrev build`)"
        )


def write_eml(directory: Path, index: int, email: str, rendered: Rendered) -> Path:
    """Write one message as `NNNNN-address.eml` in `directory` (for inspection in a mail app)."""
    safe = re.sub(r"[^A-Za-z0-9@._-]+", "_", email)[:80]
    path = directory / f"{index:05d}-{safe}.eml"
    path.write_bytes(rendered.data)
    return path


def _qp(text: str) -> bytes:
    """Quoted-printable with CRLF, its last line short enough to take a soft break (`=`)."""
    encoded = binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", CRLF)
    start = encoded.rfind(CRLF) + 2 if CRLF in encoded else 0
    if len(encoded) - start <= 75:
        return encoded
    cut = start + 75
    if encoded[cut - 1 : cut] == b"=":
        cut -= 1
    elif encoded[cut - 2 : cut - 1] == b"=":
        cut -= 2
    return encoded[:cut] + b"=\r\n" + encoded[cut:]


def _encode_segments(text: str, escape: bool) -> list[bytes | tuple[str, bool]]:
    """A body as quoted-printable pieces, with a `(placeholder, escape)` slot per marker."""
    body = text.replace("\r\n", "\n").replace("\r", "\n").rstrip("\n")
    pattern = "(" + "|".join(re.escape(p) for p in PLACEHOLDERS) + ")"
    pieces: list[bytes | tuple[str, bool]] = []
    for index, chunk in enumerate(re.split(pattern, body)):
        if index % 2:
            pieces.append((chunk, escape))
        elif chunk:
            pieces.append(_qp(chunk))
    return pieces
