"""The contact store: open (and migrate) the database; read and change contacts, one at a time.

The interface other subsystems use (delivery, web):

    store = open_store(workspace.database_url())      # creates / migrates on first use
    with store:                                       # closes the engine at the end
        for contact in store.audience(topics=["nyhetsbrev"]):   # subscribed, ordered by id
            ...
        store.unsubscribe(contact.id, actor="web", source="link")
        store.mark_bounced(contact.id, actor="delivery", reason="550 5.1.1 user unknown")
        pending = store.subscribe_pending("kari@example.no", evidence="form 2025-01-02 10:00")
        store.confirm(pending.id)                     # double opt-in
        store.update_preferences(pending.id, ["nyhetsbrev"], "nn")

`store.engine` and `store.metadata` let another subsystem add tables (with foreign keys to
`contacts.id`) through `schema.migrations.register_migrations`, which the subsystem calls when it
is imported: the contact list never imports the layers above it. A table that holds anything about
a contact must either reference `contacts.id` with ON DELETE CASCADE or be declared in a migration
with `erasure.declare_personal_table`, so that `erase` stays real in every process.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from types import TracebackType
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from nyhetsbrev.contacts import addresses, model
from nyhetsbrev.contacts.core import (
    already_there,
    check_email,
    check_source,
    insert_contact,
    log,
    set_status,
    set_topics,
)
from nyhetsbrev.contacts.database import (
    create_engine,
    display_url,
    flush_deleted,
    read_transaction,
)
from nyhetsbrev.contacts.database import write_transaction as _write
from nyhetsbrev.contacts.erasure import erase_elsewhere
from nyhetsbrev.contacts.model import (
    DEFAULT_TOPICS,
    NEW_STATUSES,
    Consent,
    Contact,
    ContactStatus,
    Event,
    now,
)
from nyhetsbrev.contacts.optin import OptInMixin
from nyhetsbrev.contacts.queries import (
    ContactFilter,
    Stats,
    consents_of,
    contact_where,
    events_of,
    iter_contacts,
    small_page_cache,
    stats,
)
from nyhetsbrev.contacts.schema.migrations import migrate
from nyhetsbrev.contacts.schema.tables import contacts, events, metadata
from nyhetsbrev.contacts.suppression import Suppressor
from nyhetsbrev.errors import ContactsError
from nyhetsbrev.workspace import Workspace

EDITABLE = ("email", "name", "organisation", "sector", "language", "topics", "notes")


@dataclass(frozen=True)
class Erasure:
    """What `erase` did: the contact deleted (None if it was not on the list) and counts."""

    contact_id: int | None
    consents: int
    events: int
    newly_suppressed: bool


def open_store(
    url: str,
    *,
    topics: Sequence[str] | None = None,
    privacy_notice_version: str | None = None,
) -> ContactStore:
    """Open the contact database at `url`, creating and migrating it on first use.

    SQLite (the default, `contacts/contacts.sqlite`) gets WAL journaling and foreign keys.
    `topics` are the publication's topics (default: the three KOM topics); contacts may only
    have these. `privacy_notice_version` is recorded in consent records that do not name one.
    """
    engine = create_engine(url)
    try:
        migrate(engine)
    except sa.exc.OperationalError as exc:
        engine.dispose()
        raise ContactsError(
            f"cannot open the contact database {display_url(engine)}: "
            f"{str(exc.orig).strip().splitlines()[0]} — check NYHETSBREV_DATABASE_URL and that "
            "the database server is running"
        ) from None
    except BaseException:
        engine.dispose()
        raise
    return ContactStore(
        engine,
        topics=tuple(topics or DEFAULT_TOPICS),
        privacy_notice_version=privacy_notice_version,
    )


def open_workspace_store(ws: Workspace) -> ContactStore:
    """The workspace's contact database, with its publication's topics and privacy-notice
    version: what every command that touches the list opens."""
    pub = model.publication_file(ws.newsletters)
    settings = model.load_list_settings(ws.newsletters, ws.relative(pub) if pub else None)
    return open_store(
        ws.database_url(),
        topics=settings.topics,
        privacy_notice_version=settings.privacy_notice_version,
    )


class ContactStore(OptInMixin):
    """The contact list in one database. Use as a context manager, or call `close()`."""

    def __init__(
        self, engine: Engine, *, topics: tuple[str, ...], privacy_notice_version: str | None
    ) -> None:
        super().__init__(engine, topics=topics, privacy_notice_version=privacy_notice_version)
        self.metadata: sa.MetaData = metadata

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    def __enter__(self) -> ContactStore:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- reading ---------------------------------------------------------------------------

    def get(self, email: str) -> Contact | None:
        """The contact with this address (compared normalised), or None."""
        with read_transaction(self.engine) as conn:
            return self._by_email(conn, email)

    def get_by_id(self, contact_id: int) -> Contact | None:
        """The contact with this id, or None (e.g. erased)."""
        with read_transaction(self.engine) as conn:
            return contact_where(conn, contacts.c.id == contact_id)

    def find(self, email_or_id: str | int) -> Contact:
        """Like `get`/`get_by_id`, but a missing contact is a `ContactsError`."""
        with read_transaction(self.engine) as conn:
            return self._require(conn, email_or_id)

    def query(self, criteria: ContactFilter, *, limit: int | None = None) -> Iterator[Contact]:
        """Stream contacts matching `criteria`, ordered by id."""
        return iter_contacts(self.engine, criteria, limit=limit)

    def audience(
        self,
        status: ContactStatus | Sequence[ContactStatus] | None = ContactStatus.SUBSCRIBED,
        topics: Sequence[str] | None = ("nyhetsbrev",),
        sectors: Sequence[str] | None = None,
        languages: Sequence[str] | None = None,
    ) -> Iterator[Contact]:
        """Stream the contacts a mailing goes to, ordered by id.

        A contact matches with any of `topics` (None: any topics), any of `sectors` and any of
        `languages` (None: all). Pages are read in short transactions, so the caller may write
        (e.g. a ledger row per recipient) while iterating.
        """
        statuses = [status] if isinstance(status, str) else status
        if topics is not None:
            self.check_topics(topics)  # unknown topics are an error, not an empty audience
        criteria = ContactFilter(statuses, topics, sectors, languages)
        return iter_contacts(self.engine, criteria)

    def consents(self, contact_id: int) -> list[Consent]:
        """A contact's consent records, oldest first."""
        with read_transaction(self.engine) as conn:
            return consents_of(conn, contact_id)

    def events(self, contact_id: int) -> list[Event]:
        """A contact's event log, oldest first."""
        with read_transaction(self.engine) as conn:
            return events_of(conn, contact_id)

    def stats(self) -> Stats:
        """Counts by status, and per topic, sector and language."""
        with read_transaction(self.engine) as conn:
            return stats(conn)

    def suppression(self, email: str) -> sa.Row[Any] | None:
        """The suppression entry (`created_at`, `actor`, `reason`) of an erased address, or None."""
        with read_transaction(self.engine) as conn:
            return Suppressor(conn).find(addresses.normalise_email(email))

    # --- changing ---------------------------------------------------------------------------

    def add(
        self,
        email: str,
        *,
        actor: str,
        name: str | None = None,
        organisation: str | None = None,
        sector: str | None = None,
        language: str | None = None,
        topics: Sequence[str] | None = None,
        status: ContactStatus = ContactStatus.SUBSCRIBED,
        notes: str | None = None,
        source: str = "manual",
        evidence: str | None = None,
        privacy_notice_version: str | None = None,
        lift_suppression: bool = False,
    ) -> Contact:
        """Add a new contact with a consent record; `ContactsError` if already there or erased.

        An erased (suppressed) address is refused unless `lift_suppression` is set, which needs
        `evidence` of the person's fresh request.
        """
        given, normalised = check_email(email)
        if status not in NEW_STATUSES:
            raise ContactsError(f'a new contact is "subscribed" or "pending", not "{status}"')
        check_source(source)
        values = self._values(name, organisation, sector, language, notes)
        chosen = self.check_topics(topics if topics is not None else (model.DEFAULT_TOPIC,))
        with _write(self.engine) as conn:
            existing = self._by_email(conn, given)
            if existing is not None:
                raise already_there(existing)
            suppressor = Suppressor(conn)
            entry = suppressor.find(normalised)
            if entry is not None:
                if not (lift_suppression and model.clean_text(evidence)):
                    raise ContactsError(
                        f"{given} was erased from the list on {entry.created_at:%Y-%m-%d} and is "
                        "suppressed — if they have asked afresh to be on the list, run the same "
                        'command with --lift-suppression --evidence "…" (their request)'
                    )
                suppressor.lift([normalised])
            at = now()
            try:
                contact_id = insert_contact(conn, given, normalised, status, at, values)
            except sa.exc.IntegrityError:
                raise ContactsError(f"{given} was added by someone else just now") from None
            set_topics(conn, contact_id, chosen)
            self._consent(conn, contact_id, source, actor, evidence, privacy_notice_version, at)
            kind = "subscribed" if status == ContactStatus.SUBSCRIBED else "requested"
            log(conn, contact_id, kind, actor, f"added ({source})", at)
            return self._require(conn, contact_id)

    def edit(
        self, email_or_id: str | int, changes: Mapping[str, Any], *, actor: str
    ) -> tuple[Contact, list[str]]:
        """Change fields (`EDITABLE`; None clears a text field). Returns the contact and the
        names of the fields that really changed (an empty list: nothing to do)."""
        unknown = sorted(set(changes) - set(EDITABLE))
        if unknown:
            raise ContactsError(
                f"cannot edit {', '.join(unknown)}: editable are {', '.join(EDITABLE)}"
            )
        with _write(self.engine) as conn:
            contact = self._require(conn, email_or_id, lock=True)
            new = self._apply_changes(contact, changes)
            changed = [f for f in EDITABLE if getattr(new, f) != getattr(contact, f)]
            if not changed:
                return contact, []
            row: dict[str, Any] = {f: getattr(new, f) for f in changed if f != "topics"}
            if "email" in changed:
                given, normalised = check_email(new.email)
                if normalised != addresses.normalise_email(contact.email):
                    other = self._by_email(conn, given)
                    if other is not None:
                        raise ContactsError(f"{given} is already on the list (contact #{other.id})")
                    if Suppressor(conn).find(normalised) is not None:
                        raise ContactsError(f"{given} was erased from the list and is suppressed")
                row["email_normalised"] = normalised
            at = now()
            conn.execute(
                contacts.update().where(contacts.c.id == contact.id).values(updated_at=at, **row)
            )
            if "topics" in changed:
                set_topics(conn, contact.id, new.topics)
            log(conn, contact.id, "changed", actor, ", ".join(changed), at)
            return self._require(conn, contact.id), changed

    def update_preferences(
        self, contact_id: int, topics: Sequence[str], language: str, *, actor: str = "web form"
    ) -> Contact:
        """Set a contact's topics and language (the web preferences page)."""
        contact, _ = self.edit(contact_id, {"topics": topics, "language": language}, actor=actor)
        return contact

    def unsubscribe(
        self, email_or_id: str | int, *, actor: str, source: str, reason: str | None = None
    ) -> bool:
        """Take a contact off the list (idempotent): True if they were not unsubscribed before.

        `source` says how they asked: one of `model.UNSUBSCRIBE_SOURCES`.
        """
        if source not in model.UNSUBSCRIBE_SOURCES:
            raise ContactsError(
                f'unknown unsubscribe source "{source}" — use one of '
                + ", ".join(model.UNSUBSCRIBE_SOURCES)
            )
        detail = source + (f": {reason}" if reason else "")
        return self._transition(
            email_or_id,
            ContactStatus.UNSUBSCRIBED,
            {ContactStatus.PENDING, ContactStatus.SUBSCRIBED, ContactStatus.BOUNCED},
            "unsubscribed",
            actor,
            detail,
        )

    def mark_bounced(self, contact_id: int, *, actor: str, reason: str) -> bool:
        """Mark a subscribed or pending contact as bounced; True if it changed."""
        return self._transition(
            contact_id,
            ContactStatus.BOUNCED,
            {ContactStatus.PENDING, ContactStatus.SUBSCRIBED},
            "bounced",
            actor,
            reason,
        )

    def resubscribe(
        self,
        email_or_id: str | int,
        *,
        actor: str,
        evidence: str,
        source: str = "email-request",
        privacy_notice_version: str | None = None,
    ) -> bool:
        """Subscribe an unsubscribed, bounced or pending contact again, on fresh consent
        `evidence` (required); False if they were already subscribed."""
        check_source(source)
        if not model.clean_text(evidence):
            raise ContactsError(
                "resubscribing needs fresh consent: give --evidence, e.g. the Message-ID or date "
                "of their request"
            )
        with _write(self.engine) as conn:
            contact = self._require(conn, email_or_id, lock=True)
            if contact.status == ContactStatus.SUBSCRIBED:
                return False
            at = now()
            set_status(conn, contact.id, ContactStatus.SUBSCRIBED, at)
            self._consent(conn, contact.id, source, actor, evidence, privacy_notice_version, at)
            log(conn, contact.id, "subscribed", actor, f"resubscribed ({source})", at)
            return True

    def erase(self, email: str, *, actor: str) -> Erasure:
        """Delete everything about an address and suppress it (a keyed hash, see suppression.py).

        Works for addresses not on the list too: they are suppressed all the same.
        """
        normalised = addresses.normalise_email(email)
        with _write(self.engine) as conn:
            contact = self._by_email(conn, email, lock=True)
            counts = (0, 0)
            if contact is not None:
                erase_elsewhere(conn, contact)
                counts = (len(consents_of(conn, contact.id)), len(events_of(conn, contact.id)))
                conn.execute(contacts.delete().where(contacts.c.id == contact.id))
            newly = Suppressor(conn).add(normalised, actor=actor)
            if contact is not None:
                detail = f"contact #{contact.id}: personal data deleted, address suppressed"
                log(conn, None, "erased", actor, detail, now())
            erasure = Erasure(contact.id if contact else None, counts[0], counts[1], newly)
        flush_deleted(self.engine)
        return erasure

    def record_export(self, contact_ids: Iterable[int], *, actor: str, detail: str) -> None:
        """Log an `exported` event for each contact whose data left the database."""
        at = now()
        ids = iter(contact_ids)
        with _write(self.engine) as conn, small_page_cache(conn):  # 10,000 rows at a time
            while chunk := list(islice(ids, 10_000)):
                conn.execute(
                    events.insert(),
                    [{"contact_id": i, "at": at, "kind": "exported", "actor": actor,
                      "detail": detail} for i in chunk],
                )  # fmt: skip
