"""From bounce messages to a plan (what was found, matched to what, what would change), and
applying it in one transaction: bounce rows, an event per bounce, contacts marked `bounced`.

The plan is computed the same way for the dry run and for `--apply`, so what the dry run says is
what `--apply` does. A bounce already recorded (same bounce message, same delivery) is counted
once however often it is imported. A bounce for an erased address is dropped without storing it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nyhetsbrev.bounces.match import Match, Matcher, Miss, issue_of
from nyhetsbrev.bounces.message import Failure, Parsed
from nyhetsbrev.bounces.parse import parse
from nyhetsbrev.bounces.policy import (
    CAMPAIGNS_IN_A_ROW,
    CampaignResult,
    Verdict,
    classify,
    streak,
)
from nyhetsbrev.bounces.schema import bounces
from nyhetsbrev.contacts.database import read_transaction, write_transaction
from nyhetsbrev.contacts.model import ContactStatus, now
from nyhetsbrev.contacts.schema.tables import contacts, events
from nyhetsbrev.delivery.schema import campaigns, deliveries
from nyhetsbrev.delivery.states import DeliveryStatus

MARKABLE = (ContactStatus.SUBSCRIBED, ContactStatus.PENDING)
NOTES_KEPT = 200  # non-bounces listed by name; beyond that, only counted


@dataclass
class Item:
    """One failed recipient in one bounce message, and what the plan makes of it."""

    origin: str  # where the message came from: a file, an mbox entry, an IMAP UID
    parsed: Parsed
    failure: Failure
    verdict: Verdict
    match: Match | None = None
    miss: Miss | None = None
    duplicate: bool = False
    key: str = ""

    @property
    def recorded(self) -> bool:
        """This item becomes a bounce row (matched to a contact, new)."""
        return self.match is not None and self.match.contact_id is not None and not self.duplicate

    @property
    def erased(self) -> bool:
        return (self.miss is not None and self.miss.erased) or (
            self.match is not None and self.match.contact_id is None
        )


@dataclass(frozen=True)
class Change:
    """A contact the plan marks `bounced`, and why."""

    contact_id: int
    email: str
    reason: str
    item: Item


@dataclass
class Plan:
    """Everything one import or fetch found, and what it does (or would do)."""

    messages: int = 0
    kinds: Counter[str] = field(default_factory=Counter)
    notes: list[tuple[str, str, str]] = field(default_factory=list)  # origin, kind, why
    items: list[Item] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    streaks: dict[int, int] = field(default_factory=dict)  # contact → campaigns in a row
    applied: bool = False
    processed: list[str] = field(default_factory=list)  # origins of every message read
    recognised: set[str] = field(default_factory=set)  # origins of bounces and auto-replies

    @property
    def duplicates(self) -> int:
        return sum(1 for i in self.items if i.duplicate)

    @property
    def unmatched(self) -> list[Item]:
        return [i for i in self.items if i.match is None and not i.erased]


def bounce_key(parsed: Parsed, delivery_id: int) -> str:
    return hashlib.sha256(f"{parsed.key}\n{delivery_id}".encode()).hexdigest()


def redact(text: str, *addresses: str | None) -> str:
    """The server's words without the recipient's address (the database keeps no addresses)."""
    for address in addresses:  # plain search: a pattern per address would evict re's cache
        if not address:
            continue
        lower, wanted = text.lower(), address.lower()
        at = lower.find(wanted)
        while at >= 0:
            text = text[:at] + "[address]" + text[at + len(address) :]
            lower = text.lower()
            at = lower.find(wanted, at + len("[address]"))
    return text


def build_plan(engine: Engine, messages: Iterable[tuple[str, bytes]]) -> Plan:
    """Read every message, match its failures, and work out what the policy does."""
    plan = Plan()
    with read_transaction(engine) as conn:
        matcher = Matcher(conn)
        pending: list[Item] = []
        for origin, data in messages:
            plan.messages += 1
            plan.processed.append(origin)
            parsed = parse(data)
            plan.kinds[parsed.kind] += 1
            if parsed.kind in ("bounce", "auto-reply"):
                plan.recognised.add(origin)
            if parsed.kind != "bounce":
                if len(plan.notes) < NOTES_KEPT:
                    plan.notes.append((origin, parsed.kind, parsed.why))
                continue
            for failure in parsed.failures:
                pending.append(Item(origin, parsed, failure, classify(failure)))
            if len(pending) >= 500:
                _match(matcher, pending)
                plan.items += pending
                pending = []
        _match(matcher, pending)
        plan.items += pending
        _deduplicate(conn, plan.items)
        _decide(conn, plan)
    return plan


def _match(matcher: Matcher, items: list[Item]) -> None:
    matcher.preload(mid for item in items for mid in item.parsed.returned_ids)
    for item in items:
        found = matcher.by_message_id(item.parsed.returned_ids)
        if found is None:
            issue = issue_of(item.parsed.returned_ids)
            address = item.failure.original or item.failure.recipient
            result = matcher.by_address(address, issue, item.parsed.returned_subject)
            if isinstance(result, Miss) and item.failure.original:
                result = matcher.by_address(item.failure.recipient, issue, None)
            if isinstance(result, Miss):
                item.miss = result
                continue
            found = result
        item.match = found
        item.key = bounce_key(item.parsed, found.delivery_id)


def _deduplicate(conn: Connection, items: list[Item]) -> None:
    """Mark items already recorded (earlier runs) or repeated within this run."""
    keys = [i.key for i in items if i.key]
    known: set[str] = set()
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        known.update(
            conn.execute(sa.select(bounces.c.key).where(bounces.c.key.in_(chunk))).scalars()
        )
    seen: set[str] = set()
    for item in items:
        if item.key and (item.key in known or item.key in seen):
            item.duplicate = True
        seen.add(item.key)


def _decide(conn: Connection, plan: Plan) -> None:
    """Which contacts the policy marks `bounced` once this plan's bounces are recorded."""
    new_by_contact: dict[int, list[Item]] = {}
    for item in plan.items:
        if item.recorded:
            assert item.match is not None and item.match.contact_id is not None
            new_by_contact.setdefault(item.match.contact_id, []).append(item)
    contact_ids = sorted(new_by_contact)
    for start in range(0, len(contact_ids), 500):
        chunk = contact_ids[start : start + 500]
        histories = _histories(conn, chunk)
        for contact_id in chunk:
            items = new_by_contact[contact_id]
            first = items[0]
            assert first.match is not None
            if first.match.contact_status not in MARKABLE:
                continue
            history = histories.get(contact_id, {})
            hard = next(
                (
                    i
                    for i in items
                    if i.verdict.severity == "hard" and i.match and i.match.campaign_id in history
                ),
                None,
            )  # a bounce from before they subscribed again does not count
            for item in items:
                assert item.match is not None
                if item.match.campaign_id in history:
                    delivered = history[item.match.campaign_id].delivered
                    history[item.match.campaign_id] = CampaignResult(
                        item.match.campaign_id, delivered, True
                    )
            count = streak(list(history.values()))
            plan.streaks[contact_id] = count
            email = first.match.email or ""
            if hard is not None:
                plan.changes.append(Change(contact_id, email, hard.verdict.reason, hard))
            elif count >= CAMPAIGNS_IN_A_ROW:
                last = max(items, key=lambda i: i.match.campaign_id if i.match else 0)
                reason = f"bounced in {count} campaigns in a row, the last: {last.verdict.reason}"
                plan.changes.append(Change(contact_id, email, reason, last))


def _histories(conn: Connection, contact_ids: list[int]) -> dict[int, dict[int, CampaignResult]]:
    """Per contact: each campaign since they last (re)subscribed, delivered? bounced?"""
    since = dict(
        conn.execute(
            sa.select(events.c.contact_id, sa.func.max(events.c.at))
            .where(events.c.contact_id.in_(contact_ids), events.c.kind == "subscribed")
            .group_by(events.c.contact_id)
        ).all()
    )
    bounced = {
        (row.contact_id, row.campaign_id)
        for row in conn.execute(
            sa.select(bounces.c.contact_id, bounces.c.campaign_id).where(
                bounces.c.contact_id.in_(contact_ids)
            )
        )
    }
    found: dict[int, dict[int, CampaignResult]] = {}
    query = (
        sa.select(
            deliveries.c.contact_id,
            deliveries.c.campaign_id,
            deliveries.c.status,
            deliveries.c.hard_bounce,
            campaigns.c.created_at,
        )
        .join(campaigns, campaigns.c.id == deliveries.c.campaign_id)
        .where(deliveries.c.contact_id.in_(contact_ids))
    )
    for row in conn.execute(query):
        start = since.get(row.contact_id)
        if isinstance(start, str):  # SQLite's max() loses the column type
            start = datetime.fromisoformat(start)
        if start is not None and _naive(row.created_at) < _naive(start):
            continue  # before they subscribed again: a fresh start
        result = CampaignResult(
            row.campaign_id,
            row.status == DeliveryStatus.SENT,
            bool(row.hard_bounce) or (row.contact_id, row.campaign_id) in bounced,
        )
        found.setdefault(row.contact_id, {})[row.campaign_id] = result
    return found


def _naive(moment: datetime) -> datetime:
    return moment.replace(tzinfo=None) if moment.tzinfo is not None else moment


def apply_plan(engine: Engine, plan: Plan, *, actor: str, source: str) -> None:
    """Record the plan's new bounces and mark its contacts, in one transaction."""
    at = now()
    with write_transaction(engine) as conn:
        rows, logged = [], []
        for item in plan.items:
            if not item.recorded:
                continue
            match = item.match
            assert match is not None and match.contact_id is not None
            failure = item.failure
            words = redact(failure.diagnostic, failure.recipient, failure.original, match.email)
            rows.append(
                {
                    "key": item.key,
                    "contact_id": match.contact_id,
                    "campaign_id": match.campaign_id,
                    "delivery_id": match.delivery_id,
                    "severity": item.verdict.severity,
                    "status": failure.status,
                    "diagnostic": words[:1000],
                    "bounced_at": item.parsed.date,
                    "recorded_at": at,
                    "source": source,
                }
            )
            logged.append(_event(match.contact_id, "bounce", actor, event_detail(item, words), at))
        ids = [c.contact_id for c in plan.changes]
        markable: set[int] = set()
        for start in range(0, len(ids), 500):  # the status now, in this transaction
            chunk = ids[start : start + 500]
            markable.update(
                conn.execute(
                    sa.select(contacts.c.id).where(
                        contacts.c.id.in_(chunk), contacts.c.status.in_(MARKABLE)
                    )
                ).scalars()
            )
        for change in plan.changes:
            if change.contact_id not in markable:
                continue
            failure = change.item.failure
            words = redact(failure.diagnostic, failure.recipient, failure.original, change.email)
            detail = f"{change.reason} — {event_detail(change.item, words)}"
            logged.append(_event(change.contact_id, "bounced", actor, detail[:1000], at))
        marked = sorted(markable)
        for start in range(0, len(marked), 500):
            conn.execute(
                contacts.update()
                .where(contacts.c.id.in_(marked[start : start + 500]))
                .values(status=ContactStatus.BOUNCED, updated_at=at)
            )
        for table, batch in ((bounces, rows), (events, logged)):
            for start in range(0, len(batch), 1000):
                conn.execute(table.insert(), batch[start : start + 1000])
    plan.applied = True


def _event(contact_id: int, kind: str, actor: str, detail: str, at: datetime) -> dict[str, object]:
    """An entry of the contact's event log (as `contacts.core.log` writes one)."""
    return {"contact_id": contact_id, "at": at, "kind": kind, "actor": actor, "detail": detail}


def event_detail(item: Item, words: str) -> str:
    """`bounce of 2025-01-06 09:14 (campaign 3, 2024-q4): 5.1.1 550 5.1.1 … User unknown`."""
    match = item.match
    when = item.parsed.date.strftime("%Y-%m-%d %H:%M %z") if item.parsed.date else "undated"
    where = f"campaign {match.campaign_id}, {match.issue_id}" if match else "unmatched"
    status = f"{item.failure.status} " if item.failure.status else ""
    return f"bounce of {when} ({where}): {status}{words}"[:1000]


def iter_items(plan: Plan, *, recorded: bool | None = None) -> Iterator[Item]:
    for item in plan.items:
        if recorded is None or item.recorded == recorded:
            yield item
