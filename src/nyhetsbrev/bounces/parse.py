"""Reading one bounce message: what kind it is, who failed, with which status, answering what.

Detectors, in order (the first that finds a failure wins):

1. RFC 3464 `multipart/report; report-type=delivery-status` (Postfix, Exim, Exchange/Microsoft
   365, Gmail, Sendmail): the per-recipient blocks give Action, Status, Diagnostic-Code and the
   Final-/Original-Recipient; the returned `text/rfc822-headers` or `message/rfc822` part gives
   the original Message-ID.
2. Microsoft's NDR text ("Delivery has failed to these recipients or groups", "Diagnostic
   information for administrators"), for Exchange servers that send no machine-readable part.
3. `flufl.bounce` for the many older formats (qmail, old Exim, Yahoo, GroupWise…): it gives the
   addresses and whether the failure is temporary, but no status code.

Auto-replies and out-of-office messages (RFC 3834 `Auto-Submitted`, `X-Autoreply`,
`Precedence: auto_reply`, read receipts, subject patterns) are recognised and counted, never
taken for bounces. Everything else is "other" (a person's mail) or "malformed".
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from email.utils import parseaddr, parsedate_to_datetime
from typing import Any, Literal

Kind = Literal["bounce", "auto-reply", "other", "malformed"]

_PARSER = BytesParser(policy=compat32)
_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s]+>")
_HEADER_MESSAGE_ID = re.compile(r"^Message-ID:[ \t]*(<[^<>\s@]+@[^<>\s]+>)", re.I | re.M)
_HEADER_SUBJECT = re.compile(r"^Subject:[ \t]*(.*(?:\n[ \t].*)*)", re.I | re.M)
_ENHANCED = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_ADDRESS_LINE = re.compile(r"^\s*<?([^\s<>@\"']+@[A-Za-z0-9.-]+\.[A-Za-z]{2,})>?\s*$", re.M)
_MS_MARKERS = (
    "delivery has failed to these recipients or groups",
    "diagnostic information for administrators",
    "your message to",  # "Your message to x couldn't be delivered."
    "levering mislyktes til disse mottakerne",
)
_MS_SUBJECT = re.compile(r"^\s*(undeliverable|ikke levert|kan ikke leveres|non remis)\s*:", re.I)
_AUTO_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|svar)|automatisk svar|autosvar|out of (the )?office|"
    r"fravær|fraværende|abwesenheit|r[ée]ponse automatique|auto:|ooo\b|i am out of the office)",
    re.I,
)
_FAILED_ACTIONS = {"failed", "delayed"}
_ENCODED = ("base64", "quoted-printable")
_MAX_DIAGNOSTIC = 500


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


def parse(data: bytes) -> Parsed:
    """Read one message (its raw bytes) and say what it is. Never raises on bad input."""
    if not data.strip():
        return _bare("malformed", data, "empty message")
    head = data[:4096].lstrip()
    if not re.match(rb"[!-9;-~]+:", head):
        return _bare("malformed", data, "does not start with mail headers")
    try:
        top = _PARSER.parsebytes(data, headersonly=True)
    except Exception as exc:  # the email package is lenient; this is a last resort
        return _bare("malformed", data, f"cannot be parsed as a message ({exc})")
    message_id = _first_id(str(top.get("Message-ID", "")))
    subject = _one_line(_text(_raw(top, "Subject")))
    common: dict[str, Any] = {
        "key": message_id or _hash(data),
        "message_id": message_id,
        "date": _date(top.get("Date")),
        "subject": subject,
    }
    content_type = top.get_content_type()
    report_type = str(top.get_param("report-type", "") or "").lower()
    is_dsn = content_type == "multipart/report" and report_type == "delivery-status"
    if is_dsn:
        quick = _quick_dsn(top, data, common)
        if quick is not None:
            return quick
    try:
        message = _PARSER.parsebytes(data)
    except Exception as exc:
        return _bare("malformed", data, f"cannot be parsed as a message ({exc})")
    if is_dsn:
        return _from_dsn(message, data, common)
    if content_type == "multipart/report" and report_type == "disposition-notification":
        return Parsed("auto-reply", why="read receipt (disposition notification)", **common)
    if _looks_microsoft(message, subject):
        found = _from_microsoft(message, common)
        if found is not None:
            return found
    auto = _auto_reply(message, subject)
    if auto:
        return Parsed("auto-reply", why=auto, **common)
    found = _from_flufl(message, common)
    if found is not None:
        return found
    return Parsed("other", why="not a bounce or an auto-reply", **common)


# --- RFC 3464 --------------------------------------------------------------------------------


def _from_dsn(message: Message, data: bytes, common: dict[str, Any]) -> Parsed:
    failures: list[Failure] = []
    blocks_seen = False
    returned_ids: list[str] = []
    returned_subject: str | None = None
    report_ids: list[str] = []
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                blocks_seen = True
                failures.extend(
                    _dsn_failures([b for b in payload if isinstance(b, Message)], report_ids)
                )
            else:  # not parsed into blocks (bad line ends, a stray preamble): try as text
                raw = part.get_payload(decode=True)
                text = raw if isinstance(raw, bytes) else b""
                parsed = [_PARSER.parsebytes(chunk) for chunk in re.split(rb"\r?\n\r?\n", text)]
                blocks_seen = blocks_seen or bool(text.strip())
                failures.extend(_dsn_failures(parsed, report_ids))
        elif kind in ("text/rfc822-headers", "message/rfc822", "message/rfc822-headers"):
            found, subject = _returned(part)
            if found and found not in returned_ids:
                returned_ids.append(found)
            returned_subject = returned_subject or subject
    if not blocks_seen:
        why = "a delivery report without its delivery-status part"
        return Parsed("malformed", why=why, **common)
    returned_ids += [i for i in report_ids if i not in returned_ids]
    if failures and not returned_ids:
        returned_ids = _ids_in_text(message, exclude=str(common["message_id"] or ""))
    return _dsn_result(failures, returned_ids, returned_subject, common)


def _dsn_result(
    failures: list[Failure], ids: list[str], subject: str | None, common: dict[str, Any]
) -> Parsed:
    if not failures:
        # a report of success (delivered, relayed, expanded) or of nothing: not a bounce
        return Parsed("other", why="a delivery report with no failed recipient", **common)
    return Parsed(
        "bounce",
        detector="dsn",
        failures=tuple(failures),
        returned_ids=tuple(ids),
        returned_subject=subject,
        **common,
    )


def _quick_dsn(top: Message, data: bytes, common: dict[str, Any]) -> Parsed | None:
    """The same reading of a plain RFC 3464 report, without parsing every MIME part: split at
    the boundary, parse the delivery-status blocks, read the returned headers with a pattern.
    None when the report is not that plain (encoded parts, no status part at the top level):
    then the full parse reads it."""
    boundary = top.get_boundary()
    text = data.replace(b"\r\n", b"\n")
    _, found, body = text.partition(b"\n\n")
    if not boundary or not found:
        return None
    failures: list[Failure] = []
    returned_ids: list[str] = []
    report_ids: list[str] = []
    returned_subject: str | None = None
    seen = False
    for piece in (b"\n" + body).split(b"\n--" + boundary.encode("ascii", "replace"))[1:]:
        if piece.startswith(b"--"):
            break
        piece = piece.partition(b"\n")[2]
        head, _, content = (
            (b"", b"", piece[1:]) if piece.startswith(b"\n") else piece.partition(b"\n\n")
        )
        headers = _PARSER.parsebytes(head + b"\n\n", headersonly=True)
        if str(headers.get("Content-Transfer-Encoding", "")).strip().lower() in _ENCODED:
            return None
        kind = headers.get_content_type()
        if kind == "message/delivery-status":
            seen = True
            blocks = [
                _PARSER.parsebytes(chunk.strip(b"\n") + b"\n", headersonly=True)
                for chunk in content.split(b"\n\n")
                if chunk.strip()
            ]
            failures.extend(_dsn_failures(blocks, report_ids))
        elif kind in ("text/rfc822-headers", "message/rfc822", "message/rfc822-headers"):
            original = content.lstrip().split(b"\n\n", 1)[0].decode("utf-8", "replace")
            mid = _HEADER_MESSAGE_ID.search(original)
            if mid and mid.group(1) not in returned_ids:
                returned_ids.append(mid.group(1))
            said = _HEADER_SUBJECT.search(original)
            if said and returned_subject is None:
                returned_subject = _one_line(_text(said.group(1).replace("\n", " "))) or None
    if not seen:
        return None
    returned_ids += [i for i in report_ids if i not in returned_ids]
    if failures and not returned_ids:
        own = str(common["message_id"] or "")
        decoded = text.decode("utf-8", "replace")
        returned_ids = list(
            dict.fromkeys(m for m in _HEADER_MESSAGE_ID.findall(decoded) if m != own)
        )
    return _dsn_result(failures, returned_ids, returned_subject, common)


def _dsn_failures(blocks: list[Message], ids: list[str]) -> list[Failure]:
    found: list[Failure] = []
    for block in blocks:
        original_id = _first_id(str(block.get("X-Original-Message-ID", "")))  # Gmail
        if original_id and original_id not in ids:
            ids.append(original_id)
        final = _dsn_address(block.get("Final-Recipient"))
        original = _dsn_address(block.get("Original-Recipient") or block.get("X-Actual-Recipient"))
        action = _one_line(str(block.get("Action", ""))).lower().split(" ")[0]
        if not (final or original) or (action and action not in _FAILED_ACTIONS):
            continue  # the per-message block, or a recipient that was delivered
        diagnostic = _one_line(str(block.get("Diagnostic-Code", "")))
        diagnostic = re.sub(r"^(smtp|x-[a-z0-9-]+)\s*;\s*", "", diagnostic, flags=re.I)
        status = _status(str(block.get("Status", ""))) or _status(diagnostic)
        better = _status(diagnostic)  # Exchange: Status 5.0.0, Diagnostic-Code 550 5.1.10
        if better and status and status.endswith(".0.0") and better[0] == status[0]:
            status = better
        permanent = status.startswith("5") if status is not None else action == "failed"
        found.append(
            Failure(
                recipient=final or original or "",
                original=original,
                permanent=permanent,
                status=status,
                diagnostic=diagnostic[:_MAX_DIAGNOSTIC] or f"action: {action or 'failed'}",
            )
        )
    return found


def _dsn_address(value: object) -> str | None:
    """`rfc822; kari@example.no` → `kari@example.no` (also `utf-8; …`, bare addresses)."""
    if value is None:
        return None
    text = _one_line(str(value))
    if ";" in text:
        text = text.split(";", 1)[1]
    address = parseaddr(text.strip())[1] or text.strip().strip("<>")
    return address if "@" in address else None


def _returned(part: Message) -> tuple[str | None, str | None]:
    """The original message's Message-ID and subject, from a `message/rfc822` or
    `text/rfc822-headers` part (headers read with a pattern: no second parse)."""
    payload = part.get_payload()
    if isinstance(payload, list):
        first = payload[0] if payload else None
        if not isinstance(first, Message):
            return None, None
        subject = _one_line(_text(_raw(first, "Subject"))) or None
        return _first_id(str(first.get("Message-ID", ""))), subject
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return None, None
    head = raw.replace(b"\r\n", b"\n").lstrip().split(b"\n\n", 1)[0].decode("utf-8", "replace")
    found = _HEADER_MESSAGE_ID.search(head)
    said = _HEADER_SUBJECT.search(head)
    subject = _one_line(_text(said.group(1).replace("\n", " "))) if said else None
    return (found.group(1) if found else None), subject or None


# --- Microsoft's NDR text --------------------------------------------------------------------


def _looks_microsoft(message: Message, subject: str) -> bool:
    if _MS_SUBJECT.match(subject):
        return True
    return message.get("X-MS-Exchange-Message-Is-Ndr") is not None


def _from_microsoft(message: Message, common: dict[str, Any]) -> Parsed | None:
    text = _body_text(message)
    lower = text.lower()
    if not any(marker in lower for marker in _MS_MARKERS):
        return None
    start = lower.find("diagnostic information for administrators")
    section = text[start:] if start >= 0 else text
    end = section.lower().find("original message headers")
    section = section[:end] if end > 0 else section
    failures: dict[str, Failure] = {}
    for match in _ADDRESS_LINE.finditer(section):
        after = section[match.end() :].lstrip("\n")
        line = after.split("\n\n", 1)[0]  # the server's reply follows the address
        said = re.search(r"remote server returned\s*'?([^\n]+(?:\n[^\n]+)*)", line, re.I)
        diagnostic = _one_line(said.group(1) if said else line).strip("'<># ")
        status = _status(diagnostic)
        if status is None and not said:
            diagnostic = ""
        failures.setdefault(
            match.group(1),
            Failure(
                recipient=match.group(1),
                original=None,
                permanent=status is None or status.startswith("5"),
                status=status,
                diagnostic=diagnostic[:_MAX_DIAGNOSTIC] or "Microsoft NDR without a server reply",
            ),
        )
    if not failures:
        return None
    return Parsed(
        "bounce",
        detector="microsoft",
        failures=tuple(failures.values()),
        returned_ids=tuple(_ids_in_text(message, exclude=str(common["message_id"] or ""))),
        **common,
    )


# --- auto-replies ------------------------------------------------------------------------------


def _auto_reply(message: Message, subject: str) -> str:
    """Why this is an auto-reply (an empty string: it is not)."""
    submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    if submitted and not submitted.startswith("no"):
        return f"Auto-Submitted: {submitted.split(';')[0]}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        if message.get(name) is not None:
            return f"{name} header"
    precedence = str(message.get("Precedence", "")).strip().lower()
    if precedence == "auto_reply":
        return "Precedence: auto_reply"
    if message.get("X-Auto-Response-Suppress") is not None and _AUTO_SUBJECT.match(subject):
        return "Microsoft auto-reply"
    if _AUTO_SUBJECT.match(subject):
        return "subject says it is an automatic reply"
    return ""


# --- flufl.bounce ------------------------------------------------------------------------------


def _from_flufl(message: Message, common: dict[str, Any]) -> Parsed | None:
    """Older formats, through flufl.bounce: addresses and temporary/permanent, no status code."""
    from flufl.bounce import all_failures

    logging.getLogger("flufl.bounce").setLevel(logging.WARNING)
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector tripping over odd input: treat as not detected
        return None
    text = _body_text(message)
    failures = []
    for is_permanent, found in ((True, permanent), (False, temporary - permanent)):
        for raw in sorted(found):
            address = raw.decode("ascii", "replace")
            if "@" not in address:
                continue
            # qmail and friends put the server's words (often with a code) after the address
            at = text.find(address)
            said = _one_line(text[at + len(address) : at + len(address) + 300]) if at >= 0 else ""
            said = said.lstrip(">: ").split(" --- ")[0]
            status = _status(said)
            failures.append(
                Failure(
                    recipient=address,
                    original=None,
                    permanent=is_permanent if status is None else status.startswith("5"),
                    status=status,
                    diagnostic=(said if status else "")[:_MAX_DIAGNOSTIC]
                    or "reported by an older bounce format (detected by flufl.bounce)",
                )
            )
    if not failures:
        return None
    return Parsed(
        "bounce",
        detector="flufl.bounce",
        failures=tuple(failures),
        returned_ids=tuple(_ids_in_text(message, exclude=str(common["message_id"] or ""))),
        **common,
    )


# --- helpers -----------------------------------------------------------------------------------


def _bare(kind: Kind, data: bytes, why: str) -> Parsed:
    return Parsed(kind, key=_hash(data), message_id=None, date=None, subject="", why=why)


def _hash(data: bytes) -> str:
    """A key for a message without a Message-ID: the same bytes (any line ends), the same key."""
    normal = data.replace(b"\r\n", b"\n").strip()
    return "sha256:" + hashlib.sha256(normal).hexdigest()


def _first_id(value: str) -> str | None:
    found = _MESSAGE_ID.search(value)
    return found.group(0) if found else None


def _ids_in_text(message: Message, exclude: str) -> list[str]:
    """Message-ID headers quoted in the body (NDRs that paste the original headers as text)."""
    found: list[str] = []
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            continue
        text = payload.decode("utf-8", "replace")
        for match in _HEADER_MESSAGE_ID.finditer(text):
            value = match.group(1)
            if value != exclude and value not in found:
                found.append(value)
    return found


def _body_text(message: Message) -> str:
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


def _status(text: str) -> str | None:
    found = _ENHANCED.search(text)
    return ".".join(found.groups()) if found else None


def _date(value: object) -> datetime | None:
    if value is None:
        return None
    try:
        moment = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # "-0000"


def _raw(message: Message, name: str) -> str:
    """A header's value as it stands (8-bit bytes kept as surrogates, not replaced)."""
    wanted = name.lower()
    return next((str(v) for k, v in message.raw_items() if k.lower() == wanted), "")


def _text(value: object) -> str:
    """A header as text, RFC 2047 words decoded."""
    from email.header import decode_header, make_header

    text = str(value)
    if any("\udc80" <= c <= "\udcff" for c in text):  # raw 8-bit bytes (compat32 keeps them so)
        text = text.encode("ascii", "surrogateescape").decode("utf-8", "replace")
    try:
        return str(make_header(decode_header(text)))
    except (UnicodeDecodeError, LookupError, ValueError):
        return text


def _one_line(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()
