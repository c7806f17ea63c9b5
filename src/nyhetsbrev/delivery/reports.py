"""Reports: the per-recipient CSV, the lists printed after a send, and `nyhetsbrev campaigns`."""

from __future__ import annotations

import csv
import os
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

import click

from nyhetsbrev.cli_support import AppContext, pass_app
from nyhetsbrev.contacts.model import now
from nyhetsbrev.delivery.states import CampaignStatus, DeliveryStatus
from nyhetsbrev.errors import DeliveryError

if TYPE_CHECKING:  # the database loads when a verb runs: `campaigns --help` needs none of it
    from nyhetsbrev.delivery.ledger import Ledger
    from nyhetsbrev.delivery.schema import Campaign

REPORT_COLUMNS = ("address", "outcome", "time", "smtp_reply", "attempts", "message_id")
LISTED = 20  # failed / uncertain addresses shown before "and N more (see the report)"


def write_report(ledger: Ledger, campaign: Campaign, path: Path) -> int:
    """The per-recipient CSV (address, outcome, time, SMTP reply…); returns the row count."""
    from nyhetsbrev.contacts.exporting import neutralise

    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(REPORT_COLUMNS)
        for row in ledger.report_rows(campaign.id):
            moment = row.sent_at or row.updated_at
            writer.writerow(
                [
                    neutralise(row.email or "(erased)"),
                    row.status,
                    moment.isoformat(timespec="seconds") if moment else "",
                    neutralise(row.last_reply or ""),
                    row.attempts,
                    row.message_id or "",
                ]
            )
            count += 1
    os.replace(temporary, path)
    return count


def list_rows(ledger: Ledger, campaign_id: int, state: DeliveryStatus, total: int) -> None:
    for row in islice(ledger.report_rows(campaign_id, [state]), LISTED):
        reply = f" — {row.last_reply}" if row.last_reply else ""
        click.echo(f"  {row.email or '(erased)'}{reply}")
    if total > LISTED:
        click.echo(f"  … and {total - LISTED} more (see the report)")


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s" if seconds else f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def campaign_table(ledger: Ledger, root: str | None = None) -> list[str]:
    """One line per campaign (oldest first) under a header; empty without campaigns. After
    them, how to continue each campaign whose sender is gone."""
    from nyhetsbrev.delivery.campaign import owner_who  # heavy
    from nyhetsbrev.delivery.operator import resume_command

    found = ledger.campaigns()
    if not found:
        return []
    lines = [
        f"{'#':>4}  {'issue':<8} {'status':<10} {'started':<17} "
        f"{'sent':>6} {'failed':>6} {'uncert.':>7} {'skipped':>7} {'to send':>7}"
    ]
    gone = []
    for campaign in found:
        c = ledger.counts(campaign.id)
        status = shown_status(campaign)
        if status == "interrupted" and campaign.owner:
            gone.append(
                f"Campaign {campaign.id} was interrupted: its sender "
                f"({owner_who(campaign.owner)}) is gone. Continue it with: "
                f"{resume_command(campaign.issue_id, campaign, root)}"
            )
        lines.append(
            f"{campaign.id:>4}  {campaign.issue_id:<8} {status:<10} "
            f"{campaign.created_at.astimezone():%Y-%m-%d %H:%M}  {c[DeliveryStatus.SENT]:>6} "
            f"{c[DeliveryStatus.FAILED]:>6} {c[DeliveryStatus.UNCERTAIN]:>7} "
            f"{c[DeliveryStatus.SKIPPED]:>7} "
            f"{c[DeliveryStatus.PENDING] + c[DeliveryStatus.SENDING]:>7}"
        )
    return lines + gone


def shown_status(campaign: Campaign) -> str:
    """The campaign's state as a person needs it: `running` whose sender is gone is
    `interrupted` (a crash, a closed terminal, a machine that went away)."""
    from nyhetsbrev.delivery.campaign import owner_alive  # heavy

    owner = campaign.owner
    if campaign.status != CampaignStatus.RUNNING or not owner:
        return campaign.status
    if not owner_alive(owner, campaign.updated_at, now()):
        return "interrupted"
    return campaign.status


@click.group(invoke_without_command=True)
@click.pass_context
def campaigns(ctx: click.Context) -> None:
    """List the campaigns (sends of an issue); `campaigns show N` for one."""
    if ctx.invoked_subcommand is not None:
        return
    from nyhetsbrev.delivery import send as steps  # heavy

    app = ctx.find_object(AppContext) or AppContext()
    with steps.open_ledger(app.workspace) as (_, ledger):
        lines = campaign_table(ledger, app.root)
    click.echo(
        "\n".join(lines) or "No campaigns yet: `nyhetsbrev send ID` shows what a send would do."
    )


@campaigns.command()
@click.argument("number", type=int, metavar="N")
@click.option(
    "--csv",
    "csv_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="FILE",
    help="Write the per-recipient report (address, outcome, time, SMTP reply) to FILE.",
)
@pass_app
def show(app: AppContext, number: int, csv_path: Path | None) -> None:
    """Show campaign N: its issue, audience, state and outcomes."""
    from nyhetsbrev.delivery import send as steps  # heavy
    from nyhetsbrev.delivery.approval.record import describe
    from nyhetsbrev.delivery.campaign import Audience

    ws = app.workspace
    with steps.open_ledger(ws) as (store, ledger):
        campaign = ledger.get(number)
        if campaign is None:
            known = ", ".join(str(c.id) for c in ledger.campaigns()) or "none yet"
            raise DeliveryError(f"there is no campaign {number} (campaigns: {known})")
        c = ledger.counts(number)
        audience = Audience.from_dict(campaign.audience)
        finished = (
            f"{campaign.finished_at.astimezone():%Y-%m-%d %H:%M}" if campaign.finished_at else "–"
        )
        rows = [
            ("Issue", campaign.issue_id),
            ("Subject", campaign.subject),
            ("Status", shown_status(campaign) + (f" ({campaign.note})" if campaign.note else "")),
            ("Audience", audience.describe() + (", again" if audience.again else "")),
            ("PDF", "attached" if campaign.attach_pdf else "not attached"),
            ("Build", campaign.build_hash[:16]),
            ("Sent by", campaign.sent_by or "(not recorded)"),
            ("Approved", describe(store.engine, campaign.approval_id)),
            ("Started", f"{campaign.created_at.astimezone():%Y-%m-%d %H:%M}"),
            ("Finished", finished),
            ("Outcomes", ", ".join(f"{count} {state}" for state, count in c.items())),
        ]
        for label, value in rows:
            click.echo(f"{label + ':':<10}{value}")
        for state in (DeliveryStatus.FAILED, DeliveryStatus.UNCERTAIN):
            if c[state]:
                click.echo(f"{state.capitalize()}:")
                list_rows(ledger, number, state, c[state])
        if csv_path is not None:
            written = write_report(ledger, campaign, csv_path)
            click.echo(f"Wrote {written} row(s) to {ws.relative(csv_path)}")
