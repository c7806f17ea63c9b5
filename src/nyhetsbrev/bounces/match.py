"""Matching a failure to the delivery it answers: by Message-ID, else by address and issue.

The ledger stores each message's Message-ID (`deliveries.message_id`); nyhetsbrev's own
Message-IDs name the issue (`<nyhetsbrev.2024-q4.…@domain>`). A bounce whose returned headers
carry one of them is matched exactly. Otherwise the failed address is looked up among the
contacts, and the delivery is the contact's latest of the issue the bounce names (by a
Message-ID in its text or the original subject); without an issue, only a contact who received
exactly one campaign is matched. Anything else is unmatched, with the reason — never guessed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nyhetsbrev.contacts.addresses import normalise_email
from nyhetsbrev.contacts.schema.tables import contacts
from nyhetsbrev.contacts.suppression import Suppressor
from nyhetsbrev.delivery.schema import campaigns, deliveries
from nyhetsbrev.delivery.states import DeliveryStatus

CHUNK = 500
_ISSUE_IN_ID = re.compile(r"^<nyhetsbrev\.(\d{4}-q[1-4])\.[0-9a-f]+@", re.I)
RECEIVED = (DeliveryStatus.SENT, DeliveryStatus.UNCERTAIN, DeliveryStatus.SENDING)


@dataclass(frozen=True)
class Match:
    """The delivery a failure answers, its campaign and contact, and how it was found."""

    delivery_id: int
    campaign_id: int
    issue_id: str
    contact_id: int | None  # None: the contact was erased
    email: str | None
    contact_status: str | None
    message_id: str | None
    how: str  # "Message-ID", "address and issue", "address"


@dataclass(frozen=True)
class Miss:
    """Why a failure matched nothing, and whether that is because the address was erased."""

    reason: str
    erased: bool = False


def issue_of(message_ids: Iterable[str]) -> str | None:
    """The issue a nyhetsbrev Message-ID names, if any of these is one."""
    for value in message_ids:
        found = _ISSUE_IN_ID.match(value)
        if found:
            return found.group(1).lower()
    return None


_JOINED = deliveries.join(campaigns, campaigns.c.id == deliveries.c.campaign_id).outerjoin(
    contacts, contacts.c.id == deliveries.c.contact_id
)


class Matcher:
    """Looks deliveries up in batches, with a cache, on one connection."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self._by_id: dict[str, Match | None] = {}
        self._suppressor: Suppressor | None = None

    def preload(self, message_ids: Iterable[str]) -> None:
        """Look up these Message-IDs (in chunks), so `by_message_id` answers from the cache."""
        wanted = sorted({m for m in message_ids if m not in self._by_id})
        for start in range(0, len(wanted), CHUNK):
            chunk = wanted[start : start + CHUNK]
            for mid in chunk:
                self._by_id[mid] = None
            query = (
                sa.select(
                    deliveries.c.id,
                    deliveries.c.campaign_id,
                    deliveries.c.contact_id,
                    deliveries.c.message_id,
                    campaigns.c.issue_id,
                    contacts.c.email,
                    contacts.c.status,
                )
                .select_from(
                    deliveries.join(
                        campaigns, campaigns.c.id == deliveries.c.campaign_id
                    ).outerjoin(contacts, contacts.c.id == deliveries.c.contact_id)
                )
                .where(deliveries.c.message_id.in_(chunk))
            )
            for row in self.conn.execute(query):
                self._by_id[row.message_id] = Match(
                    row.id,
                    row.campaign_id,
                    row.issue_id,
                    row.contact_id,
                    row.email,
                    row.status,
                    row.message_id,
                    "Message-ID",
                )

    def by_message_id(self, message_ids: Sequence[str]) -> Match | None:
        self.preload(message_ids)
        for mid in message_ids:
            found = self._by_id.get(mid)
            if found is not None:
                return found
        return None

    def by_address(self, address: str, issue: str | None, subject: str | None) -> Match | Miss:
        """The fallback: the contact with this address, and their delivery of the issue."""
        normalised = normalise_email(address)
        contact = self.conn.execute(
            sa.select(contacts.c.id, contacts.c.email, contacts.c.status).where(
                contacts.c.email_normalised == normalised
            )
        ).first()
        if contact is None:
            if self._suppressor is None:
                self._suppressor = Suppressor(self.conn)
            if self._suppressor.find(normalised) is not None:
                return Miss("the address was erased: dropped, not stored", erased=True)
            return Miss("no delivery has its Message-ID and no contact has this address")
        query = (
            sa.select(
                deliveries.c.id,
                deliveries.c.campaign_id,
                deliveries.c.message_id,
                campaigns.c.issue_id,
                campaigns.c.subject,
            )
            .join(campaigns, campaigns.c.id == deliveries.c.campaign_id)
            .where(deliveries.c.contact_id == contact.id, deliveries.c.status.in_(RECEIVED))
            .order_by(deliveries.c.campaign_id.desc())
        )
        rows = self.conn.execute(query).all()
        if issue is None and subject:
            issue = next((r.issue_id for r in rows if r.subject.strip() == subject.strip()), None)
        if issue is not None:
            rows = [r for r in rows if r.issue_id == issue]
            how = "address and issue"
        else:
            how = "address"
            if len({r.campaign_id for r in rows}) > 1:
                return Miss(
                    f"contact #{contact.id} has this address, but the bounce names no issue and "
                    f"they received {len(rows)} campaigns: not guessed"
                )
        if not rows:
            where = f"issue {issue}" if issue else "any campaign"
            return Miss(
                f"contact #{contact.id} has this address but received no message of {where}"
            )
        row = rows[0]
        return Match(
            row.id,
            row.campaign_id,
            row.issue_id,
            contact.id,
            contact.email,
            contact.status,
            row.message_id,
            how,
        )
