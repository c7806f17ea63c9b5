"""The contact list's nouns: contacts, consent records, events, and how addresses are compared."""

from __future__ import annotations

import getpass
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml

from nyhetsbrev.errors import ContactsError


class ContactStatus(StrEnum):
    """A contact: `pending` (signed up, not confirmed) → `subscribed` → `unsubscribed`;
    `bounced` after hard bounces. The values are what the database stores."""

    PENDING = "pending"
    SUBSCRIBED = "subscribed"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"


STATUSES: tuple[ContactStatus, ...] = tuple(ContactStatus)
#: The states a new contact may start in.
NEW_STATUSES = (ContactStatus.SUBSCRIBED, ContactStatus.PENDING)

LANGUAGES = ("nb", "nn", "en", "sv")
DEFAULT_LANGUAGE = "nb"
DEFAULT_TOPICS = ("nyhetsbrev", "rettsavgjorelser", "tilstandsrapport")
DEFAULT_TOPIC = "nyhetsbrev"

#: How a person gave consent (the `source` of a consent record).
CONSENT_SOURCES = ("email-request", "web-form", "import", "manual")
#: How a person left the list (recorded in the `unsubscribed` event).
UNSUBSCRIBE_SOURCES = ("email-request", "web-form", "link", "manual")
#: Kinds of entry in a contact's event log.
EVENT_KINDS = (
    "subscribed",
    "requested",
    "confirmed",
    "unsubscribed",
    "changed",
    "imported",
    "exported",
    "bounced",
    "bounce",  # a bounce message recorded (bounces import/fetch); `bounced` is the status change
    "erased",
)
#: Examples offered in help texts; any sector is accepted (lower-cased, so counts add up).
EXAMPLE_SECTORS = ("departement", "direktorat", "politi", "frivillig organisasjon", "internasjonal")

_LANGUAGE_ALIASES = {
    "nb": "nb",
    "no": "nb",
    "nob": "nb",
    "norsk": "nb",
    "bokmål": "nb",
    "bokmal": "nb",
    "norwegian": "nb",
    "nn": "nn",
    "nno": "nn",
    "nynorsk": "nn",
    "en": "en",
    "eng": "en",
    "engelsk": "en",
    "english": "en",
    "sv": "sv",
    "swe": "sv",
    "svensk": "sv",
    "swedish": "sv",
    "svenska": "sv",
}


@dataclass(frozen=True)
class Contact:
    """One person on the list. `email` is as given; `topics` are sorted."""

    id: int
    email: str
    name: str | None
    organisation: str | None
    sector: str | None
    language: str
    topics: tuple[str, ...]
    status: ContactStatus
    notes: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class Consent:
    """One consent record: when, how, by whom, with what evidence, under which privacy notice."""

    id: int
    contact_id: int
    given_at: datetime
    source: str
    actor: str
    evidence: str | None
    privacy_notice_version: str | None
    confirmed_at: datetime | None


@dataclass(frozen=True)
class Event:
    """One entry of a contact's append-only event log."""

    id: int
    contact_id: int | None
    at: datetime
    kind: str
    actor: str
    detail: str | None


def now() -> datetime:
    """The current time, timezone-aware UTC (what every timestamp in the database is)."""
    return datetime.now(UTC)


def current_actor(explicit: str | None = None) -> str:
    """Who is making a change: `--actor`, else the login name of the person at the keyboard."""
    if explicit and explicit.strip():
        return explicit.strip()
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name (some containers, services)
        return "unknown"


def parse_language(value: str) -> str:
    """`nb`, `nn`, `en` or `sv` from a code or a name ("bokmål", "English"); else ValueError."""
    code = _LANGUAGE_ALIASES.get(value.strip().lower())
    if code is None:
        raise ValueError(f'unknown language "{value.strip()}" — use one of {", ".join(LANGUAGES)}')
    return code


def _fold(text: str) -> str:
    text = text.strip().lower().replace("æ", "ae").replace("ø", "o").replace("å", "a")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if c.isalnum())


def parse_topics(values: Iterable[str], known: Sequence[str]) -> tuple[str, ...]:
    """Topic names from a person's spelling ("Rettsavgjørelser") to the configured ones.

    Each value may hold several names separated by commas, semicolons, `|` or spaces.
    Unknown names raise ValueError listing the known ones.
    """
    by_fold = {_fold(topic): topic for topic in known}
    found: list[str] = []
    for value in values:
        for word in re.split(r"[,;|/\s]+", value):
            if not word:
                continue
            topic = by_fold.get(_fold(word))
            if topic is None:
                raise ValueError(f'unknown topic "{word}" — the topics are: {", ".join(known)}')
            if topic not in found:
                found.append(topic)
    return tuple(sorted(found))


def clean_text(value: str | None) -> str | None:
    """Surrounding whitespace removed; empty becomes None."""
    if value is None:
        return None
    value = value.strip()
    return value or None


def clean_sector(value: str | None) -> str | None:
    """Sectors are categories: trimmed, inner whitespace collapsed, lower-cased."""
    value = clean_text(value)
    return " ".join(value.lower().split()) if value else None


@dataclass(frozen=True)
class ListSettings:
    """What the publication file says about the list: its topics and privacy-notice version."""

    topics: tuple[str, ...] = DEFAULT_TOPICS
    privacy_notice_version: str | None = None


def publication_file(newsletters: Path) -> Path | None:
    """The publication masthead: the one `newsletters/*.yaml` (or `kom.yaml` among several)."""
    candidates = sorted(p for p in newsletters.glob("*.yaml") if p.is_file())
    if len(candidates) == 1:
        return candidates[0]
    kom = newsletters / "kom.yaml"
    return kom if kom.is_file() else None


def load_list_settings(newsletters: Path, shown_as: str | None = None) -> ListSettings:
    """Read `topics:` and `privacy_notice_version:` from the publication YAML, if it has them.

    Without a publication file, or without those keys, the defaults apply: the three KOM topics
    and no privacy-notice version.
    """
    path = publication_file(newsletters)
    if path is None:
        return ListSettings()
    name = shown_as or path.as_posix()
    text = path.read_text(encoding="utf-8")
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ContactsError(
            f"{name}{line}: not valid YAML ({getattr(exc, 'problem', exc)}) — fix the file; "
            "`nyhetsbrev check` shows every error in it"
        ) from None
    if not isinstance(data, dict):
        return ListSettings()
    topics: tuple[str, ...] = DEFAULT_TOPICS
    raw = data.get("topics")
    if raw is not None:
        if not isinstance(raw, list) or not raw or not all(_is_topic_name(t) for t in raw):
            raise ContactsError(
                f"{name}:{_line_of(text, 'topics')}: topics: must be a list of topic names "
                "in lower case letters, digits and hyphens — "
                "e.g. [nyhetsbrev, rettsavgjorelser, tilstandsrapport]"
            )
        topics = tuple(dict.fromkeys(raw))
    version: object = data.get("privacy_notice_version")
    return ListSettings(topics, str(version) if version not in (None, "") else None)


def _is_topic_name(value: object) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[a-z0-9][a-z0-9-]*", value) is not None


def _line_of(text: str, key: str) -> int:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.match(rf"{re.escape(key)}\s*:", line):
            return number
    return 1
