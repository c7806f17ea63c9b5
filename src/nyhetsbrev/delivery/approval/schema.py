"""The `approvals` table and its migrations, registered with the contact store's migration list.

Importing this module registers the "approval" migrations, so `open_store()` creates the table.
An approval names no contact: only who approved (an editor's name), when, the note, the hash of
what was approved and the text edition it was made from (to say later which sections changed).
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nyhetsbrev.contacts.database import UTCDateTime
from nyhetsbrev.contacts.schema.migrations import register_migrations

approval_metadata = sa.MetaData()
approvals = sa.Table(
    "approvals",
    approval_metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("issue_id", sa.String(16), nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("build_hash", sa.String(64), nullable=False),
    sa.Column("audience", sa.Text, nullable=False),
    sa.Column("attach_pdf", sa.Boolean, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("note", sa.Text),
    sa.Column("approved_at", UTCDateTime, nullable=False),
    sa.Column("text_edition", sa.Text, nullable=False),
    sa.Column("mac", sa.String(64), nullable=False),
)


def _approval_v1(conn: Connection) -> None:
    """approvals: who approved which exact build of an issue, authenticated with an HMAC"""
    # A frozen copy of the table as version 1 made it, on purpose: a migration must keep
    # creating what it created, whatever `approvals` above becomes (an intended duplicate).
    md = sa.MetaData()
    table = sa.Table(
        "approvals",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("issue_id", sa.String(16), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("build_hash", sa.String(64), nullable=False),
        sa.Column("audience", sa.Text, nullable=False),
        sa.Column("attach_pdf", sa.Boolean, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("note", sa.Text),
        sa.Column("approved_at", UTCDateTime, nullable=False),
        sa.Column("text_edition", sa.Text, nullable=False),
        sa.Column("mac", sa.String(64), nullable=False),
        sqlite_autoincrement=True,  # approval numbers are never reused
    )
    sa.Index("ix_approvals_issue", table.c.issue_id, table.c.id)
    table.create(conn)


#: The approvals' schema history. Append only.
APPROVAL_STEPS = (_approval_v1,)
register_migrations("approval", APPROVAL_STEPS)
