"""Numbered schema migrations, recorded per namespace in the `schema_migrations` table.

Why not Alembic: the list needs a handful of steps, not a migration framework. Each step here is a
plain Python function taking a `Connection`; `migrate()` runs every step that the
`schema_migrations` table does not list yet, each in its own transaction together with the row
that records it, so a failed step leaves the database at the previous version. On SQLite the
transaction starts with `BEGIN IMMEDIATE` (DDL is transactional there once pysqlite's implicit
transactions are off, see `database.create_engine`); on PostgreSQL it takes a transaction-level
advisory lock, so two machines opening a shared list at once cannot both run a step. No extra
dependency, no generated files, and other subsystems add their tables the same way:

    from nyhetsbrev.contacts.schema.migrations import register_migrations

    def create_ledger(conn: Connection) -> None:
        "campaign ledger: one row per recipient"
        ledger.create(conn)

    register_migrations("delivery", [create_ledger])   # at import time; never reorder or remove

`open_store()` then migrates the "contacts" namespace first and every registered namespace after
it. Steps are append-only: once released, a step is never edited; a change is a new step.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nyhetsbrev.contacts.database import UTCDateTime, write_transaction
from nyhetsbrev.contacts.model import now
from nyhetsbrev.errors import ContactsError

Step = Callable[[Connection], None]
CONTACTS = "contacts"

_bookkeeping = sa.MetaData()
schema_migrations = sa.Table(
    "schema_migrations",
    _bookkeeping,
    sa.Column("namespace", sa.String(64), primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("applied_at", UTCDateTime, nullable=False),
)

_ADVISORY_LOCK_KEY = 0x6E79686574736272  # "nyhetsbr": one lock for all schema changes
_registry: dict[str, tuple[Step, ...]] = {}


@dataclass(frozen=True)
class AppliedStep:
    """A step `migrate()` ran: its namespace, version (1-based position) and name."""

    namespace: str
    version: int
    name: str


def step_name(step: Step) -> str:
    """A step's name: the first line of its docstring, else its function name."""
    doc = (step.__doc__ or "").strip()
    return doc.splitlines()[0] if doc else step.__name__


def register_migrations(namespace: str, steps: Sequence[Step]) -> None:
    """Add a subsystem's migration steps; version N is `steps[N-1]`.

    Call it when your module is imported, with the complete list so far. Registering the same
    namespace again is allowed only with the same steps, optionally followed by new ones.
    """
    if not re.fullmatch(r"[a-z][a-z0-9_.-]{0,63}", namespace) or namespace == CONTACTS:
        raise ValueError(f"invalid or reserved migration namespace: {namespace!r}")
    new = tuple(steps)
    old = _registry.get(namespace, ())
    if [_identity(s) for s in new[: len(old)]] != [_identity(s) for s in old]:
        raise ValueError(
            f"migrations for {namespace!r} differ from those registered before: "
            "steps may only be appended, never changed, removed or reordered"
        )
    _registry[namespace] = new


def registered_namespaces() -> dict[str, tuple[Step, ...]]:
    """Every namespace `migrate()` handles, in order: "contacts" first."""
    return {CONTACTS: CONTACT_STEPS, **_registry}


def _identity(step: Step) -> str:
    return f"{step.__module__}.{step.__qualname__}"


def applied_versions(conn: Connection) -> dict[str, int]:
    """The highest recorded version per namespace (empty for a new database)."""
    if not sa.inspect(conn).has_table("schema_migrations"):
        return {}
    column = schema_migrations.c
    rows = conn.execute(
        sa.select(column.namespace, sa.func.max(column.version)).group_by(column.namespace)
    )
    return {namespace: int(version) for namespace, version in rows}


def migrate(
    engine: Engine,
    namespaces: dict[str, tuple[Step, ...]] | None = None,
    *,
    target: dict[str, int] | None = None,
) -> list[AppliedStep]:
    """Bring the database up to date; returns the steps that ran (none if it was current).

    `target` stops a namespace at a given version (tests use it to build an old schema).
    """
    plan = registered_namespaces() if namespaces is None else namespaces
    with engine.connect() as conn:
        current = applied_versions(conn)
    ran: list[AppliedStep] = []
    for namespace, steps in plan.items():
        last = len(steps) if target is None else target.get(namespace, len(steps))
        if current.get(namespace, 0) > len(steps):
            raise ContactsError(
                f"the database {engine.url.render_as_string(hide_password=True)} has "
                f'"{namespace}" schema version {current[namespace]}, newer than this nyhetsbrev '
                f"knows ({len(steps)}) — upgrade nyhetsbrev (pip install -U nyhetsbrev)"
            )
        for version in range(current.get(namespace, 0) + 1, last + 1):
            step = steps[version - 1]
            with write_transaction(engine) as conn:
                if engine.dialect.name == "postgresql":
                    conn.execute(sa.select(sa.func.pg_advisory_xact_lock(_ADVISORY_LOCK_KEY)))
                _bookkeeping.create_all(conn, checkfirst=True)
                if applied_versions(conn).get(namespace, 0) >= version:
                    continue  # another process ran it while we waited for the lock
                step(conn)
                name = step_name(step)
                conn.execute(
                    schema_migrations.insert().values(
                        namespace=namespace, version=version, name=name, applied_at=now()
                    )
                )
            ran.append(AppliedStep(namespace, version, name))
    return ran


# --- the contact list's own steps --------------------------------------------------------------


# The steps below are frozen history: each spells out its tables (and the states allowed then) as
# they were when it was released, so they intentionally duplicate `tables.py` and the state enums.
# Never edit a released step; a change to the schema is a new step.


def _contacts_v1(conn: Connection) -> None:
    """initial schema: contacts, consents, events, suppressions, settings"""
    md = sa.MetaData()
    sa.Table(
        "settings",
        md,
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    sa.Table(
        "contacts",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("email_normalised", sa.String(320), nullable=False, unique=True),
        sa.Column("name", sa.Text),
        sa.Column("organisation", sa.Text),
        sa.Column("sector", sa.Text),
        sa.Column("language", sa.String(8), nullable=False),
        sa.Column("topics", sa.Text, nullable=False, server_default=""),  # space-separated
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("notes", sa.Text),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'subscribed', 'unsubscribed', 'bounced')",
            name="ck_contacts_status",
        ),
        sqlite_autoincrement=True,  # never reuse an erased contact's id
    )
    contact_fk = sa.ForeignKey("contacts.id", ondelete="CASCADE")
    sa.Table(
        "consents",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("contact_id", sa.Integer, contact_fk, nullable=False, index=True),
        sa.Column("given_at", UTCDateTime, nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("evidence", sa.Text),
        sa.Column("privacy_notice_version", sa.String(64)),
        sa.Column("confirmed_at", UTCDateTime),
    )
    sa.Table(
        "events",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
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
    sa.Table(
        "suppressions",
        md,
        sa.Column("address_hash", sa.String(64), primary_key=True),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
    )
    md.create_all(conn)
    # The per-database key for suppression hashes when NYHETSBREV_SECRET_KEY is not set.
    conn.execute(
        md.tables["settings"].insert().values(key="suppression_key", value=secrets.token_hex(32))
    )


def _contacts_v2(conn: Connection) -> None:
    """topics in their own table, indexed for audience queries; index on status"""
    md = sa.MetaData()
    sa.Table("contacts", md, sa.Column("id", sa.Integer, primary_key=True))
    topics = sa.Table(
        "contact_topics",
        md,
        sa.Column(
            "contact_id",
            sa.Integer,
            sa.ForeignKey("contacts.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("topic", sa.String(64), primary_key=True),
    )
    topics.create(conn)
    sa.Index("ix_contact_topics_topic", topics.c.topic, topics.c.contact_id).create(conn)
    rows = conn.execute(sa.text("SELECT id, topics FROM contacts ORDER BY id"))
    pairs = [
        {"contact_id": contact_id, "topic": topic}
        for contact_id, text in rows
        for topic in sorted(set((text or "").split()))
    ]
    for start in range(0, len(pairs), 10_000):
        conn.execute(topics.insert(), pairs[start : start + 10_000])
    conn.execute(sa.text("ALTER TABLE contacts DROP COLUMN topics"))
    conn.execute(sa.text("CREATE INDEX ix_contacts_status ON contacts (status, id)"))


def _contacts_v3(conn: Connection) -> None:
    """erasure rules: other subsystems' tables that name a contact, and what erasing clears"""
    md = sa.MetaData()
    sa.Table(
        "erasure_rules",
        md,
        sa.Column("table_name", sa.String(64), primary_key=True),
        sa.Column("contact_column", sa.String(64), nullable=False),
        sa.Column("clear_columns", sa.Text, nullable=False),
    )
    md.create_all(conn)


#: The contact list's schema history. Append only.
CONTACT_STEPS: tuple[Step, ...] = (_contacts_v1, _contacts_v2, _contacts_v3)
