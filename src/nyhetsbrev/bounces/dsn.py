"""RFC 3464 delivery reports (`multipart/report; report-type=delivery-status`): Postfix, Exim,
Sendmail, Exchange / Microsoft 365, Gmail."""

from __future__ import annotations

import re
from email.message import Message
from email.utils import parseaddr
from typing import Any

from nyhetsbrev.bounces.message import (
    HEADER_MESSAGE_ID,
    HEADER_SUBJECT,
    MAX_DIAGNOSTIC,
    PARSER,
    Failure,
    Parsed,
    first_id,
    header_text,
    ids_in_text,
    one_line,
    raw_header,
    status_code,
)

_FAILED_ACTIONS = {"failed", "delayed"}
_ENCODED = ("base64", "quoted-printable")


def from_dsn(message: Message, data: bytes, common: dict[str, Any]) -> Parsed:
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
                parsed = [PARSER.parsebytes(chunk) for chunk in re.split(rb"\r?\n\r?\n", text)]
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
        returned_ids = ids_in_text(message, exclude=str(common["message_id"] or ""))
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


def quick_dsn(top: Message, data: bytes, common: dict[str, Any]) -> Parsed | None:
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
        headers = PARSER.parsebytes(head + b"\n\n", headersonly=True)
        if str(headers.get("Content-Transfer-Encoding", "")).strip().lower() in _ENCODED:
            return None
        kind = headers.get_content_type()
        if kind == "message/delivery-status":
            seen = True
            blocks = [
                PARSER.parsebytes(chunk.strip(b"\n") + b"\n", headersonly=True)
                for chunk in content.split(b"\n\n")
                if chunk.strip()
            ]
            failures.extend(_dsn_failures(blocks, report_ids))
        elif kind in ("text/rfc822-headers", "message/rfc822", "message/rfc822-headers"):
            original = content.lstrip().split(b"\n\n", 1)[0].decode("utf-8", "replace")
            mid = HEADER_MESSAGE_ID.search(original)
            if mid and mid.group(1) not in returned_ids:
                returned_ids.append(mid.group(1))
            said = HEADER_SUBJECT.search(original)
            if said and returned_subject is None:
                returned_subject = one_line(header_text(said.group(1).replace("\n", " "))) or None
    if not seen:
        return None
    returned_ids += [i for i in report_ids if i not in returned_ids]
    if failures and not returned_ids:
        own = str(common["message_id"] or "")
        decoded = text.decode("utf-8", "replace")
        returned_ids = list(
            dict.fromkeys(m for m in HEADER_MESSAGE_ID.findall(decoded) if m != own)
        )
    return _dsn_result(failures, returned_ids, returned_subject, common)


def _dsn_failures(blocks: list[Message], ids: list[str]) -> list[Failure]:
    found: list[Failure] = []
    for block in blocks:
        original_id = first_id(str(block.get("X-Original-Message-ID", "")))  # Gmail
        if original_id and original_id not in ids:
            ids.append(original_id)
        final = _dsn_address(block.get("Final-Recipient"))
        original = _dsn_address(block.get("Original-Recipient") or block.get("X-Actual-Recipient"))
        action = one_line(str(block.get("Action", ""))).lower().split(" ")[0]
        if not (final or original) or (action and action not in _FAILED_ACTIONS):
            continue  # the per-message block, or a recipient that was delivered
        diagnostic = one_line(str(block.get("Diagnostic-Code", "")))
        diagnostic = re.sub(r"^(smtp|x-[a-z0-9-]+)\s*;\s*", "", diagnostic, flags=re.I)
        status = status_code(str(block.get("Status", ""))) or status_code(diagnostic)
        better = status_code(diagnostic)  # Exchange: Status 5.0.0, Diagnostic-Code 550 5.1.10
        if better and status and status.endswith(".0.0") and better[0] == status[0]:
            status = better
        permanent = status.startswith("5") if status is not None else action == "failed"
        found.append(
            Failure(
                recipient=final or original or "",
                original=original,
                permanent=permanent,
                status=status,
                diagnostic=diagnostic[:MAX_DIAGNOSTIC] or f"action: {action or 'failed'}",
            )
        )
    return found


def _dsn_address(value: object) -> str | None:
    """`rfc822; kari@example.no` → `kari@example.no` (also `utf-8; …`, bare addresses)."""
    if value is None:
        return None
    text = one_line(str(value))
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
        subject = one_line(header_text(raw_header(first, "Subject"))) or None
        return first_id(str(first.get("Message-ID", ""))), subject
    raw = part.get_payload(decode=True)
    if not isinstance(raw, bytes):
        return None, None
    head = raw.replace(b"\r\n", b"\n").lstrip().split(b"\n\n", 1)[0].decode("utf-8", "replace")
    found = HEADER_MESSAGE_ID.search(head)
    said = HEADER_SUBJECT.search(head)
    subject = one_line(header_text(said.group(1).replace("\n", " "))) if said else None
    return (found.group(1) if found else None), subject or None
