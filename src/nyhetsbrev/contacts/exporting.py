"""Exporting contacts: CSV that Excel opens right (BOM, no formulas) and JSON with everything."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import datetime
from itertools import islice
from typing import Any

import sqlalchemy as sa

from nyhetsbrev.contacts.database import read_transaction
from nyhetsbrev.contacts.model import Consent, Contact, Event
from nyhetsbrev.contacts.queries import ContactFilter
from nyhetsbrev.contacts.schema.tables import consents, events
from nyhetsbrev.contacts.store import ContactStore

#: The CSV columns, in order. `import` reads such a file back (it knows these header names).
CSV_COLUMNS = (
    "email",
    "name",
    "organisation",
    "sector",
    "language",
    "topics",
    "status",
    "notes",
    "created_at",
    "updated_at",
    "consent_given_at",
    "consent_source",
    "consent_evidence",
    "privacy_notice_version",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_FORMULA_CHARS = "".join(_FORMULA_START)
_CHUNK = 2000


def neutralise(cell: str) -> str:
    """A cell that a spreadsheet would run as a formula gets a leading `'` (shown as text)."""
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _time(value: datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def contact_dict(contact: Contact) -> dict[str, Any]:
    """A contact as JSON-ready data (timestamps in ISO 8601, UTC)."""
    data = asdict(contact)
    data["topics"] = list(contact.topics)
    data["created_at"] = _time(contact.created_at)
    data["updated_at"] = _time(contact.updated_at)
    return data


def consent_dict(consent: Consent) -> dict[str, Any]:
    data = asdict(consent)
    del data["contact_id"]
    data["given_at"] = _time(consent.given_at)
    data["confirmed_at"] = _time(consent.confirmed_at)
    return data


def event_dict(event: Event) -> dict[str, Any]:
    data = asdict(event)
    del data["contact_id"]
    data["at"] = _time(event.at)
    return data


def person_record(store: ContactStore, contact: Contact) -> dict[str, Any]:
    """Everything held about one person: the answer to a GDPR access request."""
    return {
        **contact_dict(contact),
        "consents": [consent_dict(c) for c in store.consents(contact.id)],
        "events": [event_dict(e) for e in store.events(contact.id)],
    }


def _chunks(items: Iterable[Contact]) -> Iterator[list[Contact]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, _CHUNK)):
        yield chunk


def _history(
    store: ContactStore, chunk: Sequence[Contact], with_events: bool
) -> tuple[dict[int, list[Consent]], dict[int, list[Event]]]:
    ids = [c.id for c in chunk]
    by_consent: dict[int, list[Consent]] = {}
    by_event: dict[int, list[Event]] = {}
    with read_transaction(store.engine) as conn:
        query = sa.select(consents).where(consents.c.contact_id.in_(ids)).order_by(consents.c.id)
        for row in conn.execute(query):
            by_consent.setdefault(row.contact_id, []).append(Consent(**row._asdict()))
        if with_events:
            query = sa.select(events).where(events.c.contact_id.in_(ids)).order_by(events.c.id)
            for row in conn.execute(query):
                by_event.setdefault(row.contact_id, []).append(Event(**row._asdict()))
    return by_consent, by_event


def export_csv(
    store: ContactStore,
    contacts: Iterable[Contact],
    *,
    delimiter: str = ";",
    bom: bool = True,
    consent: bool = True,
) -> tuple[str, list[int]]:
    """CSV text (with a UTF-8 BOM for Excel unless `bom=False`) and the ids it contains.

    The consent columns describe each contact's latest consent record (left out if not
    `consent`: `list --format csv` shows the contacts only).
    """
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    width = len(CSV_COLUMNS) if consent else CSV_COLUMNS.index("consent_given_at")
    writer.writerow(CSV_COLUMNS[:width])
    ids: list[int] = []
    times: dict[datetime, str] = {}  # rows of one import share their timestamps

    def when(value: datetime | None) -> str | None:
        if value is None:
            return None
        text = times.get(value)
        if text is None:
            text = times[value] = value.isoformat(timespec="seconds")
        return text

    for chunk in _chunks(contacts):
        by_consent = _history(store, chunk, with_events=False)[0] if consent else {}
        for contact in chunk:
            latest = by_consent.get(contact.id, [None])[-1]
            values = (
                contact.email,
                contact.name,
                contact.organisation,
                contact.sector,
                contact.language,
                ", ".join(contact.topics),
                contact.status,
                contact.notes,
                when(contact.created_at),
                when(contact.updated_at),
                when(latest.given_at) if latest else None,
                latest.source if latest else None,
                latest.evidence if latest else None,
                latest.privacy_notice_version if latest else None,
            )
            writer.writerow(
                ["" if not v else "'" + v if v[0] in _FORMULA_CHARS else v for v in values[:width]]
            )
            ids.append(contact.id)
    return out.getvalue(), ids


def export_json(store: ContactStore, contacts: Iterable[Contact]) -> tuple[str, list[int]]:
    """A JSON array of contacts, each with its consent records and event log; and the ids."""
    records: list[dict[str, Any]] = []
    for chunk in _chunks(contacts):
        by_consent, by_event = _history(store, chunk, with_events=True)
        for contact in chunk:
            record = contact_dict(contact)
            record["consents"] = [consent_dict(c) for c in by_consent.get(contact.id, [])]
            record["events"] = [event_dict(e) for e in by_event.get(contact.id, [])]
            records.append(record)
    return json.dumps(records, ensure_ascii=False, indent=2) + "\n", [r["id"] for r in records]


def export(
    store: ContactStore, criteria: ContactFilter, fmt: str, *, delimiter: str = ";"
) -> tuple[str, list[int]]:
    """The export text in `fmt` ("csv" or "json") for the contacts matching `criteria`."""
    contacts = store.query(criteria)
    if fmt == "json":
        return export_json(store, contacts)
    return export_csv(store, contacts, delimiter=delimiter)
