"""What the contacts commands print: tables, one person's record, an import report, counts."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Iterable
from datetime import datetime

from rich.console import Console
from rich.table import Table

from nyhetsbrev.contacts.fields import printable
from nyhetsbrev.contacts.importing import ImportPlan
from nyhetsbrev.contacts.model import STATUSES, Consent, Contact, Event
from nyhetsbrev.contacts.queries import Stats

DETAIL_LIMIT = 20


def console() -> Console:
    """A rich console on the current stdout (so click's test runner captures it).

    Piped or redirected, lines are not wrapped at 80 columns: a table stays one row per contact.
    """
    width = None if sys.stdout.isatty() else 1000
    return Console(file=sys.stdout, highlight=False, soft_wrap=False, width=width, markup=False)


def when(value: datetime | None) -> str:
    """A timestamp in the reader's local time, to the minute."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M %Z") if value else "—"


def contact_table(contacts: Iterable[Contact]) -> int:
    """Print contacts as a table; returns how many."""
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for title in ("Email", "Name", "Organisation", "Sector", "Lang", "Topics", "Status"):
        table.add_column(title, overflow="fold")
    count = 0
    for c in contacts:
        topics = ", ".join(c.topics)
        table.add_row(
            *(
                printable(value)
                for value in (
                    c.email,
                    c.name or "",
                    c.organisation or "",
                    c.sector or "",
                    c.language,
                    topics,
                    c.status,
                )
            )
        )
        count += 1
    if count:
        out = console()
        with out.capture() as captured:
            out.print(table)
        sys.stdout.write("\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n")
    return count


def bounced_table(contacts: Iterable[Contact], why: dict[int, Event]) -> int:
    """Bounced contacts with when and why (their latest `bounced` event); returns how many."""
    table = Table(show_edge=False, pad_edge=False, box=None, header_style="bold")
    for title in ("Email", "Name", "Organisation", "Bounced", "Why"):
        table.add_column(title, overflow="fold")
    count = 0
    for c in contacts:
        event = why.get(c.id)
        table.add_row(
            c.email,
            c.name or "",
            c.organisation or "",
            when(event.at) if event else "—",
            (event.detail or "") if event else "",
        )
        count += 1
    if count:
        out = console()
        with out.capture() as captured:
            out.print(table)
        sys.stdout.write("\n".join(line.rstrip() for line in captured.get().splitlines()) + "\n")
    return count


def person(contact: Contact, consents: list[Consent], events: list[Event]) -> list[str]:
    """One contact, all data held: fields, consent records, event log."""
    status: str = contact.status
    if status == "bounced":
        last = next((e for e in reversed(events) if e.kind == "bounced"), None)
        if last is not None:
            status = f"bounced since {when(last.at)}: {last.detail or 'no reason recorded'}"
    fields = (
        ("name", contact.name),
        ("organisation", contact.organisation),
        ("sector", contact.sector),
        ("language", contact.language),
        ("topics", ", ".join(contact.topics)),
        ("status", status),
        ("notes", contact.notes),
        ("created", when(contact.created_at)),
        ("updated", when(contact.updated_at)),
    )
    lines = [f"{contact.email}  (contact #{contact.id})"]
    lines += [f"  {label:<14}{value or '—'}" for label, value in fields]
    lines += ["", "Consent records"]
    for c in consents:
        parts = [f"{c.source} by {c.actor}"]
        if c.evidence:
            parts.append(f"evidence: {c.evidence}")
        if c.privacy_notice_version:
            parts.append(f"privacy notice {c.privacy_notice_version}")
        if c.confirmed_at:
            parts.append(f"confirmed {when(c.confirmed_at)}")
        lines.append(f"  {when(c.given_at)}  " + "; ".join(parts))
    if not consents:
        lines.append("  none")
    lines += ["", "Events"]
    for e in events:
        detail = f"  {e.detail}" if e.detail else ""
        lines.append(f"  {when(e.at)}  {e.kind:<13}{e.actor}{detail}")
    return [printable(line) for line in lines]


def import_report(plan: ImportPlan, command: str, *, verbose: bool) -> list[str]:
    """The import's report: what it did (or would do), row by row where it matters."""
    table = plan.table
    mapped = sorted(table.columns.items(), key=lambda item: item[1])
    columns = ", ".join(f"{table.header[i]} → {f}" for f, i in mapped)
    if table.ignored:
        shown_ignored = ", ".join(table.ignored[:20])
        more = len(table.ignored) - 20
        columns += "; ignored: " + shown_ignored + (f" and {more} more" if more > 0 else "")
    verb = "" if plan.applied else "would "
    lines = [
        f"{table.shown}: {len(table.rows)} row{'' if len(table.rows) == 1 else 's'} "
        f"({table.describe()})",
        f"Columns: {columns}",
        "",
    ]
    counts = (
        (f"{verb}add", plan.added),
        (f"{verb}update", plan.updated),
        ("unchanged", plan.unchanged),
        ("skipped", plan.skipped),
        ("rejected", plan.rejected),
    )
    lines += [f"  {label:<14}{len(items):>7}" for label, items in counts]
    updates = [
        f"{table.shown}:{u.row.line}: {u.row.email} — "
        + ", ".join([*u.changes, *([f"topics +{'+'.join(u.new_topics)}"] if u.new_topics else [])])
        for u in plan.updated
    ]
    skipped = [f"{table.shown}:{o.line}: {o.email} — {o.reason}" for o in plan.skipped]
    rejected = [f"{table.shown}:{o.line}: {o.reason}" for o in plan.rejected]
    for title, items, limit in (
        ("Updated" if plan.applied else "Would update", updates, not verbose),
        ("Skipped", skipped, not verbose),
        ("Rejected", rejected, False),
    ):
        if not items:
            continue
        lines += ["", f"{title}:"]
        shown = items[:DETAIL_LIMIT] if limit else items
        lines += [f"  {item}" for item in shown]
        if len(items) > len(shown):
            lines.append(f"  … and {len(items) - len(shown)} more (--verbose lists all)")
    lines.append("")
    if plan.applied:
        lines.append(
            f"Imported: {len(plan.added)} added, {len(plan.updated)} updated, "
            f"{len(plan.skipped)} skipped, {len(plan.rejected)} rejected."
        )
    elif plan.changes:
        lines.append(f"Dry run: nothing was written. To import, run: {command} --apply")
    elif all_rejected(plan):
        lines.append(nothing_usable(plan))
    else:
        lines.append("Nothing to import: the list already has everything in this file.")
    width = max(80, shutil.get_terminal_size((100, 24)).columns)
    return [cap(printable(line), 3 * width) for line in lines]


def all_rejected(plan: ImportPlan) -> bool:
    """True when the file had rows and every one of them was rejected."""
    return bool(plan.rejected) and not (
        plan.added or plan.updated or plan.unchanged or plan.skipped
    )


def nothing_usable(plan: ImportPlan) -> str:
    count = len(plan.rejected)
    rows = "the row was" if count == 1 else f"all {count} rows were"
    return (
        f"Nothing imported: {rows} rejected (listed above) — wrong file, encoding or "
        "delimiter? Fix the rows, or try --encoding / --delimiter, and import again"
    )


def cap(line: str, limit: int) -> str:
    """A report line at most `limit` characters (a file with 10,000 columns lists them all)."""
    if len(line) <= limit:
        return line
    return line[: limit - 30] + f"… ({len(line) - limit + 30:,} more characters)"


def stats_lines(stats: Stats) -> list[str]:
    """Counts by status, then per topic, sector and language (subscribed, and all)."""
    lines = [f"{stats.total} contact{'' if stats.total == 1 else 's'}"]
    lines += [f"  {s:<24}{stats.by_status.get(s, 0):>8}" for s in STATUSES]
    lines.append(f"  {'erased (suppressed)':<24}{stats.suppressed:>8}")
    for title, groups in (
        ("Topic", stats.by_topic),
        ("Sector", stats.by_sector),
        ("Language", stats.by_language),
    ):
        lines += ["", f"{title:<26}{'subscribed':>10}{'all':>8}"]
        for key in sorted(groups, key=lambda k: (-groups[k].get("subscribed", 0), k)):
            counts = groups[key]
            label = key or "(none)"
            lines.append(f"  {label:<24}{counts.get('subscribed', 0):>10}{sum(counts.values()):>8}")
    return lines


def stats_json(stats: Stats) -> str:
    data = {
        "total": stats.total,
        "by_status": {s: stats.by_status.get(s, 0) for s in STATUSES},
        "suppressed": stats.suppressed,
        "by_topic": stats.by_topic,
        "by_sector": stats.by_sector,
        "by_language": stats.by_language,
    }
    return json.dumps(data, ensure_ascii=False, indent=2)
