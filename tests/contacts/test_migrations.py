"""Migrations: from an empty database, from the previous schema with data in it, and for others."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nyhetsbrev.contacts.database import create_engine
from nyhetsbrev.contacts.schema import migrations
from nyhetsbrev.contacts.schema.migrations import (
    applied_versions,
    migrate,
    register_migrations,
)
from nyhetsbrev.contacts.schema.tables import metadata
from nyhetsbrev.contacts.store import open_store
from nyhetsbrev.errors import ContactsError


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def registry(monkeypatch: pytest.MonkeyPatch) -> dict[str, tuple[migrations.Step, ...]]:
    """An empty registry of other subsystems' migrations, restored afterwards."""
    fresh: dict[str, tuple[migrations.Step, ...]] = {}
    monkeypatch.setattr(migrations, "_registry", fresh)
    return fresh


def test_an_empty_database_gets_the_current_schema(engine: Engine, registry: object) -> None:
    ran = migrate(engine)
    assert [(s.namespace, s.version, s.name) for s in ran] == [
        ("contacts", 1, "initial schema: contacts, consents, events, suppressions, settings"),
        ("contacts", 2, "topics in their own table, indexed for audience queries; index on status"),
        (
            "contacts",
            3,
            "erasure rules: other subsystems' tables that name a contact, and what erasing clears",
        ),
    ]
    assert migrate(engine) == []  # idempotent
    inspector = sa.inspect(engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name
    indexes = {i["name"] for i in inspector.get_indexes("contacts")}
    assert "ix_contacts_status" in indexes
    with engine.connect() as conn:
        assert applied_versions(conn) == {"contacts": 3}


def test_the_previous_schema_migrates_with_all_its_data(
    database_url: str, engine: Engine, registry: object
) -> None:
    migrate(engine, target={"contacts": 1})
    at = datetime(2024, 11, 1, 9, 30, tzinfo=UTC)
    with engine.begin() as conn:
        key = conn.execute(sa.text("SELECT value FROM settings WHERE key = 'suppression_key'"))
        assert len(key.scalar_one()) == 64
        v1 = sa.MetaData()
        v1.reflect(conn)
        contacts, consents, events = (v1.tables[n] for n in ("contacts", "consents", "events"))
        assert "topics" in contacts.c
        naive = at.replace(tzinfo=None) if conn.dialect.name == "sqlite" else at
        conn.execute(
            contacts.insert(),
            [
                {"id": 1, "email": "Kari@Example.no", "email_normalised": "kari@example.no",
                 "name": "Kari Nordmann", "organisation": "Kripos", "sector": "politi",
                 "language": "nb", "topics": "nyhetsbrev rettsavgjorelser", "status": "subscribed",
                 "notes": "fra seminaret", "created_at": naive, "updated_at": naive},
                {"id": 2, "email": "ola@example.no", "email_normalised": "ola@example.no",
                 "name": None, "organisation": None, "sector": None, "language": "nn",
                 "topics": "", "status": "unsubscribed", "notes": None,
                 "created_at": naive, "updated_at": naive},
            ],
        )  # fmt: skip
        conn.execute(
            consents.insert(),
            [{"contact_id": 1, "given_at": naive, "source": "email-request", "actor": "anne",
              "evidence": "<abc@mail>", "privacy_notice_version": "2024-1", "confirmed_at": None}],
        )  # fmt: skip
        conn.execute(
            events.insert(),
            [{"contact_id": 1, "at": naive, "kind": "subscribed", "actor": "anne", "detail": "x"},
             {"contact_id": 2, "at": naive, "kind": "unsubscribed", "actor": "anne", "detail": None}],
        )  # fmt: skip
    if engine.dialect.name == "postgresql":  # explicit ids: move the sequence past them
        with engine.begin() as conn:
            conn.execute(sa.text("SELECT setval('contacts_id_seq', 2)"))
    engine.dispose()

    with open_store(database_url) as store:
        with store.engine.connect() as conn:
            assert applied_versions(conn) == {"contacts": 3}
        kari = store.get("kari@example.no")
        assert kari is not None
        assert (kari.id, kari.email, kari.name, kari.organisation, kari.sector) == (
            1,
            "Kari@Example.no",
            "Kari Nordmann",
            "Kripos",
            "politi",
        )
        assert (kari.topics, kari.status, kari.notes, kari.created_at) == (
            ("nyhetsbrev", "rettsavgjorelser"),
            "subscribed",
            "fra seminaret",
            at,
        )
        ola = store.get("ola@example.no")
        assert ola is not None and (ola.topics, ola.status, ola.language) == (
            (),
            "unsubscribed",
            "nn",
        )
        [consent] = store.consents(1)
        assert (consent.source, consent.evidence, consent.given_at) == (
            "email-request",
            "<abc@mail>",
            at,
        )
        assert [e.kind for e in store.events(1)] == ["subscribed"]
        assert [c.id for c in store.audience(topics=["rettsavgjorelser"])] == [1]
        # the v1 suppression key still works after the migration
        store.erase("kari@example.no", actor="anne")
        with pytest.raises(ContactsError, match="is suppressed"):
            store.add("KARI@example.no", actor="anne")
        assert store.add("new@example.no", actor="anne").id == 3


def test_other_subsystems_add_their_own_steps(engine: Engine, registry: object) -> None:
    calls: list[str] = []

    def create_ledger(conn: Connection) -> None:
        """ledger: one row per recipient"""
        calls.append("ledger")
        conn.execute(
            sa.text("CREATE TABLE test_ledger (contact_id INTEGER REFERENCES contacts (id))")
        )

    def add_column(conn: Connection) -> None:
        calls.append("column")
        conn.execute(sa.text("ALTER TABLE test_ledger ADD COLUMN state VARCHAR(16)"))

    register_migrations("testledger", [create_ledger])
    ran = migrate(engine)
    assert [(s.namespace, s.version, s.name) for s in ran][-1] == (
        "testledger", 1, "ledger: one row per recipient"
    )  # fmt: skip
    register_migrations("testledger", [create_ledger, add_column])  # appending is allowed
    assert [(s.namespace, s.version, s.name) for s in migrate(engine)] == [
        ("testledger", 2, "add_column")
    ]
    assert migrate(engine) == []
    assert calls == ["ledger", "column"]
    with engine.connect() as conn:
        assert applied_versions(conn) == {"contacts": 3, "testledger": 2}
    with pytest.raises(ValueError, match="steps may only be appended"):
        register_migrations("testledger", [add_column])
    with pytest.raises(ValueError, match="invalid or reserved migration namespace: 'contacts'"):
        register_migrations("contacts", [create_ledger])


def test_a_failing_step_leaves_the_previous_version(engine: Engine, registry: object) -> None:
    def half_done(conn: Connection) -> None:
        conn.execute(sa.text("CREATE TABLE test_half (id INTEGER)"))
        raise RuntimeError("step failed")

    register_migrations("testhalf", [half_done])
    with pytest.raises(RuntimeError, match="step failed"):
        migrate(engine)
    assert not sa.inspect(engine).has_table("test_half")  # the DDL was rolled back, on SQLite too
    with engine.connect() as conn:
        assert applied_versions(conn) == {"contacts": 3}


def test_a_newer_database_is_refused(database_url: str, engine: Engine, registry: object) -> None:
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(
            migrations.schema_migrations.insert().values(
                namespace="contacts", version=4, name="future", applied_at=datetime.now(UTC)
            )
        )
    with pytest.raises(ContactsError) as caught:
        open_store(database_url)
    assert caught.value.message.endswith(
        'has "contacts" schema version 4, newer than this nyhetsbrev knows (3) — upgrade '
        "nyhetsbrev (pip install -U nyhetsbrev)"
    )
