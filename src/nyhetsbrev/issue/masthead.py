"""What the publication file must hold beyond its types: topics, safe URLs, valid addresses.

Every problem is a located error finding, so `check` lists it and every command that loads the
publication (`build`, `send`, `serve`, `preview`) refuses it: a publication that `check` refuses
never starts the public app.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email

from nyhetsbrev.issue import markdown
from nyhetsbrev.issue.findings import Finding
from nyhetsbrev.issue.model import Publication
from nyhetsbrev.issue.yamlsource import FieldPath, SourceMap, dotted

LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_UNSAFE = re.compile(r"[\x00-\x20\x7f-\x9f\u2028\u2029]")
_TOPIC = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
TEXT_BLOCKS = ("contact", "about", "contact_list")


def shown(value: str, limit: int = 80) -> str:
    """A value as it may be printed: quoted, control characters (CR, LF, ESC …) escaped."""
    text = json.dumps(value[:limit], ensure_ascii=False)
    return text + ("…" if len(value) > limit else "")


def url_problem(url: str, *, base: bool = False, mailto: bool = False) -> str | None:
    """Why `url` is not a safe address for the publication (None if it is): https://host…;
    http:// only for localhost; `mailto:` only where allowed; `base`: no query or fragment."""
    if mailto and url.startswith("mailto:"):
        return address_problem(url.removeprefix("mailto:").split("?")[0])
    if _UNSAFE.search(url):
        return "it contains spaces or control characters"
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        return "it is not a valid address"
    if parts.scheme not in ("https", "http") or not host:
        return "it must start with https:// and a host name"
    if parts.scheme == "http" and host not in LOCAL_HOSTS:
        return "it must use https:// (http:// only for localhost)"
    if host not in LOCAL_HOSTS and "." not in host:
        return f'"{host}" is not a full host name'
    if parts.username is not None or parts.password is not None:
        return "it must not carry a user name or password"
    if base and (parts.query or parts.fragment):
        return "it must be the app's address only, without ? or #"
    return None


def address_problem(address: str) -> str | None:
    """Why `address` is not a valid email address (None if it is), by `email-validator`."""
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError as exc:
        reason = str(exc).rstrip(".")
        return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}", reason).replace("\\x20", " ")
    return None


def check_publication(publication: Publication, source: SourceMap) -> list[Finding]:
    """Every problem of a publication that validated against its model."""
    out: list[Finding] = []

    def add(path: FieldPath, message: str, line: int = 0, col: int = 0) -> None:
        mark = source.value_mark(path)
        out.append(
            Finding(source.file, line or mark.line, col or mark.col, "error", message, dotted(path))
        )

    if not publication.topics:
        add(
            ("topics",),
            "needs at least one topic (the sign-up form offers them): list one, e.g. "
            "`topics: [nyhetsbrev]`",
        )
    seen: set[str] = set()
    for index, topic in enumerate(publication.topics):
        if not _TOPIC.match(topic):
            add(
                ("topics", index),
                f"{shown(topic)} is not a topic name: lower-case letters, digits, - and _ "
                "(at most 64), e.g. nyhetsbrev",
            )
        elif topic in seen:
            add(("topics", index), f"{shown(topic)} is listed twice: remove one")
        seen.add(topic)
    urls: list[tuple[str, str | None, bool]] = [
        ("public_url", publication.public_url, True),
        ("website", publication.website, False),
        ("privacy_notice_url", publication.privacy_notice_url, False),
    ]
    for name, value, base in urls:
        problem = value is not None and url_problem(value, base=base)
        if problem:
            add(
                (name,),
                f"not a safe web address: {shown(value or '')} — {problem}; write it in full, "
                "e.g. https://nyhetsbrev.example.org",
            )
    for name in TEXT_BLOCKS:
        path: FieldPath = (name, "body")
        text = getattr(publication, name).body
        info = source.scalars.get(path)
        for link, block_line in markdown.links(markdown.parse(text)):
            problem = url_problem(link.href, mailto=True) if link.href != "#" else None
            if problem:
                line = col = 0
                if info is not None:
                    line = (info.start.line + 1 if info.style == "|" else info.start.line) + (
                        block_line
                    )
                    found = (
                        source.lines[line - 1].find(link.href) if line <= len(source.lines) else -1
                    )
                    col = found + 1 if found >= 0 else info.start.col
                add(
                    path,
                    f"the link {shown(link.href)} is not safe — {problem}; write it with "
                    "https:// (or mailto:)",
                    line,
                    col,
                )
    addresses = [
        (("contact_email",), publication.contact_email),
        (("sender", "email"), publication.sender.email),
        (("sender", "reply_to"), publication.sender.reply_to),
    ]
    for field_path, address in addresses:
        problem = address is not None and address_problem(address)
        if problem:
            add(
                field_path,
                f"not a valid email address: {shown(address or '')} — {problem}; write one "
                "address, e.g. kom@example.org",
            )
    return out
