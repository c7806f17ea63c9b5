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

import re
from typing import Any

from nyhetsbrev.bounces import dsn
from nyhetsbrev.bounces.formats import auto_reply, from_flufl, from_microsoft, looks_microsoft
from nyhetsbrev.bounces.message import (
    PARSER,
    Failure,
    Kind,
    Parsed,
    bare,
    first_id,
    header_date,
    header_text,
    key_hash,
    one_line,
    raw_header,
)

__all__ = ["Failure", "Kind", "Parsed", "parse"]


def parse(data: bytes) -> Parsed:
    """Read one message (its raw bytes) and say what it is. Never raises on bad input."""
    if not data.strip():
        return bare("malformed", data, "empty message")
    head = data[:4096].lstrip()
    if not re.match(rb"[!-9;-~]+:", head):
        return bare("malformed", data, "does not start with mail headers")
    try:
        top = PARSER.parsebytes(data, headersonly=True)
    except Exception as exc:  # the email package is lenient; this is a last resort
        return bare("malformed", data, f"cannot be parsed as a message ({exc})")
    message_id = first_id(str(top.get("Message-ID", "")))
    subject = one_line(header_text(raw_header(top, "Subject")))
    common: dict[str, Any] = {
        "key": message_id or key_hash(data),
        "message_id": message_id,
        "date": header_date(top.get("Date")),
        "subject": subject,
    }
    content_type = top.get_content_type()
    report_type = str(top.get_param("report-type", "") or "").lower()
    is_dsn = content_type == "multipart/report" and report_type == "delivery-status"
    if is_dsn:
        quick = dsn.quick_dsn(top, data, common)
        if quick is not None:
            return quick
    try:
        message = PARSER.parsebytes(data)
    except Exception as exc:
        return bare("malformed", data, f"cannot be parsed as a message ({exc})")
    if is_dsn:
        return dsn.from_dsn(message, data, common)
    if content_type == "multipart/report" and report_type == "disposition-notification":
        return Parsed("auto-reply", why="read receipt (disposition notification)", **common)
    if looks_microsoft(message, subject):
        found = from_microsoft(message, common)
        if found is not None:
            return found
    auto = auto_reply(message, subject)
    if auto:
        return Parsed("auto-reply", why=auto, **common)
    found = from_flufl(message, common)
    if found is not None:
        return found
    return Parsed("other", why="not a bounce or an auto-reply", **common)
