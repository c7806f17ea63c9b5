"""The campaign ledger on SQLite and PostgreSQL: states, resume, bounces, erasure, flat batches."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from tests.delivery.conftest import ISSUE, Sink

from nyhetsbrev.contacts.store import open_store

REAL = ("send", ISSUE, "--confirm", "--allow-warnings", "--allow-placeholder-links", "--rate", "0")


@pytest.fixture
def db(database_url: str, send_ws: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NYHETSBREV_DATABASE_URL", database_url)
    return database_url


def test_campaign_states_resume_and_erasure(
    db: str, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    from nyhetsbrev.delivery.ledger import Ledger
    from nyhetsbrev.delivery.schema import deliveries

    ids = contacts(12)
    smtp_sink.fault("rcpt", "person5@example.no", "451 4.3.0 Try later", times=99)
    paused = cli(*REAL, "--max-errors", "1")
    assert paused.exit_code == 1
    assert "Error: paused: 1 errors in a row (the last: 451 4.3.0 Try later)" in paused.output
    with open_store(db) as store:
        ledger = Ledger(store.engine)
        [campaign] = ledger.campaigns()
        assert (campaign.status, campaign.owner, campaign.queued) == ("paused", None, True)
        assert ledger.counts(campaign.id) == {
            "pending": 8,
            "sending": 0,
            "sent": 4,
            "failed": 0,
            "uncertain": 0,
            "skipped": 0,
        }
        # a crash leaves a row `sending`: resume turns it into `uncertain` and does not resend it
        with store.engine.begin() as conn:
            conn.execute(
                deliveries.update()
                .where(deliveries.c.contact_id == ids[11])
                .values(status="sending")
            )
    smtp_sink.faults.clear()
    resumed = cli(
        "send", ISSUE, "--resume", "--rate=0", "--allow-warnings", "--allow-placeholder-links"
    )
    assert resumed.exit_code == 0, resumed.output
    assert (
        "1 delivery(ies) were interrupted mid-transaction and are now uncertain; 0 put back "
        "in the queue." in resumed.output
    )
    assert (
        "Uncertain (may or may not have arrived; sent again only with --resend-uncertain): "
        "1\n  person12@example.no — interrupted during the SMTP transaction: may have "
        "arrived\nCampaign 1 (2024-q4): 7 to send." in resumed.output
    )
    assert "person12@example.no" not in smtp_sink.per_recipient()
    assert sorted(smtp_sink.per_recipient().values()) == [1] * 11
    with open_store(db) as store:
        ledger = Ledger(store.engine)
        assert ledger.get(1).status == "finished"  # type: ignore[union-attr]
        assert store.get_by_id(ids[0]) is not None
        store.erase("person1@example.no", actor="test")
        with store.engine.connect() as conn:
            rows = conn.execute(sa.select(deliveries).order_by(deliveries.c.id)).all()
        assert len(rows) == 12  # the campaign's totals stay right
        assert (rows[0].contact_id, rows[0].last_reply, rows[0].message_id) == (None, None, None)
        assert rows[0].status == "sent"
        assert rows[1].contact_id == ids[1] and rows[1].message_id


def test_hard_bounces_in_three_campaigns_mark_the_contact_bounced(
    db: str, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    ids = contacts(2)
    reply = "550 5.1.1 <person2@example.no>: Recipient address rejected: User unknown"
    smtp_sink.fault("rcpt", "person2@example.no", reply, times=3)
    for number in (1, 2, 3):
        result = cli(*REAL)
        assert result.exit_code == 0, result.output
        assert f"Campaign {number} (2024-q4) finished" in result.output
    assert "Marked bounced (address refused in 3 campaigns): 1" in result.output
    with open_store(db) as store:
        assert store.get_by_id(ids[1]).status == "bounced"  # type: ignore[union-attr]
        [event] = [e for e in store.events(ids[1]) if e.kind == "bounced"]
        assert event.detail == (
            "address refused in 3 campaigns, the last: 550 5.1.1 <[address]>: Recipient address "
            "rejected: User unknown"
        )
    assert cli(*REAL).output.endswith(
        "Error: nothing to send: all 1 recipient(s) already received 2024-q4; add --again to "
        "send it to them once more\n"
    )


def test_claims_are_atomic_and_pending_streams_in_batches(
    db: str, contacts: Callable[..., list[int]]
) -> None:
    from nyhetsbrev.delivery.ledger import Ledger
    from nyhetsbrev.delivery.schema import Outcome

    ids = contacts(3)
    with open_store(db) as store:
        ledger = Ledger(store.engine)
        campaign = ledger.create(ISSUE, "h" * 64, "s", {"topics": ["nyhetsbrev"]}, False, "me:1")
        ledger.add_recipients(campaign.id, ids)
        items = list(ledger.pending(campaign.id))
        assert [i.contact_id for i in items] == ids
        first = ledger.claim(items[0], "<a@x>", campaign.id)
        assert first is not None and first.email == "person1@example.no"
        assert ledger.claim(items[0], "<b@x>", campaign.id) is None  # already sending
        sent = Outcome(items[0].id, "sent", 250, "250 ok")
        assert ledger.claim(items[1], "<c@x>", campaign.id, flush=sent, heartbeat=True)
        assert ledger.counts(campaign.id)["sent"] == 1
        assert ledger.claim(replace(items[2], contact_id=999_999), "<d@x>", campaign.id) is None
        assert ledger.counts(campaign.id)["skipped"] == 1
        assert ledger.already_received(ISSUE, ids) == {ids[0], ids[1]}  # sent or sending
        ledger.close()  # the send loop's connection


def test_erasing_from_the_contacts_command_also_clears_the_ledger(
    db: str, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink, send_ws: Path
) -> None:
    """`contacts erase` in a fresh process (which never imports the sending code itself)."""
    import os
    import subprocess
    import sys

    from nyhetsbrev.delivery.schema import deliveries

    contacts(2)
    assert cli(*REAL).exit_code == 0
    erased = subprocess.run(
        [sys.executable, "-m", "nyhetsbrev", "contacts", "erase", "person1@example.no", "--yes"],
        cwd=send_ws,
        env={**os.environ, "NYHETSBREV_DATABASE_URL": db},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert erased.returncode == 0, erased.stderr + erased.stdout
    with open_store(db) as store, store.engine.connect() as conn:
        rows = conn.execute(sa.select(deliveries).order_by(deliveries.c.id)).all()
    assert (rows[0].contact_id, rows[0].message_id) == (None, None)
    assert rows[1].contact_id is not None and rows[1].message_id


def test_a_dry_run_after_everyone_got_it_says_so(
    db: str, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(2)
    assert cli(*REAL).exit_code == 0
    dry = cli("send", ISSUE)
    assert dry.exit_code == 0
    assert dry.output.splitlines()[-1] == (
        f"Nothing was sent, and there is nobody left to send to: all 2 recipient(s) already got "
        f"{ISSUE}. To send it to them once more: nyhetsbrev send {ISSUE} --confirm "
        "--allow-warnings --again"
    )
    assert cli("send", ISSUE, "--topic", "tilstandsrapport").output.splitlines()[-1] == (
        "Nothing was sent, and nobody matches this audience: check the filters."
    )


def test_the_databases_check_constraints_allow_exactly_the_enums_states(db: str) -> None:
    """The states are spelt once (the StrEnums); the CHECK constraints the frozen migrations
    created, and those the current tables generate from the enums, must allow the same values."""
    import re

    from nyhetsbrev.contacts.model import ContactStatus
    from nyhetsbrev.contacts.schema.tables import contacts as contacts_table
    from nyhetsbrev.delivery.schema import campaigns, deliveries
    from nyhetsbrev.delivery.states import CampaignStatus, DeliveryStatus

    def allowed(sqltext: str) -> set[str]:
        return set(re.findall(r"'([a-z]+)'", sqltext))

    expected = {
        "contacts": ({s.value for s in ContactStatus}, contacts_table),
        "campaigns": ({s.value for s in CampaignStatus}, campaigns),
        "deliveries": ({s.value for s in DeliveryStatus}, deliveries),
    }
    with open_store(db) as store:
        inspector = sa.inspect(store.engine)
        for name, (states, table) in expected.items():
            [in_db] = [c for c in inspector.get_check_constraints(name) if "status" in c["name"]]
            assert allowed(in_db["sqltext"]) == states, name
            [generated] = [c for c in table.constraints if isinstance(c, sa.CheckConstraint)]
            assert allowed(str(generated.sqltext)) == states, name


def test_a_ledger_from_before_the_erasure_rules_gets_its_rule(database_url: str) -> None:
    """A database made by an older nyhetsbrev (contacts v2, delivery v1) is upgraded: the
    contact list gets its `erasure_rules` table, then the ledger declares `deliveries`."""
    import nyhetsbrev.delivery.schema  # noqa: F401 (registers the ledger's migrations)
    from nyhetsbrev.contacts.database import create_engine
    from nyhetsbrev.contacts.schema.migrations import migrate
    from nyhetsbrev.contacts.schema.tables import erasure_rules

    engine = create_engine(database_url)
    try:
        migrate(engine, target={"contacts": 2, "delivery": 1})
        assert not sa.inspect(engine).has_table("erasure_rules")
        ran = [(s.namespace, s.version) for s in migrate(engine)]  # 3: approval_id, 4: one open
        assert ran == [("contacts", 3), ("delivery", 2), ("delivery", 3), ("delivery", 4)]
        with engine.connect() as conn:
            rules = [tuple(r) for r in conn.execute(sa.select(erasure_rules)).all()]
        assert rules == [("deliveries", "contact_id", "last_reply message_id")]
    finally:
        engine.dispose()


def test_an_older_ledger_with_two_open_campaigns_is_upgraded(database_url: str) -> None:
    """Before migration 4 the race could leave two open campaigns of one issue and audience:
    the upgrade cancels the older (its pending rows skipped), then the unique index holds."""
    import nyhetsbrev.delivery.schema  # noqa: F401 (registers the ledger's migrations)
    from nyhetsbrev.contacts.database import create_engine
    from nyhetsbrev.contacts.schema.migrations import migrate
    from nyhetsbrev.contacts.store import open_store
    from nyhetsbrev.delivery.ledger import Ledger

    engine = create_engine(database_url)
    try:
        migrate(engine, target={"contacts": 3, "delivery": 3})
        with engine.begin() as conn:
            for number in (1, 2):
                conn.execute(
                    sa.text(
                        "INSERT INTO campaigns (issue_id, build_hash, subject, audience, "
                        "attach_pdf, status, queued, created_at, updated_at) VALUES ("
                        "'2024-q4', 'h', 's', '{}', false, 'running', true, :at, :at)"
                    ),
                    {"at": f"2024-12-01 10:0{number}:00"},
                )
            conn.execute(
                sa.text(
                    "INSERT INTO deliveries (campaign_id, contact_id, status, attempts, "
                    "hard_bounce, updated_at) SELECT min(id), NULL, 'pending', 0, false, :at "
                    "FROM campaigns"
                ),
                {"at": "2024-12-01 10:00:00"},
            )
        assert [(s.namespace, s.version) for s in migrate(engine)] == [("delivery", 4)]
    finally:
        engine.dispose()
    with open_store(database_url) as store:
        ledger = Ledger(store.engine)
        first, second = ledger.campaigns()
        assert (first.status, second.status) == ("cancelled", "running")
        assert ledger.counts(first.id)["skipped"] == 1
        assert ledger.create("2024-q4", "h", "s", {}, False, "x@y:1") is None
        assert ledger.create("2024-q4", "h", "s", {"again": True}, False, "x@y:1") is not None
