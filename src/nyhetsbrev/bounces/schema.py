"""The `bounces` table: one row per bounce recorded for a delivery, and its migrations.

Importing this module registers the "bounces" migrations (after the ledger's, whose tables it
references), so `open_store()` creates the table. Personal data: a row names its contact only by
`contact_id` (ON DELETE CASCADE: erasing the contact deletes its bounces) and keeps the server's
words with the address blanked; the bounce message itself is known only by `key`, a hash.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

import nyhetsbrev.delivery.schema  # noqa: F401  (the ledger's tables come first)
from nyhetsbrev.contacts.database import UTCDateTime
from nyhetsbrev.contacts.schema.migrations import register_migrations

bounces_metadata = sa.MetaData()
bounces = sa.Table(
    "bounces",
    bounces_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("key", sa.String(64), nullable=False, unique=True),
    sa.Column("contact_id", sa.Integer, nullable=False),
    sa.Column("campaign_id", sa.Integer, nullable=False),
    sa.Column("delivery_id", sa.Integer),
    sa.Column("severity", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16)),
    sa.Column("diagnostic", sa.Text, nullable=False),
    sa.Column("bounced_at", UTCDateTime),
    sa.Column("recorded_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
)


def _bounces_v1(conn: Connection) -> None:
    """bounces: one row per bounce of a delivery; deliveries indexed by Message-ID"""
    md = sa.MetaData()
    sa.Table("contacts", md, sa.Column("id", sa.Integer, primary_key=True))
    sa.Table("campaigns", md, sa.Column("id", sa.Integer, primary_key=True))
    deliveries = sa.Table(
        "deliveries",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("message_id", sa.String(255)),
    )
    table = sa.Table(
        "bounces",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        # sha256 of (the bounce message's Message-ID or content, the delivery): imported twice,
        # counted once
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column(
            "contact_id",
            sa.Integer,
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "campaign_id",
            sa.Integer,
            sa.ForeignKey("campaigns.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("delivery_id", sa.Integer, sa.ForeignKey("deliveries.id", ondelete="SET NULL")),
        sa.Column("severity", sa.String(8), nullable=False),
        sa.Column("status", sa.String(16)),
        sa.Column("diagnostic", sa.Text, nullable=False),
        sa.Column("bounced_at", UTCDateTime),
        sa.Column("recorded_at", UTCDateTime, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.UniqueConstraint("key", name="uq_bounces_key"),
        sa.CheckConstraint("severity IN ('hard', 'soft')", name="ck_bounces_severity"),
    )
    table.create(conn)
    sa.Index("ix_bounces_contact", table.c.contact_id, table.c.campaign_id).create(conn)
    sa.Index("ix_deliveries_message_id", deliveries.c.message_id).create(conn)


#: The bounce table's schema history. Append only.
BOUNCES_STEPS = (_bounces_v1,)
register_migrations("bounces", BOUNCES_STEPS)
