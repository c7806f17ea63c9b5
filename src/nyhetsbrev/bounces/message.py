"""What reading a bounce gives (`Failure`, `Parsed`) and the small helpers every reader shares."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parsedate_to_datetime
from typing import Literal

Kind = Literal["bounce", "auto-reply", "other", "malformed"]

PARSER = BytesParser(policy=compat32)
MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s]+>")
HEADER_MESSAGE_ID = re.compile(r"^Message-ID:[ \t]*(<[^<>\s@]+@[^<>\s]+>)", re.I | re.M)
HEADER_SUBJECT = re.compile(r"^Subject:[ \t]*(.*(?:\n[ \t].*)*)", re.I | re.M)
ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
MAX_DIAGNOSTIC = 500


@dataclass(frozen=True)
class Failure:
    """One recipient the report says was not delivered."""

    recipient: str  # the address as the report gives it (Final-Recipient, else Original)
    original: str | None  # Original-Recipient, when the report gives one
    permanent: bool
    status: str | None  # RFC 3463 enhanced status, e.g. "5.1.1"; None when the format has none
    diagnostic: str  # the server's words, one line, at most 500 characters


@dataclass(frozen=True)
class Parsed:
    """What one message is, and (for a bounce) the failures and the Message-IDs it answers."""

    kind: Kind
    key: str  # identifies this bounce message: its Message-ID, else a hash of its bytes
    message_id: str | None
    date: datetime | None
    subject: str
    detector: str = ""  # "dsn", "microsoft", "flufl.bounce"
    failures: tuple[Failure, ...] = ()
    returned_ids: tuple[str, ...] = ()  # Message-IDs of the original message, best first
    returned_subject: str | None = None
    why: str = ""  # for "other" / "malformed" / "auto-reply": in a few words


def bare(kind: Kind, data: bytes, why: str) -> Parsed:
    return Parsed(kind, key=key_hash(data), message_id=None, date=None, subject="", why=why)


def key_hash(data: bytes) -> str:
    """A key for a message without a Message-ID: the same bytes (any line ends), the same key."""
    normal = data.replace(b"\r\n", b"\n").strip()
    return "sha256:" + hashlib.sha256(normal).hexdigest()


def first_id(value: str) -> str | None:
    found = MESSAGE_ID.search(value)
    return found.group(0) if found else None


def ids_in_text(message: Message, exclude: str) -> list[str]:
    """Message-ID headers quoted in the body (NDRs that paste the original headers as text)."""
    found: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        text = payload.decode("utf-8", "replace")
        for match in HEADER_MESSAGE_ID.finditer(text):
            value = match.group(1)
            if value != exclude and value not in found:
                found.append(value)
    return found


def body_text(message: Message) -> str:
    """The message's text parts, HTML with its tags removed, joined."""
    pieces: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind not in ("text/plain", "text/html"):
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        text = payload.decode(part.get_content_charset() or "utf-8", "replace")
        if kind == "text/html":
            text = re.sub(r"(?i)<br\s*/?>|</(p|div|tr|li)>", "\n", text)
            text = re.sub(r"<[^>]+>", " ", text)
            text = re.sub(r"&lt;", "<", re.sub(r"&gt;", ">", re.sub(r"&nbsp;", " ", text)))
            text = re.sub(r"&amp;", "&", text)
        pieces.append(text)
        if kind == "text/plain":
            break  # one text version is enough
    return "\n".join(pieces)


def status_code(text: str) -> str | None:
    found = ENHANCED.search(text)
    return ".".join(found.groups()) if found else None


def header_date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # "-0000"


def raw_header(message: Message, name: str) -> str:
    """A header's value as it stands (8-bit bytes kept as surrogates, not replaced)."""
    wanted = name.lower()
    return next((str(v) for k, v in message.raw_items() if k.lower() == wanted), "")


def header_text(value: object) -> str:
    """A header as text, RFC 2047 words decoded."""
    from email.header import decode_header, make_header

    text = str(value)
    if any("\udc80" <= c <= "\udcff" for c in text):  # raw 8-bit bytes (compat32 keeps them so)
        text = text.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    try:
        return str(make_header(decode_header(text)))
    except (UnicodeDecodeError, LookupError, ValueError):
        return text


def one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
