"""Exporting contacts: CSV that Excel opens right (BOM, no formulas) and JSON with everything."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Any, TextIO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nyhetsbrev.contacts.database import read_transaction
from nyhetsbrev.contacts.model import Consent, Contact, Event
from nyhetsbrev.contacts.queries import TOPICS_TEXT, ContactFilter, small_page_cache
from nyhetsbrev.contacts.schema.tables import consents, contacts, events
from nyhetsbrev.contacts.store import ContactStore
from nyhetsbrev.errors import ContactsError

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


def _timestamps() -> Callable[[str | datetime | None], str | None]:
    """Stored timestamp → ISO 8601 in UTC, once per distinct value (an import gives thousands of
    rows one timestamp): SQLite's text ("2024-12-20 10:00:00.000000", UTC) or a datetime."""
    cache: dict[str | datetime, str] = {}

    def when(value: str | datetime | None) -> str | None:
        if value is None:
            return None
        text = cache.get(value)
        if text is None:
            moment = datetime.fromisoformat(value) if isinstance(value, str) else value
            moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
            if len(cache) >= 4096:
                cache.clear()
            text = cache[value] = moment.isoformat(timespec="seconds")
        return text

    return when


def _topics() -> Callable[[str | None], str]:
    """The aggregated topics ("tilstandsrapport nyhetsbrev") → "nyhetsbrev, tilstandsrapport"."""
    cache: dict[str | None, str] = {}

    def topics(text: str | None) -> str:
        found = cache.get(text)
        if found is None:
            found = ", ".join(sorted(text.split())) if text else ""
            if len(cache) < 1024:
                cache[text] = found
        return found

    return topics


def csv_query(
    criteria: ContactFilter, *, consent: bool, limit: int | None = None
) -> sa.Select[Any]:
    """One query for the CSV: the contact columns, the topics, and (if `consent`) the latest
    consent record's; timestamps as stored (formatted once per distinct value, not per row)."""

    def stored(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        return sa.type_coerce(column, sa.String)  # no per-row conversion to datetime

    c = contacts.c
    query = sa.select(
        c.id, c.email, c.name, c.organisation, c.sector, c.language, TOPICS_TEXT, c.status,
        c.notes, stored(c.created_at), stored(c.updated_at),
    )  # fmt: skip
    if consent:
        latest = consents.alias("latest")
        newest = (
            sa.select(sa.func.max(consents.c.id))
            .where(consents.c.contact_id == c.id)
            .correlate(contacts)
            .scalar_subquery()
        )
        query = query.add_columns(
            stored(latest.c.given_at), latest.c.source, latest.c.evidence,
            latest.c.privacy_notice_version,
        ).select_from(contacts.outerjoin(latest, latest.c.id == newest))  # fmt: skip
    query = query.where(criteria.where()).order_by(c.id)
    return query if limit is None else query.limit(limit)


def write_csv(
    engine: Engine,
    criteria: ContactFilter,
    out: TextIO,
    *,
    delimiter: str = ";",
    bom: bool = True,
    consent: bool = True,
    limit: int | None = None,
) -> list[int]:
    """Write the matching contacts to `out` as CSV (a UTF-8 BOM for Excel unless `bom=False`),
    row by row as the query yields them, in one consistent read; the ids written.

    The consent columns describe each contact's latest consent record (left out if not
    `consent`: `list --format csv` shows the contacts only). A cell that a spreadsheet would
    run as a formula gets a leading `'`.
    """
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    width = len(CSV_COLUMNS) if consent else CSV_COLUMNS.index("consent_given_at")
    writer.writerow(CSV_COLUMNS[:width])
    ids: list[int] = []
    when, topics = _timestamps(), _topics()
    formula = _FORMULA_CHARS

    def cells(rows: Iterable[Sequence[Any]]) -> Iterator[list[str]]:
        for row in rows:
            ids.append(row[0])
            values = [row[1], row[2], row[3], row[4], row[5], topics(row[6]), row[7], row[8],
                      when(row[9]), when(row[10])]  # fmt: skip
            if consent:
                values += [when(row[11]), row[12], row[13], row[14]]
            yield ["" if not v else "'" + v if v[0] in formula else v for v in values]

    with read_transaction(engine) as conn, small_page_cache(conn):
        result = conn.execution_options(yield_per=_CHUNK).execute(
            csv_query(criteria, consent=consent, limit=limit)
        )
        writer.writerows(cells(result))
    return ids


def _write_json_array(out: TextIO, records: Iterable[dict[str, Any]]) -> None:
    """`json.dumps(list(records), ensure_ascii=False, indent=2)` and a newline, one record at a
    time (JSON escapes newlines in strings, so indenting every line of a record is exact)."""
    first = True
    for record in records:
        text = json.dumps(record, ensure_ascii=False, indent=2).replace("\n", "\n  ")
        out.write(("[\n  " if first else ",\n  ") + text)
        first = False
    out.write("[]\n" if first else "\n]\n")


def write_json(
    store: ContactStore, criteria: ContactFilter, out: TextIO, *, history: bool = True
) -> list[int]:
    """The matching contacts as a JSON array, each (if `history`) with its consent records and
    event log, written chunk by chunk; the ids written."""
    ids: list[int] = []

    def records() -> Iterator[dict[str, Any]]:
        for chunk in _chunks(store.query(criteria)):
            by_consent, by_event = _history(store, chunk, with_events=True) if history else ({}, {})
            for contact in chunk:
                record = contact_dict(contact)
                if history:
                    record["consents"] = [consent_dict(c) for c in by_consent.get(contact.id, [])]
                    record["events"] = [event_dict(e) for e in by_event.get(contact.id, [])]
                ids.append(contact.id)
                yield record

    _write_json_array(out, records())
    return ids


def write_list_json(contacts_found: Iterable[Contact], out: TextIO) -> None:
    """`list --format json`: the contacts without their history."""
    _write_json_array(out, (contact_dict(c) for c in contacts_found))


def export(
    store: ContactStore, criteria: ContactFilter, fmt: str, out: TextIO, *, delimiter: str = ";"
) -> list[int]:
    """Write the export in `fmt` ("csv" or "json") of the contacts matching `criteria`."""
    if fmt == "json":
        return write_json(store, criteria, out)
    return write_csv(store.engine, criteria, out, delimiter=delimiter)


def export_to_file(
    store: ContactStore, criteria: ContactFilter, fmt: str, path: Path, *, delimiter: str = ";"
) -> list[int]:
    """`export` into `path`, whole or not at all: written to a temporary file beside it (readable
    by its owner only: it holds personal data), which then replaces `path`."""
    try:
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise ContactsError(
            f"{path}: cannot write the export there ({exc.strerror}): check the folder exists "
            "and that you may write in it"
        ) from None
    try:
        with open(fd, "w", encoding="utf-8", newline="") as handle:
            ids = export(store, criteria, fmt, handle, delimiter=delimiter)
        os.replace(temporary, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        if isinstance(exc, OSError):
            raise ContactsError(f"{path}: cannot write the export: {exc.strerror}") from None
        raise
    return ids
