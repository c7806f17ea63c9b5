"""The ledger's tables (`campaigns`, `deliveries`), their rows as types, and their migrations.

Importing this module registers the "delivery" migrations with the contact list (so `open_store()`
creates the tables in any process that imported the ledger). Personal data: a delivery names its
contact only by `contact_id` (a foreign key with ON DELETE SET NULL) and SMTP replies are stored
with the recipient's address blanked, so erasing a contact leaves an anonymous row that still
counts in its campaign's totals. Migration 2 declares the table to the contact list's erasure
rules, so erasing — in any process, even one that never imports this module — also clears the
row's reply and Message-ID, in case a server quoted the address in another form.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nyhetsbrev.contacts.database import UTCDateTime, states_check
from nyhetsbrev.contacts.erasure import declare_personal_table
from nyhetsbrev.contacts.schema.migrations import register_migrations
from nyhetsbrev.delivery.states import CampaignStatus, DeliveryStatus

ledger_metadata = sa.MetaData()
campaigns = sa.Table(
    "campaigns",
    ledger_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("issue_id", sa.String(16), nullable=False),
    sa.Column("build_hash", sa.String(64), nullable=False),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("audience", sa.Text, nullable=False),
    sa.Column("attach_pdf", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("queued", sa.Boolean, nullable=False),
    sa.Column("owner", sa.Text),
    sa.Column("note", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("finished_at", UTCDateTime),
    sa.Column("approval_id", sa.Integer),
    sa.Column("sent_by", sa.Text),
    sa.Column("owner_since", UTCDateTime),  # since when `owner` sends it (migration 4)
    sa.Column("options", sa.Text),  # the send options as JSON, for the resume command
    sa.CheckConstraint(states_check("status", CampaignStatus), name="ck_campaigns_status"),
)
deliveries = sa.Table(
    "deliveries",
    ledger_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("campaign_id", sa.Integer, nullable=False),
    sa.Column("contact_id", sa.Integer),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("smtp_code", sa.Integer),
    sa.Column("last_reply", sa.Text),
    sa.Column("hard_bounce", sa.Boolean, nullable=False),
    sa.Column("message_id", sa.String(255)),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.Column("sent_at", UTCDateTime),
    sa.CheckConstraint(states_check("status", DeliveryStatus), name="ck_deliveries_status"),
)
contacts_view = sa.table(
    "contacts", sa.column("id"), sa.column("email"), sa.column("name"), sa.column("status")
)


# The migration steps below are frozen history: they spell out the tables (and the states) as they
# were when the step was released, so they intentionally duplicate the current tables above. Never
# edit them; a change to the schema is a new step (and a new state a new CHECK constraint).
_V1_CAMPAIGN_STATES = ("running", "paused", "finished", "cancelled")
_V1_DELIVERY_STATES = ("pending", "sending", "sent", "failed", "uncertain", "skipped")


def _delivery_v1(conn: Connection) -> None:
    """campaign ledger: campaigns and one delivery row per recipient"""
    md = sa.MetaData()
    sa.Table("contacts", md, sa.Column("id", sa.Integer, primary_key=True))
    campaign_states = ", ".join(f"'{s}'" for s in _V1_CAMPAIGN_STATES)
    table = sa.Table(
        "campaigns",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("issue_id", sa.String(16), nullable=False),
        sa.Column("build_hash", sa.String(64), nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("attach_pdf", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("queued", sa.Boolean, nullable=False),
        sa.Column("owner", sa.Text),
        sa.Column("note", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("finished_at", UTCDateTime),
        sa.CheckConstraint(f"status IN ({campaign_states})", name="ck_campaigns_status"),
        sqlite_autoincrement=True,  # campaign numbers are never reused
    )
    delivery_states = ", ".join(f"'{s}'" for s in _V1_DELIVERY_STATES)
    rows = sa.Table(
        "deliveries",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "campaign_id",
            sa.Integer,
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("contact_id", sa.Integer, sa.ForeignKey("contacts.id", ondelete="SET NULL")),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("smtp_code", sa.Integer),
        sa.Column("last_reply", sa.Text),
        sa.Column("hard_bounce", sa.Boolean, nullable=False),
        sa.Column("message_id", sa.String(255)),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.UniqueConstraint("campaign_id", "contact_id", name="uq_deliveries_contact"),
        sa.CheckConstraint(f"status IN ({delivery_states})", name="ck_deliveries_status"),
    )
    sa.Index("ix_campaigns_issue", table.c.issue_id, table.c.status)
    sa.Index("ix_deliveries_queue", rows.c.campaign_id, rows.c.status, rows.c.id)
    sa.Index("ix_deliveries_contact", rows.c.contact_id, rows.c.status)
    sa.Index("ix_deliveries_sent_at", rows.c.sent_at)
    table.create(conn)
    rows.create(conn)


def _delivery_v2(conn: Connection) -> None:
    """erasure rule: erasing a contact anonymises their deliveries (reply and Message-ID too)"""
    declare_personal_table(conn, "deliveries", "contact_id", clear=("last_reply", "message_id"))


def _delivery_v3(conn: Connection) -> None:
    """campaigns: who sent them and the approval they went out under"""
    conn.execute(sa.text("ALTER TABLE campaigns ADD COLUMN approval_id INTEGER"))
    conn.execute(sa.text("ALTER TABLE campaigns ADD COLUMN sent_by TEXT"))


def _delivery_one_open_campaign(conn: Connection) -> None:
    """at most one running or paused campaign per issue and audience; owner_since, options"""
    for name, kind in (("owner_since", sa.DateTime(timezone=True)), ("options", sa.Text())):
        column_type = kind.compile(dialect=conn.dialect)
        conn.execute(sa.text(f"ALTER TABLE campaigns ADD COLUMN {name} {column_type}"))
    # A database from before this step may hold two open campaigns of one issue and audience
    # (the race this step closes): the older ones are cancelled, their pending rows skipped.
    rows = conn.execute(
        sa.text(
            "SELECT id, issue_id, audience FROM campaigns "
            "WHERE status IN ('running', 'paused') ORDER BY id DESC"
        )
    ).all()
    kept: set[tuple[str, str]] = set()
    for campaign_id, issue_id, audience in rows:
        if (issue_id, audience) not in kept:
            kept.add((issue_id, audience))
            continue
        note = "cancelled by the upgrade: a newer campaign of the issue was open too"
        conn.execute(
            sa.text(
                "UPDATE deliveries SET status = 'skipped', last_reply = :note "
                "WHERE campaign_id = :id AND status = 'pending'"
            ),
            {"id": campaign_id, "note": note},
        )
        conn.execute(
            sa.text("UPDATE campaigns SET status = 'cancelled', note = :note WHERE id = :id"),
            {"id": campaign_id, "note": note},
        )
    conn.execute(
        sa.text(
            "CREATE UNIQUE INDEX uq_campaigns_open ON campaigns (issue_id, audience) "
            "WHERE status IN ('running', 'paused')"
        )
    )


#: The ledger's schema history. Append only.
DELIVERY_STEPS = (_delivery_v1, _delivery_v2, _delivery_v3, _delivery_one_open_campaign)
register_migrations("delivery", DELIVERY_STEPS)


@dataclass(frozen=True)
class Campaign:
    """One campaign row."""

    id: int
    issue_id: str
    build_hash: str
    subject: str
    audience: dict[str, Any]
    attach_pdf: bool
    status: CampaignStatus
    queued: bool
    owner: str | None
    note: str | None
    created_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    approval_id: int | None = None  # the approval (approval/) it was sent under, if any
    sent_by: str | None = None  # --actor / NYHETSBREV_ACTOR of `send --confirm`
    owner_since: datetime | None = None
    options: dict[str, Any] | None = None


@dataclass(frozen=True)
class Pending:
    """A delivery to make: its row, its contact (address and name as read with the batch) and
    how many tries it has had."""

    id: int
    contact_id: int
    attempts: int
    email: str = ""
    name: str | None = None


@dataclass(frozen=True)
class Claimed:
    """A delivery marked `sending`, with the contact's current address and name."""

    email: str
    name: str | None


@dataclass(frozen=True)
class Outcome:
    """What to record for a delivery after its SMTP transaction."""

    delivery_id: int
    status: DeliveryStatus
    code: int | None
    reply: str
    hard_bounce: bool = False
    at: datetime | None = None


def row_to_campaign(row: sa.Row[Any]) -> Campaign:
    data = row._asdict()
    data["audience"] = json.loads(data["audience"])
    data["status"] = CampaignStatus(data["status"])
    data["options"] = json.loads(data["options"]) if data.get("options") else None
    return Campaign(**data)
