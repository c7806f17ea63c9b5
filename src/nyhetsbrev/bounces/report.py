"""What `bounces import` and `bounces fetch` print, and the CSV report written with `--apply`."""

from __future__ import annotations

import csv
import os
from pathlib import Path

from nyhetsbrev.bounces.policy import CAMPAIGNS_IN_A_ROW, POLICY
from nyhetsbrev.bounces.record import MARKABLE, Item, Plan
from nyhetsbrev.contacts.exporting import neutralise

LISTED = 50  # rows shown per section before "… and N more" (all with --verbose)
CSV_COLUMNS = (
    "source",
    "bounce_date",
    "address",
    "status",
    "severity",
    "campaign",
    "issue",
    "matched_by",
    "message_id",
    "outcome",
    "diagnostic",
)
_KINDS = (
    ("bounce", "bounce", "bounces"),
    ("auto-reply", "auto-reply (not a bounce: ignored)", "auto-replies (not bounces: ignored)"),
    ("other", "other message", "other messages"),
    ("malformed", "malformed", "malformed"),
)


def outcome(plan: Plan, item: Item) -> str:
    """What becomes (or became) of one failed recipient."""
    would = "" if plan.applied else "would be "
    if item.erased:
        return "dropped: the address was erased (nothing stored)"
    if item.match is None:
        return f"unmatched: {item.miss.reason if item.miss else 'no delivery found'}"
    if item.duplicate:
        return "already recorded (counted once)"
    contact_id = item.match.contact_id
    change = next((c for c in plan.changes if c.contact_id == contact_id), None)
    if change is not None:
        return f"contact {would}marked bounced: {change.reason}"
    if item.match.contact_status not in MARKABLE:
        return f"{would}recorded; the contact is {item.match.contact_status}"
    count = plan.streaks.get(contact_id or 0, 0)
    return f"{would}recorded: {count} of {CAMPAIGNS_IN_A_ROW} campaigns in a row"


def shown_address(item: Item) -> str:
    if item.erased:
        return "(erased address)"
    if item.match is not None and item.match.email:
        return item.match.email
    return item.failure.recipient


def lines(plan: Plan, *, what: str, verbose: bool) -> list[str]:
    """The report: counts, each failed recipient with its match and outcome, the non-bounces."""
    counts = ", ".join(
        f"{plan.kinds[kind]} {one if plan.kinds[kind] == 1 else many}"
        for kind, one, many in _KINDS
        if plan.kinds[kind]
    )
    out = [f"Read {plan.messages} message{'' if plan.messages == 1 else 's'} from {what}"]
    out[0] += f": {counts}." if counts else "."
    if plan.items:
        out += ["", f"Failed recipients ({len(plan.items)}):"]
        limit = len(plan.items) if verbose else LISTED
        for item in plan.items[:limit]:
            status = item.failure.status or "—"
            where = (
                f"campaign {item.match.campaign_id} ({item.match.issue_id}) by {item.match.how}"
                if item.match is not None
                else ""
            )
            out.append(
                f"  {shown_address(item)}  {status}  {item.verdict.severity}  {where}".rstrip()
            )
            out.append(f"      {item.origin}: {outcome(plan, item)}")
        if len(plan.items) > limit:
            out.append(f"  … and {len(plan.items) - limit} more (--verbose lists them all)")
    others = [n for n in plan.notes if n[1] != "bounce"]
    if others:
        out += [
            "",
            f"Not bounces ({sum(plan.kinds[k] for k in ('auto-reply', 'other', 'malformed'))}):",
        ]
        limit = len(others) if verbose else LISTED
        out += [f"  {origin}: {kind} — {why}" for origin, kind, why in others[:limit]]
        if len(others) > limit:
            out.append(f"  … and {len(others) - limit} more (--verbose lists them all)")
    new = sum(1 for i in plan.items if i.recorded)
    verb = ("Recorded", "marked") if plan.applied else ("Would record", "mark")
    summary = (
        f"{verb[0]} {new} bounce{'' if new == 1 else 's'} and {verb[1]} {len(plan.changes)} "
        f"contact{'' if len(plan.changes) == 1 else 's'} bounced"
    )
    extra = []
    if plan.duplicates:
        extra.append(f"{plan.duplicates} already recorded")
    if plan.unmatched:
        extra.append(f"{len(plan.unmatched)} unmatched")
    erased = sum(1 for i in plan.items if i.erased)
    if erased:
        extra.append(f"{erased} for erased addresses dropped")
    out += ["", summary + (f" ({', '.join(extra)})." if extra else "."), POLICY]
    return out


def write_csv(plan: Plan, path: Path) -> int:
    """The bounce report (contacts/reports/, git-ignored: it names people); returns its rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    count = 0
    with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for item in plan.items:
            if item.erased:
                continue  # nothing about an erased address is written anywhere
            match = item.match
            date = item.parsed.date.isoformat(timespec="seconds") if item.parsed.date else ""
            writer.writerow(
                [
                    neutralise(item.origin),
                    date,
                    neutralise(shown_address(item)),
                    item.failure.status or "",
                    item.verdict.severity,
                    match.campaign_id if match else "",
                    match.issue_id if match else "",
                    match.how if match else "",
                    (match.message_id or "") if match else "",
                    neutralise(outcome(plan, item)),
                    neutralise(item.failure.diagnostic),
                ]
            )
            count += 1
    os.replace(temporary, path)
    return count
