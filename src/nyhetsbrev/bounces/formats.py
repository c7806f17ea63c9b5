"""The other formats: Microsoft's NDR text, auto-replies, and older bounces via flufl.bounce."""

from __future__ import annotations

import logging
import re
from email.message import Message
from typing import Any

from nyhetsbrev.bounces.message import (
    MAX_DIAGNOSTIC,
    Failure,
    Parsed,
    body_text,
    ids_in_text,
    one_line,
    status_code,
)

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


# --- Microsoft's NDR text --------------------------------------------------------------------


def looks_microsoft(message: Message, subject: str) -> bool:
    if _MS_SUBJECT.match(subject):
        return True
    return message.get("X-MS-Exchange-Message-Is-Ndr") is not None


def from_microsoft(message: Message, common: dict[str, Any]) -> Parsed | None:
    text = body_text(message)
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
        diagnostic = one_line(said.group(1) if said else line).strip("'<># ")
        status = status_code(diagnostic)
        if status is None and not said:
            diagnostic = ""
        failures.setdefault(
            match.group(1),
            Failure(
                recipient=match.group(1),
                original=None,
                permanent=status is None or status.startswith("5"),
                status=status,
                diagnostic=diagnostic[:MAX_DIAGNOSTIC] or "Microsoft NDR without a server reply",
            ),
        )
    if not failures:
        return None
    return Parsed(
        "bounce",
        detector="microsoft",
        failures=tuple(failures.values()),
        returned_ids=tuple(ids_in_text(message, exclude=str(common["message_id"] or ""))),
        **common,
    )


# --- auto-replies ------------------------------------------------------------------------------


def auto_reply(message: Message, subject: str) -> str:
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


def from_flufl(message: Message, common: dict[str, Any]) -> Parsed | None:
    """Older formats, through flufl.bounce: addresses and temporary/permanent, no status code."""
    from flufl.bounce import all_failures

    logging.getLogger("flufl.bounce").setLevel(logging.WARNING)
    try:
        temporary, permanent = all_failures(message)
    except Exception:  # a detector tripping over odd input: treat as not detected
        return None
    text = body_text(message)
    failures = []
    for is_permanent, found in ((True, permanent), (False, temporary - permanent)):
        for raw in sorted(found):
            address = raw.decode("ascii", "replace")
            if "@" not in address:
                continue
            # qmail and friends put the server's words (often with a code) after the address
            at = text.find(address)
            said = one_line(text[at + len(address) : at + len(address) + 300]) if at >= 0 else ""
            said = said.lstrip(">: ").split(" --- ")[0]
            status = status_code(said)
            failures.append(
                Failure(
                    recipient=address,
                    original=None,
                    permanent=is_permanent if status is None else status.startswith("5"),
                    status=status,
                    diagnostic=(said if status else "")[:MAX_DIAGNOSTIC]
                    or "reported by an older bounce format (detected by flufl.bounce)",
                )
            )
    if not failures:
        return None
    return Parsed(
        "bounce",
        detector="flufl.bounce",
        failures=tuple(failures),
        returned_ids=tuple(ids_in_text(message, exclude=str(common["message_id"] or ""))),
        **common,
    )
