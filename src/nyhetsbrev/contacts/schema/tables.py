"""The current tables of the contact list (what the migrations in `migrations.py` produce)."""

from __future__ import annotations

import sqlalchemy as sa

from nyhetsbrev.contacts.database import UTCDateTime, states_check
from nyhetsbrev.contacts.model import ContactStatus

#: The contact list's tables. Other subsystems may add their own tables to this MetaData (e.g. the
#: sending ledger, with a foreign key to `contacts.id`) and create them through
#: `nyhetsbrev.contacts.schema.migrations.register_migrations`.
metadata = sa.MetaData()

STATUS_CHECK = states_check("status", ContactStatus)

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("email", sa.String(320), nullable=False),
    sa.Column("email_normalised", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.Text),
    sa.Column("organisation", sa.Text),
    sa.Column("sector", sa.Text),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("notes", sa.Text),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("updated_at", UTCDateTime, nullable=False),
    sa.CheckConstraint(STATUS_CHECK, name="ck_contacts_status"),
    # Ids are never reused, so a ledger row or a signed link can never point at someone else.
    sqlite_autoincrement=True,
)
sa.Index("ix_contacts_status", contacts.c.status, contacts.c.id)

contact_topics = sa.Table(
    "contact_topics",
    metadata,
    sa.Column(
        "contact_id",
        sa.Integer,
        sa.ForeignKey("contacts.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("topic", sa.String(64), primary_key=True),
)
sa.Index("ix_contact_topics_topic", contact_topics.c.topic, contact_topics.c.contact_id)

consents = sa.Table(
    "consents",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column(
        "contact_id",
        sa.Integer,
        sa.ForeignKey("contacts.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    sa.Column("given_at", UTCDateTime, nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("evidence", sa.Text),
    sa.Column("privacy_notice_version", sa.String(64)),
    sa.Column("confirmed_at", UTCDateTime),
)

events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # NULL only for `erased` entries: they outlive the contact they were about.
    sa.Column(
        "contact_id",
        sa.Integer,
        sa.ForeignKey("contacts.id", ondelete="CASCADE"),
        index=True,
    ),
    sa.Column("at", UTCDateTime, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("detail", sa.Text),
)

suppressions = sa.Table(
    "suppressions",
    metadata,
    sa.Column("address_hash", sa.String(64), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.String(32), nullable=False),
)

#: Tables of other subsystems that name a contact, and what erasing clears in them (written by
#: their migrations through `contacts.erasure.declare_personal_table`).
erasure_rules = sa.Table(
    "erasure_rules",
    metadata,
    sa.Column("table_name", sa.String(64), primary_key=True),
    sa.Column("contact_column", sa.String(64), nullable=False),
    sa.Column("clear_columns", sa.Text, nullable=False),  # space-separated column names
)
