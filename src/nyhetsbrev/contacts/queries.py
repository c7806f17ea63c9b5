"""Reading the list: filters, contacts page by page, one contact's consents and events, counts."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nyhetsbrev.contacts.database import read_transaction
from nyhetsbrev.contacts.model import Consent, Contact, ContactStatus, Event
from nyhetsbrev.contacts.schema.tables import (
    consents,
    contact_topics,
    contacts,
    events,
    suppressions,
)

PAGE_SIZE = 5000


@dataclass(frozen=True)
class ContactFilter:
    """Which contacts: every given criterion must hold; within one, any value may match.

    `search` matches email, name, organisation, sector and notes, case-insensitively.
    Empty criteria (None or empty) do not filter.
    """

    statuses: Sequence[ContactStatus] | None = None
    topics: Sequence[str] | None = None
    sectors: Sequence[str] | None = None
    languages: Sequence[str] | None = None
    search: str | None = None

    def where(self) -> sa.ColumnElement[bool]:
        """The SQL condition (bound parameters only)."""
        conditions: list[sa.ColumnElement[bool]] = []
        if self.statuses:
            conditions.append(contacts.c.status.in_(list(self.statuses)))
        if self.topics:
            conditions.append(
                sa.exists().where(
                    contact_topics.c.contact_id == contacts.c.id,
                    contact_topics.c.topic.in_(list(self.topics)),
                )
            )
        if self.sectors:
            conditions.append(contacts.c.sector.in_([s.strip().lower() for s in self.sectors]))
        if self.languages:
            conditions.append(contacts.c.language.in_(list(self.languages)))
        if self.search and self.search.strip():
            escaped = self.search.strip().replace("\\", "\\\\").replace("%", "\\%")
            pattern = "%" + escaped.replace("_", "\\_") + "%"
            columns = [contacts.c[n] for n in ("email", "name", "organisation", "sector", "notes")]
            conditions.append(sa.or_(*(c.ilike(pattern, escape="\\") for c in columns)))
        return sa.and_(sa.true(), *conditions)


# Contact's fields in order, but for topics (read separately).
_CONTACT_COLUMNS = [
    contacts.c[name]
    for name in ("id", "email", "name", "organisation", "sector", "language", "status", "notes")
] + [contacts.c.created_at, contacts.c.updated_at]


# A contact's topics in the same query: "nyhetsbrev tilstandsrapport" (group_concat on SQLite,
# string_agg on PostgreSQL), one index lookup per contact, done by the database.
TOPICS_TEXT = (
    sa.select(sa.func.aggregate_strings(contact_topics.c.topic, " "))
    .where(contact_topics.c.contact_id == contacts.c.id)
    .scalar_subquery()
)
_TOPIC_SETS: dict[str | None, tuple[str, ...]] = {}


def _topic_tuple(text: str | None) -> tuple[str, ...]:
    found = _TOPIC_SETS.get(text)
    if found is None:
        found = tuple(sorted(text.split())) if text else ()
        if len(_TOPIC_SETS) < 1024:
            _TOPIC_SETS[text] = found
    return found


def fetch_contacts(
    conn: Connection, where: sa.ColumnElement[bool], *, limit: int | None = None
) -> list[Contact]:
    """Contacts matching `where`, ordered by id, with their topics (one query)."""
    query = sa.select(*_CONTACT_COLUMNS, TOPICS_TEXT).where(where).order_by(contacts.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [
        Contact(id_, email, name, org, sector, lang, _topic_tuple(topics),
                ContactStatus(status), notes, created, updated)
        for id_, email, name, org, sector, lang, status, notes, created, updated, topics
        in conn.execute(query).all()
    ]  # fmt: skip


def iter_contacts(
    engine: Engine, criteria: ContactFilter, *, limit: int | None = None
) -> Iterator[Contact]:
    """Stream matching contacts ordered by id, a page per short transaction (keyset paging).

    No connection stays open between pages, so a caller may write to the database (e.g. the
    sending ledger) while iterating; a contact changed meanwhile is seen as it is at its page.
    """
    where = criteria.where()
    last_id = 0  # keyset paging: each page starts after the last id seen
    remaining = limit
    while remaining is None or remaining > 0:
        size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
        with read_transaction(engine) as conn:
            page = fetch_contacts(conn, sa.and_(where, contacts.c.id > last_id), limit=size)
        yield from page
        if len(page) < size:
            return
        last_id = page[-1].id
        if remaining is not None:
            remaining -= len(page)


def contact_where(conn: Connection, where: sa.ColumnElement[bool]) -> Contact | None:
    found = fetch_contacts(conn, where, limit=1)
    return found[0] if found else None


def consents_of(conn: Connection, contact_id: int) -> list[Consent]:
    """A contact's consent records, oldest first."""
    rows = conn.execute(
        sa.select(consents).where(consents.c.contact_id == contact_id).order_by(consents.c.id)
    )
    return [Consent(**row._asdict()) for row in rows]


def events_of(conn: Connection, contact_id: int) -> list[Event]:
    """A contact's event log, oldest first."""
    rows = conn.execute(
        sa.select(events).where(events.c.contact_id == contact_id).order_by(events.c.id)
    )
    return [Event(**row._asdict()) for row in rows]


def last_events(conn: Connection, contact_ids: list[int], kind: str) -> dict[int, Event]:
    """Each contact's latest event of `kind` (e.g. why and when they became `bounced`)."""
    found: dict[int, Event] = {}
    for start in range(0, len(contact_ids), 500):
        chunk = contact_ids[start : start + 500]
        rows = conn.execute(
            sa.select(events)
            .where(events.c.contact_id.in_(chunk), events.c.kind == kind)
            .order_by(events.c.id)
        )
        for row in rows:
            found[row.contact_id] = Event(**row._asdict())
    return found


@dataclass
class Stats:
    """Counts: by status, and per topic, sector and language split by status."""

    by_status: dict[str, int] = field(default_factory=dict)
    by_topic: dict[str, dict[str, int]] = field(default_factory=dict)
    by_sector: dict[str, dict[str, int]] = field(default_factory=dict)
    by_language: dict[str, dict[str, int]] = field(default_factory=dict)
    suppressed: int = 0

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


def stats(conn: Connection) -> Stats:
    """Count the list in five grouped queries."""
    result = Stats()
    status = contacts.c.status
    for value, count in conn.execute(sa.select(status, sa.func.count()).group_by(status)):
        result.by_status[value] = count
    groups = (
        (result.by_sector, contacts.c.sector, contacts),
        (result.by_language, contacts.c.language, contacts),
        (result.by_topic, contact_topics.c.topic, contacts.join(contact_topics)),
    )
    for target, column, source in groups:
        query = sa.select(column, status, sa.func.count()).select_from(source)
        for key, state, count in conn.execute(query.group_by(column, status)):
            target.setdefault(key or "", {})[state] = count
    result.suppressed = conn.execute(
        sa.select(sa.func.count()).select_from(suppressions)
    ).scalar_one()
    return result


@contextlib.contextmanager
def small_page_cache(conn: Connection) -> Iterator[None]:
    """SQLite: a 2 MB page cache while streaming the list out (each page is read once) or
    logging its export; the connection's 16 MB, meant for imports, would only make an export's
    memory grow with the list."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar()
    conn.exec_driver_sql("PRAGMA cache_size = -2000")
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA cache_size = {int(before or -2000)}")
