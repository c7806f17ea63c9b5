"""The store's interface for other subsystems (delivery, web), on SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from nyhetsbrev.contacts import queries
from nyhetsbrev.contacts.erasure import register_erasure_hook, unregister_erasure_hook
from nyhetsbrev.contacts.model import Contact
from nyhetsbrev.contacts.store import ContactStore, open_store
from nyhetsbrev.errors import ContactsError


def add(store: ContactStore, email: str, **kw: object) -> Contact:
    return store.add(email, actor="test", **kw)  # type: ignore[arg-type]


def test_contact_is_a_frozen_dataclass_with_aware_timestamps(store: ContactStore) -> None:
    contact = add(store, "Kari@Example.NO", name="Kari", topics=["tilstandsrapport", "nyhetsbrev"])
    assert contact.email == "Kari@Example.NO"
    assert contact.topics == ("nyhetsbrev", "tilstandsrapport")
    assert contact.status == "subscribed"
    assert contact.created_at.tzinfo is UTC
    assert abs((datetime.now(UTC) - contact.created_at).total_seconds()) < 60
    with pytest.raises(dataclasses.FrozenInstanceError):
        contact.name = "x"  # type: ignore[misc]
    assert store.get(" kari@example.no ") == contact
    assert store.get_by_id(contact.id) == contact
    assert store.get("other@example.no") is None
    assert store.get_by_id(contact.id + 1000) is None


def test_audience_streams_in_id_order_with_filters(
    store: ContactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)  # several pages even for a few contacts
    a = add(store, "a@example.org")
    b = add(store, "b@example.org", topics=["rettsavgjorelser"], language="en")
    c = add(store, "c@example.org", topics=["nyhetsbrev", "rettsavgjorelser"], sector="Politi")
    d = add(store, "d@example.org", status="pending")
    e = add(store, "e@example.org", language="nn")
    store.unsubscribe(e.id, actor="test", source="link")
    f = add(store, "f@example.org", sector="politi", language="sv")

    def ids(**kw: object) -> list[int]:
        return [contact.id for contact in store.audience(**kw)]  # type: ignore[arg-type]

    assert ids() == [a.id, c.id, f.id]
    assert ids(topics=["rettsavgjorelser"]) == [b.id, c.id]
    assert ids(topics=None) == [a.id, b.id, c.id, f.id]
    assert ids(sectors=["politi"]) == [c.id, f.id]
    assert ids(languages=["en", "sv"], topics=None) == [b.id, f.id]
    assert ids(status="pending") == [d.id]
    assert ids(status=["subscribed", "unsubscribed"], languages=["nn"]) == [e.id]
    assert ids(status=None, topics=None) == [a.id, b.id, c.id, d.id, e.id, f.id]
    with pytest.raises(ContactsError, match=r'^unknown topic "podkast"'):
        store.audience(topics=["podkast"])


def test_writing_while_iterating_the_audience(store: ContactStore) -> None:
    """The sending ledger writes a row per recipient while it walks the audience."""
    for i in range(5):
        add(store, f"p{i}@example.org")
    ledger = sa.Table(
        "test_ledger", sa.MetaData(), sa.Column("contact_id", sa.Integer, primary_key=True)
    )
    ledger.create(store.engine)
    for contact in store.audience():
        with store.engine.begin() as conn:
            conn.execute(ledger.insert().values(contact_id=contact.id))
        store.record_export([contact.id], actor="delivery", detail="sent")
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(ledger)).scalar_one() == 5


def test_unsubscribe_and_bounce_are_idempotent(store: ContactStore) -> None:
    kari = add(store, "kari@example.org")
    assert store.mark_bounced(kari.id, actor="delivery", reason="550 5.1.1 unknown")
    assert not store.mark_bounced(kari.id, actor="delivery", reason="again")
    assert store.unsubscribe("KARI@example.org", actor="web", source="link", reason="one-click")
    assert not store.unsubscribe(kari.id, actor="web", source="link")
    assert not store.mark_bounced(kari.id, actor="delivery", reason="after unsubscribing")
    kinds = [(e.kind, e.actor, e.detail) for e in store.events(kari.id)]
    assert kinds == [
        ("subscribed", "test", "added (manual)"),
        ("bounced", "delivery", "550 5.1.1 unknown"),
        ("unsubscribed", "web", "link: one-click"),
    ]
    with pytest.raises(ContactsError, match=r'^unknown unsubscribe source "spam"'):
        store.unsubscribe(kari.id, actor="web", source="spam")
    with pytest.raises(ContactsError, match=r"^no contact #999999 \(it may have been erased\)$"):
        store.unsubscribe(999999, actor="web", source="link")


def test_double_opt_in_from_the_web_form(store: ContactStore) -> None:
    pending = store.subscribe_pending(
        "ny@example.org",
        name="Ny Leser",
        topics=["nyhetsbrev"],
        evidence="form 10:00 from 192.0.2.1",
    )
    assert pending.status == "pending"
    assert store.audience() is not None and list(store.audience()) == []
    again = store.subscribe_pending("ny@example.org", evidence="form 10:05")
    assert again.id == pending.id and again.status == "pending"
    assert store.confirm(pending.id)
    assert not store.confirm(pending.id)
    assert [c.id for c in store.audience()] == [pending.id]
    consents = store.consents(pending.id)
    assert [(c.source, c.evidence) for c in consents] == [
        ("web-form", "form 10:00 from 192.0.2.1"),
        ("web-form", "form 10:05"),
    ]
    assert consents[0].confirmed_at is None and consents[1].confirmed_at is not None
    assert [e.kind for e in store.events(pending.id)] == ["requested", "requested", "confirmed"]
    # a subscribed person who fills in the form again is left as they are
    assert store.subscribe_pending("NY@example.org").status == "subscribed"
    # an unsubscribed one becomes pending, and subscribed only by confirming
    store.unsubscribe(pending.id, actor="web", source="link")
    assert store.subscribe_pending("ny@example.org").status == "pending"
    assert store.confirm(pending.id)


def test_an_erased_person_may_sign_up_again_and_confirming_lifts_the_suppression(
    store: ContactStore,
) -> None:
    store.erase("gone@example.org", actor="test")
    with pytest.raises(ContactsError, match="was erased from the list on"):
        add(store, "gone@example.org")
    pending = store.subscribe_pending("gone@example.org", evidence="form")
    assert store.suppression("gone@example.org") is not None
    assert store.confirm(pending.id)
    assert store.suppression("gone@example.org") is None


def test_update_preferences(store: ContactStore) -> None:
    kari = add(store, "kari@example.org")
    updated = store.update_preferences(kari.id, ["Tilstandsrapport", "rettsavgjorelser"], "nn")
    assert (updated.topics, updated.language) == (("rettsavgjorelser", "tilstandsrapport"), "nn")
    assert store.events(kari.id)[-1].detail == "language, topics"
    with pytest.raises(ContactsError, match=r'^unknown language "de" — use one of nb, nn, en, sv$'):
        store.update_preferences(kari.id, [], "de")


def test_ids_are_never_reused_after_erasure(store: ContactStore) -> None:
    first = add(store, "first@example.org")
    second = add(store, "second@example.org")
    store.erase("second@example.org", actor="test")
    third = add(store, "third@example.org")
    assert third.id > second.id > first.id
    assert store.get_by_id(second.id) is None


def test_erasure_hooks_run_inside_the_erasure(store: ContactStore) -> None:
    seen: list[str] = []

    def hook(conn: sa.Connection, contact: Contact) -> None:
        seen.append(contact.email)
        conn.execute(sa.text("SELECT 1"))

    register_erasure_hook(hook)
    try:
        add(store, "hook@example.org")
        store.erase("hook@example.org", actor="test")
    finally:
        unregister_erasure_hook(hook)
    assert seen == ["hook@example.org"]


def test_topics_come_from_the_opener(db: str) -> None:
    with open_store(db, topics=["nyhetsbrev", "podkast"], privacy_notice_version="2025-1") as s:
        contact = s.add("p@example.org", actor="test", topics=["podkast"])
        assert contact.topics == ("podkast",)
        assert s.consents(contact.id)[0].privacy_notice_version == "2025-1"
        with pytest.raises(ContactsError, match=r"the topics are: nyhetsbrev, podkast$"):
            s.add("q@example.org", actor="test", topics=["tilstandsrapport"])
