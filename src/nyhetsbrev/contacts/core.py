"""The store's building blocks: lookups, validation, and the statements every change uses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nyhetsbrev.contacts import addresses, fields, model
from nyhetsbrev.contacts.addresses import InvalidEmail
from nyhetsbrev.contacts.database import write_transaction as _write
from nyhetsbrev.contacts.model import Contact, ContactStatus, now
from nyhetsbrev.contacts.queries import contact_where
from nyhetsbrev.contacts.schema.tables import consents, contact_topics, contacts, events
from nyhetsbrev.errors import ContactsError


class StoreBase:
    """What every part of `ContactStore` shares: the engine, the topics, and helpers."""

    def __init__(
        self, engine: Engine, *, topics: tuple[str, ...], privacy_notice_version: str | None
    ) -> None:
        self.engine = engine
        self.topics = topics
        self.privacy_notice_version = privacy_notice_version

    def _by_email(self, conn: Connection, email: str, *, lock: bool = False) -> Contact | None:
        where = contacts.c.email_normalised == addresses.normalise_email(email)
        if lock:
            lock_row(conn, where)
        return contact_where(conn, where)

    def _require(self, conn: Connection, email_or_id: str | int, *, lock: bool = False) -> Contact:
        if isinstance(email_or_id, int):
            where = contacts.c.id == email_or_id
            if lock:
                lock_row(conn, where)
            found = contact_where(conn, where)
            if found is None:
                raise ContactsError(f"no contact #{email_or_id} (it may have been erased)")
            return found
        found = self._by_email(conn, email_or_id, lock=lock)
        if found is None:
            raise ContactsError(
                f"no contact with the address {email_or_id.strip()} — check the spelling, or "
                f'search: nyhetsbrev contacts list --search "{email_or_id.strip().split("@")[0]}"'
            )
        return found

    def _transition(
        self,
        email_or_id: str | int,
        to: ContactStatus,
        allowed: set[ContactStatus],
        kind: str,
        actor: str,
        detail: str,
    ) -> bool:
        with _write(self.engine) as conn:
            contact = self._require(conn, email_or_id, lock=True)
            if contact.status not in allowed:
                return False
            at = now()
            set_status(conn, contact.id, to, at)
            log(conn, contact.id, kind, actor, detail, at)
            return True

    def check_topics(self, values: Iterable[str]) -> tuple[str, ...]:
        """Topic names as configured, sorted; an unknown one is a `ContactsError`."""
        try:
            return model.parse_topics(values, self.topics)
        except ValueError as exc:
            raise ContactsError(str(exc)) from None

    def _values(
        self,
        name: str | None,
        organisation: str | None,
        sector: str | None,
        language: str | None,
        notes: str | None,
    ) -> dict[str, Any]:
        for field, value in (
            ("name", name),
            ("organisation", organisation),
            ("sector", sector),
            ("notes", notes),
        ):
            check_field(field, value)
        return {
            "name": model.clean_text(name),
            "organisation": model.clean_text(organisation),
            "sector": model.clean_sector(sector),
            "language": language_code(language) if language else model.DEFAULT_LANGUAGE,
            "notes": model.clean_text(notes),
        }

    def _apply_changes(self, contact: Contact, changes: Mapping[str, Any]) -> Contact:
        new = contact
        for key, value in changes.items():
            if key in ("name", "organisation", "sector", "notes"):
                check_field(key, value)
            if key == "topics":
                new = replace(new, topics=self.check_topics(value or ()))
            elif key == "language":
                new = replace(new, language=language_code(value or model.DEFAULT_LANGUAGE))
            elif key == "sector":
                new = replace(new, sector=model.clean_sector(value))
            elif key == "email":
                new = replace(new, email=check_email(value or "")[0])
            elif key == "name":
                new = replace(new, name=model.clean_text(value))
            elif key == "organisation":
                new = replace(new, organisation=model.clean_text(value))
            else:
                new = replace(new, notes=model.clean_text(value))
        return new

    def _consent(
        self,
        conn: Connection,
        contact_id: int,
        source: str,
        actor: str,
        evidence: str | None,
        version: str | None,
        at: Any,
    ) -> None:
        conn.execute(
            consents.insert().values(
                contact_id=contact_id,
                given_at=at,
                source=source,
                actor=actor,
                evidence=model.clean_text(evidence),
                privacy_notice_version=version or self.privacy_notice_version,
            )
        )


def check_field(field: str, value: str | None) -> None:
    """`ContactsError` for a value the contact's `field` may not hold (`fields.text_problem`)."""
    problem = fields.text_problem(field, value.strip()) if value else None
    if problem:
        raise ContactsError(f"{field}: {problem}")


def check_email(email: str) -> tuple[str, str]:
    try:
        return addresses.check_email(email)
    except InvalidEmail as exc:
        raise ContactsError(str(exc)) from None


def check_source(source: str) -> None:
    if source not in model.CONSENT_SOURCES:
        raise ContactsError(
            f'unknown consent source "{source}" — use one of {", ".join(model.CONSENT_SOURCES)}'
        )


def language_code(value: str) -> str:
    try:
        return model.parse_language(value)
    except ValueError as exc:
        raise ContactsError(str(exc)) from None


def already_there(contact: Contact) -> ContactsError:
    if contact.status in (ContactStatus.UNSUBSCRIBED, ContactStatus.BOUNCED):
        return ContactsError(
            f"{contact.email} is on the list as {contact.status} — if they have asked to receive "
            f'mailings again, run: nyhetsbrev contacts resubscribe {contact.email} --evidence "…"'
        )
    return ContactsError(
        f"{contact.email} is already on the list ({contact.status}) — change it with: "
        f"nyhetsbrev contacts edit {contact.email} …"
    )


def lock_row(conn: Connection, where: sa.ColumnElement[bool]) -> None:
    """Lock the contact's row until commit (PostgreSQL; SQLite's writer already holds the lock)."""
    if conn.dialect.name != "sqlite":
        conn.execute(sa.select(contacts.c.id).where(where).with_for_update())


def insert_contact(
    conn: Connection,
    given: str,
    normalised: str,
    status: ContactStatus,
    at: datetime,
    values: Mapping[str, str | None],
) -> int:
    """Insert a contact row (no topics, consent or log yet); its new id."""
    contact_id: int = conn.execute(
        contacts.insert()
        .returning(contacts.c.id)
        .values(
            email=given,
            email_normalised=normalised,
            status=status,
            created_at=at,
            updated_at=at,
            **values,
        )
    ).scalar_one()
    return contact_id


def set_status(conn: Connection, contact_id: int, status: ContactStatus, at: Any) -> None:
    conn.execute(
        contacts.update().where(contacts.c.id == contact_id).values(status=status, updated_at=at)
    )


def set_topics(conn: Connection, contact_id: int, topics: Iterable[str]) -> None:
    conn.execute(contact_topics.delete().where(contact_topics.c.contact_id == contact_id))
    rows = [{"contact_id": contact_id, "topic": t} for t in sorted(set(topics))]
    if rows:
        conn.execute(contact_topics.insert(), rows)


def log(
    conn: Connection, contact_id: int | None, kind: str, actor: str, detail: str | None, at: Any
) -> None:
    conn.execute(
        events.insert().values(contact_id=contact_id, at=at, kind=kind, actor=actor, detail=detail)
    )
