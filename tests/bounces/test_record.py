"""Recording bounces on both databases (SQLite and PostgreSQL): the policy's history queries,
the bounce table and its uniqueness, status changes and events, and erasure's cascade."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from tests.bounces.conftest import dsn
from tests.delivery.conftest import Received

from nyhetsbrev.contacts.store import ContactStore, open_store


@pytest.fixture
def store(database_url: str) -> Iterator[ContactStore]:
    import nyhetsbrev.bounces.schema  # noqa: F401  (registers the bounce table's migrations)

    with open_store(database_url) as opened:
        yield opened


def send(store: ContactStore, emails: list[str], issue: str) -> dict[str, bytes]:
    """A campaign of `issue` whose messages were all accepted; a bounce for each, by address.
    (One issue per campaign: the ledger never sends an issue twice to one person.)"""
    from nyhetsbrev.delivery.ledger import Ledger
    from nyhetsbrev.delivery.schema import Outcome
    from nyhetsbrev.delivery.states import DeliveryStatus

    ledger = Ledger(store.engine)
    campaign = ledger.create(issue, "0" * 64, "Nyhetsbrev", {}, False, "test")
    assert campaign is not None
    found = [store.get(e) for e in emails]
    ids = {c.email: c.id for c in found if c is not None and c.status == "subscribed"}
    ledger.add_recipients(campaign.id, list(ids.values()))
    bounces = {}
    for item in ledger.pending(campaign.id):
        mid = f"<nyhetsbrev.{issue}.{campaign.id:04x}{item.id:028x}@politiet.no>"
        assert ledger.claim(item, mid, campaign.id) is not None
        ledger.record(Outcome(item.id, DeliveryStatus.SENT, 250, "250 ok"))
        head = f"To: {item.email}\r\nMessage-ID: {mid}\r\n\r\n".encode()
        bounces[item.email] = head
    ledger.close()
    return bounces


def test_record_and_count_on_both_databases(store: ContactStore) -> None:
    from nyhetsbrev.bounces.record import apply_plan, build_plan

    for name in ("hard", "soft"):
        store.add(f"{name}@example.no", actor="test")
    soft = ("4.2.2", "452 4.2.2 Mailbox full")
    for campaign in range(3):
        issue = ("2024-q4", "2025-q1", "2025-q2")[campaign]
        heads = send(store, ["hard@example.no", "soft@example.no"], issue)
        assert ("hard@example.no" in heads) == (campaign == 0)  # bounced at once: not sent again
        messages = [
            (
                f"soft-{campaign}",
                dsn(Received("", ["soft@example.no"], heads["soft@example.no"]), *soft),
            ),
        ]
        if campaign == 0:
            hard = Received("", ["hard@example.no"], heads["hard@example.no"])
            messages.append(("hard", dsn(hard, message_id="<hard@mx>")))
            messages.append(("hard again", dsn(hard, message_id="<hard@mx>")))
        plan = build_plan(store.engine, messages)
        apply_plan(store.engine, plan, actor="test", source="import")
        assert plan.duplicates == (1 if campaign == 0 else 0)
        expected = "bounced" if campaign == 2 else "subscribed"
        assert store.get("soft@example.no").status == expected  # type: ignore[union-attr]
    hard = store.get("hard@example.no")
    assert hard is not None and hard.status == "bounced"
    assert [e.kind for e in store.events(hard.id)] == ["subscribed", "bounce", "bounced"]
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM bounces")).scalar_one() == 4
    store.erase("hard@example.no", actor="test")
    with store.engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM bounces")).scalar_one() == 3
