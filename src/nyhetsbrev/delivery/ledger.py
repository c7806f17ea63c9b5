"""The campaign ledger: a `campaigns` row per send and a `deliveries` row per recipient.

Delivery states:

    pending → sending → sent | failed | uncertain | skipped      (and sending → pending when the
                                                                   server was never reached)

A delivery is `sending`, committed, before its SMTP transaction starts; `sent` is committed right
after the server's 250 (together with the next recipient's `sending`, to halve the commits). A row
still `sending` after a crash may or may not have been delivered: `--resume` makes it `uncertain`.

The tables and their migrations are in `schema.py` (imported here, so importing the ledger is
enough for `open_store()` to create them).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nyhetsbrev.contacts.database import read_transaction, write_transaction
from nyhetsbrev.contacts.model import ContactStatus, now
from nyhetsbrev.delivery.claims import CLAIM, CLAIM_AGAIN, ELSEWHERE, LOCK_CONTACT
from nyhetsbrev.delivery.schema import (
    Campaign,
    Claimed,
    Outcome,
    Pending,
    campaigns,
    deliveries,
    row_to_campaign,
)
from nyhetsbrev.delivery.schema import contacts_view as _contacts
from nyhetsbrev.delivery.states import (
    OPEN_CAMPAIGN,
    RECEIVED,
    CampaignStatus,
    DeliveryStatus,
)
from nyhetsbrev.errors import ContactsError

BATCH = 500


class Ledger:
    """Reads and writes the ledger through the contact store's engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._connection: Connection | None = None
        self._issues: dict[int, tuple[str, bool]] = {}

    # --- campaigns ------------------------------------------------------------------------------

    def create(
        self,
        issue_id: str,
        build_hash: str,
        subject: str,
        audience: dict[str, Any],
        attach_pdf: bool,
        owner: str,
        *,
        approval_id: int | None = None,
        sent_by: str | None = None,
        options: dict[str, Any] | None = None,
    ) -> Campaign | None:
        """A new running campaign; None if the issue already has an open (running or paused)
        campaign for this audience — the database's unique index decides, so of two processes
        creating one at the same instant exactly one succeeds."""
        at = now()
        try:
            with write_transaction(self.engine) as conn:
                key = conn.execute(
                    campaigns.insert().values(
                        issue_id=issue_id,
                        build_hash=build_hash,
                        subject=subject,
                        audience=json.dumps(audience, sort_keys=True),
                        attach_pdf=attach_pdf,
                        status=CampaignStatus.RUNNING,
                        queued=False,
                        owner=owner,
                        approval_id=approval_id,
                        sent_by=sent_by,
                        owner_since=at,
                        options=json.dumps(options, sort_keys=True) if options else None,
                        created_at=at,
                        updated_at=at,
                    )
                ).inserted_primary_key
        except sa.exc.IntegrityError:
            return None
        assert key is not None
        found = self.get(int(key[0]))
        assert found is not None
        return found

    def discard(self, campaign_id: int) -> None:
        """Forget a campaign that got no recipients (nothing was sent, nothing is lost)."""
        with write_transaction(self.engine) as conn:
            has_rows = sa.exists().where(deliveries.c.campaign_id == campaign_id)
            conn.execute(campaigns.delete().where(campaigns.c.id == campaign_id, ~has_rows))

    def get(self, campaign_id: int) -> Campaign | None:
        with read_transaction(self.engine) as conn:
            row = conn.execute(sa.select(campaigns).where(campaigns.c.id == campaign_id)).first()
        return row_to_campaign(row) if row is not None else None

    def campaigns(self, issue_id: str | None = None) -> list[Campaign]:
        query = sa.select(campaigns).order_by(campaigns.c.id)
        if issue_id is not None:
            query = query.where(campaigns.c.issue_id == issue_id)
        with read_transaction(self.engine) as conn:
            return [row_to_campaign(row) for row in conn.execute(query)]

    def unfinished(self, issue_id: str) -> Campaign | None:
        """The issue's campaign still running or paused (at most one), or None."""
        return self.latest(issue_id, OPEN_CAMPAIGN)

    def latest(self, issue_id: str, states: Sequence[CampaignStatus]) -> Campaign | None:
        """The issue's newest campaign in one of `states`, or None."""
        found = [c for c in self.campaigns(issue_id) if c.status in states]
        return found[-1] if found else None

    def set_status(
        self,
        campaign_id: int,
        status: CampaignStatus,
        note: str | None = None,
        *,
        owner: str | None = None,
        expect_owner: str | None = None,
    ) -> bool:
        """Change a campaign's state (and owner); False if `expect_owner` no longer holds it."""
        at = now()
        values: dict[str, Any] = {"status": status, "note": note, "owner": owner, "updated_at": at}
        if status == CampaignStatus.FINISHED:
            values["finished_at"] = at
        query = campaigns.update().where(campaigns.c.id == campaign_id)
        if expect_owner is not None:
            query = query.where(
                sa.or_(campaigns.c.owner.is_(None), campaigns.c.owner == expect_owner)
            )
        with write_transaction(self.engine) as conn:
            return conn.execute(query.values(**values)).rowcount == 1

    def cancel(self, campaign_id: int, note: str) -> int:
        """Cancel a campaign: its pending deliveries become `skipped`; returns how many."""
        at = now()
        with write_transaction(self.engine) as conn:
            left = _move(
                conn,
                campaign_id,
                [DeliveryStatus.PENDING],
                DeliveryStatus.SKIPPED,
                at,
                last_reply=f"campaign cancelled: {note}",
            )
            conn.execute(
                campaigns.update()
                .where(campaigns.c.id == campaign_id)
                .values(status=CampaignStatus.CANCELLED, note=note, owner=None, updated_at=at)
            )
        return int(left)

    def take_over(self, campaign_id: int, owner: str, previous: str | None) -> bool:
        """Become the campaign's sender, if `previous` (None: nobody) still is."""
        query = campaigns.update().where(campaigns.c.id == campaign_id)
        if previous is None:
            query = query.where(campaigns.c.owner.is_(None))
        else:
            query = query.where(campaigns.c.owner == previous)
        at = now()
        values = {"owner": owner, "status": CampaignStatus.RUNNING, "note": None, "updated_at": at}
        try:
            with write_transaction(self.engine) as conn:
                return conn.execute(query.values(**values, owner_since=at)).rowcount == 1
        except sa.exc.IntegrityError:  # another campaign of the issue and audience is open
            return False

    # --- recipients -----------------------------------------------------------------------------

    def last_queued(self, campaign_id: int) -> int:
        with read_transaction(self.engine) as conn:
            query = sa.select(sa.func.max(deliveries.c.contact_id))
            value = conn.execute(query.where(deliveries.c.campaign_id == campaign_id)).scalar()
        return int(value or 0)

    def already_received(self, issue_id: str, contact_ids: Sequence[int]) -> set[int]:
        """Which of these contacts got (or may have got) this issue in any campaign."""
        if not contact_ids:
            return set()
        query = (
            sa.select(deliveries.c.contact_id)
            .join(campaigns, campaigns.c.id == deliveries.c.campaign_id)
            .where(
                campaigns.c.issue_id == issue_id,
                deliveries.c.status.in_(RECEIVED),
                deliveries.c.contact_id.in_(list(contact_ids)),
            )
        )
        with read_transaction(self.engine) as conn:
            return {int(i) for i in conn.execute(query).scalars()}

    def add_recipients(self, campaign_id: int, contact_ids: Sequence[int]) -> None:
        at = now()
        rows = [
            {
                "campaign_id": campaign_id,
                "contact_id": i,
                "status": DeliveryStatus.PENDING,
                "attempts": 0,
                "hard_bounce": False,
                "updated_at": at,
            }
            for i in contact_ids
        ]
        if rows:
            with write_transaction(self.engine) as conn:
                conn.execute(deliveries.insert(), rows)

    def mark_queued(self, campaign_id: int) -> None:
        with write_transaction(self.engine) as conn:
            conn.execute(
                campaigns.update()
                .where(campaigns.c.id == campaign_id)
                .values(queued=True, updated_at=now())
            )

    def pending(self, campaign_id: int) -> Iterator[Pending]:
        """Stream the campaign's pending deliveries in order, a batch per short transaction."""
        last = 0
        while True:
            query = (
                sa.select(
                    deliveries.c.id,
                    deliveries.c.contact_id,
                    deliveries.c.attempts,
                    _contacts.c.email,
                    _contacts.c.name,
                )
                .select_from(
                    deliveries.outerjoin(_contacts, _contacts.c.id == deliveries.c.contact_id)
                )
                .where(
                    deliveries.c.campaign_id == campaign_id,
                    deliveries.c.status == DeliveryStatus.PENDING,
                    deliveries.c.id > last,
                )
                .order_by(deliveries.c.id)
                .limit(BATCH)
            )
            with read_transaction(self.engine) as conn:
                rows = conn.execute(query).all()
            for row in rows:
                if row.contact_id is None or row.email is None:  # erased while queued
                    self.record(Outcome(row.id, DeliveryStatus.SKIPPED, None, "contact erased"))
                    continue
                yield Pending(row.id, row.contact_id, row.attempts, row.email, row.name)
            if len(rows) < BATCH:
                return
            last = rows[-1].id

    def requeue(self, campaign_id: int, states: Sequence[DeliveryStatus]) -> int:
        """Turn deliveries in `states` (e.g. uncertain, failed) back into pending."""
        with write_transaction(self.engine) as conn:
            return _move(conn, campaign_id, states, DeliveryStatus.PENDING, now())

    def requeue_failed(self, campaign_id: int, *, permanent: bool) -> int:
        """Put failed deliveries back in the queue: those refused for now (4xx), and with
        `permanent` also those refused for good (5xx, or an address that cannot work)."""
        query = deliveries.update().where(
            deliveries.c.campaign_id == campaign_id, deliveries.c.status == "failed"
        )
        if not permanent:
            query = query.where(_TEMPORARY)
        with write_transaction(self.engine) as conn:
            return conn.execute(query.values(status="pending", updated_at=now())).rowcount

    def failed_kinds(self, campaign_id: int) -> tuple[int, int]:
        """How many of the campaign's failed deliveries were temporary (4xx) and permanent."""
        query = sa.select(
            sa.func.count().filter(_TEMPORARY), sa.func.count().filter(~_TEMPORARY)
        ).where(deliveries.c.campaign_id == campaign_id, deliveries.c.status == "failed")
        with read_transaction(self.engine) as conn:
            temporary, permanent = conn.execute(query).one()
        return int(temporary), int(permanent)

    def sending_to_uncertain(self, campaign_id: int) -> int:
        """After a crash: deliveries caught mid-transaction may or may not have arrived."""
        with write_transaction(self.engine) as conn:
            return _move(
                conn,
                campaign_id,
                [DeliveryStatus.SENDING],
                DeliveryStatus.UNCERTAIN,
                now(),
                last_reply="interrupted during the SMTP transaction: may have arrived",
            )

    # --- the hot path ---------------------------------------------------------------------------

    def claim(
        self,
        item: Pending,
        message_id: str,
        campaign_id: int,
        flush: Outcome | None = None,
        heartbeat: bool = False,
    ) -> Claimed | None:
        """In one transaction: record `flush`, re-check the contact, mark `item` sending.

        None when the contact left the list (the delivery becomes `skipped`) or another process
        claimed the row first.
        """
        at = now()
        with self._hot() as conn:
            if flush is not None:
                _record(conn, flush, at)
            issue_id, again = self._issue_of(conn, campaign_id)
            values = {
                "delivery": item.id,
                "contact": item.contact_id,
                "mid": message_id,
                "at": at,
                "issue": issue_id,
            }
            if conn.dialect.name == "postgresql":  # claims of one contact, one at a time
                conn.execute(LOCK_CONTACT, {"contact": item.contact_id})
            if conn.execute(CLAIM_AGAIN if again else CLAIM, values).rowcount == 1:
                if heartbeat:
                    conn.execute(
                        campaigns.update()
                        .where(campaigns.c.id == campaign_id)
                        .values(updated_at=at)
                    )
                return Claimed(item.email, item.name)
            contact = conn.execute(_CONTACT, {"contact": item.contact_id}).first()
            if contact is None or contact.status != ContactStatus.SUBSCRIBED:
                why = "contact erased" if contact is None else f"contact is now {contact.status}"
                _record(conn, Outcome(item.id, DeliveryStatus.SKIPPED, None, why), at)
                return None
            other = conn.execute(ELSEWHERE, values).first()
            if other is not None and (not again or other.status == DeliveryStatus.SENDING):
                why = f"{other.status} in campaign {other.campaign_id} of the same issue"
                _record(conn, Outcome(item.id, DeliveryStatus.SKIPPED, None, why), at)
            return None  # skipped, or another process claimed it first

    def _issue_of(self, conn: Connection, campaign_id: int) -> tuple[str, bool]:
        """The campaign's issue, and whether it resends to those who got it (`--again`)."""
        if campaign_id not in self._issues:
            row = conn.execute(
                sa.select(campaigns.c.issue_id, campaigns.c.audience).where(
                    campaigns.c.id == campaign_id
                )
            ).one()
            again = bool(json.loads(row.audience).get("again"))
            self._issues[campaign_id] = (row.issue_id, again)
        return self._issues[campaign_id]

    def record(self, outcome: Outcome) -> None:
        with self._hot() as conn:
            _record(conn, outcome, now())

    @contextmanager
    def _hot(self) -> Iterator[Connection]:
        """A write transaction on the connection the send loop keeps (no pool checkout)."""
        if self._connection is None:
            connection = self.engine.connect()
            if self.engine.dialect.name == "sqlite":
                connection = connection.execution_options(sqlite_immediate=True)
            self._connection = connection
        try:
            with self._connection.begin():
                yield self._connection
        except sa.exc.OperationalError as exc:
            self.close()
            if "database is locked" in str(exc.orig):
                raise ContactsError(
                    "the contact database is busy: another nyhetsbrev command is writing to it — "
                    "wait for it to finish and resume"
                ) from None
            raise
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Give back the send loop's connection."""
        connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    # --- reading --------------------------------------------------------------------------------

    def counts(self, campaign_id: int) -> dict[DeliveryStatus, int]:
        """How many deliveries of the campaign are in each state (every state, 0 included)."""
        query = (
            sa.select(deliveries.c.status, sa.func.count())
            .where(deliveries.c.campaign_id == campaign_id)
            .group_by(deliveries.c.status)
        )
        with read_transaction(self.engine) as conn:
            found = {status: int(count) for status, count in conn.execute(query)}
        return {state: found.get(state, 0) for state in DeliveryStatus}

    def sent_since(self, moment: datetime) -> tuple[int, datetime | None]:
        """Messages sent (every campaign) since `moment`, and the earliest of them."""
        query = sa.select(sa.func.count(), sa.func.min(deliveries.c.sent_at)).where(
            deliveries.c.status == DeliveryStatus.SENT, deliveries.c.sent_at >= moment
        )
        with read_transaction(self.engine) as conn:
            count, first = conn.execute(query).one()
        if isinstance(first, datetime) and first.tzinfo is None:  # SQLite's min() loses the type
            first = first.replace(tzinfo=moment.tzinfo)
        elif isinstance(first, str):
            first = datetime.fromisoformat(first).replace(tzinfo=moment.tzinfo)
        return int(count), first

    def hard_bounces(self, contact_id: int) -> int:
        """In how many campaigns the server refused this contact's address outright."""
        query = sa.select(sa.func.count(sa.distinct(deliveries.c.campaign_id))).where(
            deliveries.c.contact_id == contact_id, deliveries.c.hard_bounce.is_(True)
        )
        with read_transaction(self.engine) as conn:
            return int(conn.execute(query).scalar_one())

    def report_rows(
        self, campaign_id: int, states: Sequence[DeliveryStatus] | None = None
    ) -> Iterator[sa.Row[Any]]:
        """Every delivery (or those in `states`) with the contact's address, streamed by id."""
        last = 0
        while True:
            query = (
                sa.select(deliveries, _contacts.c.email)
                .select_from(
                    deliveries.outerjoin(_contacts, _contacts.c.id == deliveries.c.contact_id)
                )
                .where(deliveries.c.campaign_id == campaign_id, deliveries.c.id > last)
                .order_by(deliveries.c.id)
                .limit(BATCH * 4)
            )
            if states is not None:
                query = query.where(deliveries.c.status.in_(list(states)))
            with read_transaction(self.engine) as conn:
                rows = conn.execute(query).all()
            yield from rows
            if len(rows) < BATCH * 4:
                return
            last = rows[-1].id


# The hot path's statements, built once (SQLAlchemy caches their compiled form).
_CONTACT = sa.select(_contacts.c.email, _contacts.c.name, _contacts.c.status).where(
    _contacts.c.id == sa.bindparam("contact")
)
_CODE = sa.func.coalesce(deliveries.c.smtp_code, 0)  # no code: an address that cannot work
_TEMPORARY = sa.and_(_CODE >= 400, _CODE < 500)
_OUTCOME: dict[str, Any] = {
    "status": sa.bindparam("state"),
    "smtp_code": sa.bindparam("code"),
    "last_reply": sa.bindparam("reply"),
    "hard_bounce": sa.bindparam("hard"),
    "updated_at": sa.bindparam("at"),
}
_RECORD = deliveries.update().where(deliveries.c.id == sa.bindparam("delivery")).values(_OUTCOME)
_RECORD_SENT = (
    deliveries.update()
    .where(deliveries.c.id == sa.bindparam("delivery"))
    .values({**_OUTCOME, "sent_at": sa.bindparam("sent")})
)


def _record(conn: Connection, outcome: Outcome, at: datetime) -> None:
    values: dict[str, Any] = {
        "delivery": outcome.delivery_id,
        "state": outcome.status,
        "code": outcome.code,
        "reply": outcome.reply[:1000],
        "hard": outcome.hard_bounce,
        "at": at,
    }
    if outcome.status == DeliveryStatus.SENT:
        conn.execute(_RECORD_SENT, {**values, "sent": outcome.at or at})
    else:
        conn.execute(_RECORD, values)


def _move(
    conn: Connection,
    campaign_id: int,
    old: Sequence[DeliveryStatus],
    new: DeliveryStatus,
    at: datetime,
    **values: str,
) -> int:
    """Move the campaign's deliveries in the `old` states to `new`; returns how many."""
    query = (
        deliveries.update()
        .where(deliveries.c.campaign_id == campaign_id, deliveries.c.status.in_(old))
        .values(status=new, updated_at=at, **values)
    )
    return int(conn.execute(query).rowcount)
