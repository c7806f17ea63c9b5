"""Double opt-in for the web form: a pending sign-up, its confirmation, and preferences."""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa

from nyhetsbrev.contacts import addresses, model
from nyhetsbrev.contacts.core import (
    StoreBase,
    check_email,
    insert_contact,
    log,
    set_status,
    set_topics,
)
from nyhetsbrev.contacts.database import write_transaction as _write
from nyhetsbrev.contacts.model import Contact, ContactStatus, now
from nyhetsbrev.contacts.schema.tables import consents, contacts
from nyhetsbrev.contacts.suppression import Suppressor


class OptInMixin(StoreBase):
    """`subscribe_pending` → (email with a link) → `confirm`; `update_preferences`."""

    def subscribe_pending(
        self,
        email: str,
        *,
        name: str | None = None,
        organisation: str | None = None,
        language: str | None = None,
        topics: Sequence[str] | None = None,
        evidence: str | None = None,
        privacy_notice_version: str | None = None,
        actor: str = "web form",
    ) -> Contact:
        """A sign-up from the web form, awaiting confirmation (double opt-in).

        New, unsubscribed or bounced addresses become `pending` with a `web-form` consent record;
        a pending one gets a fresh record; a subscribed one is returned unchanged. An erased
        address may sign up again this way: its suppression ends when it confirms.
        """
        given, normalised = check_email(email)
        values = self._values(name, organisation, None, language, None)
        chosen = self.check_topics(topics if topics is not None else (model.DEFAULT_TOPIC,))
        with _write(self.engine) as conn:
            at = now()
            contact = self._by_email(conn, given, lock=True)
            if contact is not None and contact.status == ContactStatus.SUBSCRIBED:
                return contact
            if contact is None:
                contact_id = insert_contact(
                    conn, given, normalised, ContactStatus.PENDING, at, values
                )
            else:
                contact_id = contact.id
                update = {k: v for k, v in values.items() if v is not None and k != "sector"}
                conn.execute(
                    contacts.update()
                    .where(contacts.c.id == contact_id)
                    .values(status=ContactStatus.PENDING, updated_at=at, **update)
                )
            set_topics(conn, contact_id, chosen)
            self._consent(conn, contact_id, "web-form", actor, evidence, privacy_notice_version, at)
            log(conn, contact_id, "requested", actor, "web form: awaiting confirmation", at)
            return self._require(conn, contact_id)

    def confirm(
        self, contact_id: int, *, actor: str = "web form", evidence: str | None = None
    ) -> bool:
        """Confirm a pending sign-up: True if it became subscribed (False if not pending)."""
        with _write(self.engine) as conn:
            contact = self._require(conn, contact_id, lock=True)
            if contact.status != ContactStatus.PENDING:
                return False
            at = now()
            set_status(conn, contact.id, ContactStatus.SUBSCRIBED, at)
            latest = sa.select(sa.func.max(consents.c.id)).where(
                consents.c.contact_id == contact.id
            )
            conn.execute(
                consents.update()
                .where(consents.c.id == latest.scalar_subquery())
                .values(confirmed_at=at)
            )
            Suppressor(conn).lift([addresses.normalise_email(contact.email)])
            log(conn, contact.id, "confirmed", actor, evidence or "confirmed by the link sent", at)
            return True
