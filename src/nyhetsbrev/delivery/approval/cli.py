"""`nyhetsbrev approve` (four eyes on this exact build) and `nyhetsbrev approvals` (the record)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

import click

from nyhetsbrev.cli_support import AppContext, pass_app
from nyhetsbrev.contacts.model import LANGUAGES, current_actor
from nyhetsbrev.errors import NyhetsbrevError

if TYPE_CHECKING:  # the verbs import their stack when they run, not for `--help`
    from nyhetsbrev.delivery.approval.record import Approval
    from nyhetsbrev.delivery.campaign import Audience
    from nyhetsbrev.delivery.prepare import Prepared
    from nyhetsbrev.workspace import Workspace

F = TypeVar("F", bound=Callable[..., Any])


def audience_options(func: F) -> F:
    """`--topic --sector --lang --attach-pdf`: the same audience and attachment as `send`."""
    for option in reversed(
        (
            click.option(
                "--topic",
                "topics",
                multiple=True,
                metavar="TOPIC",
                help="The send goes to contacts with this topic (repeatable; default: nyhetsbrev).",
            ),
            click.option(
                "--sector",
                "sectors",
                multiple=True,
                metavar="SECTOR",
                help="The send goes only to this sector (repeatable).",
            ),
            click.option(
                "--lang",
                "languages",
                multiple=True,
                type=click.Choice(LANGUAGES),
                help="The send goes only to contacts with this language (repeatable).",
            ),
            click.option("--attach-pdf", is_flag=True, help="The send attaches the PDF edition."),
        )
    ):
        func = option(func)
    return func


@click.command()
@click.argument("issue_id", metavar="ID")
@click.option("--note", metavar="TEXT", help="What you checked, for the records.")
@click.option(
    "--actor",
    envvar="NYHETSBREV_ACTOR",
    metavar="NAME",
    help="Who approves, for the records. Default: your login name.",
)
@audience_options
@pass_app
def approve(
    app: AppContext,
    issue_id: str,
    note: str | None,
    actor: str | None,
    topics: tuple[str, ...],
    sectors: tuple[str, ...],
    languages: tuple[str, ...],
    attach_pdf: bool,
) -> None:
    """Approve this exact build of an issue for sending (four eyes: not by whoever sends it).

    \b
    Read the test send or the preview first. The approval covers the email, text and PDF (if
    attached), subject, sender and audience as built now; any change needs a new approval.
      nyhetsbrev approve 2025-q1 --note "read the test send"
    """
    from nyhetsbrev.delivery.approval.service import approve_build
    from nyhetsbrev.delivery.campaign import Audience

    ws = app.workspace
    audience = Audience(topics or ("nyhetsbrev",), sectors, languages)
    who = current_actor(actor)
    approved = approve_build(ws, issue_id, who, note, audience, attach_pdf=attach_pdf)
    approval, prepared, policy = approved.approval, approved.prepared, approved.policy
    if prepared.rebuilt:
        click.echo(
            f"Note: {issue_id} was rebuilt just now from its YAML; you approve that build, so "
            "make sure it is what you read."
        )
    _show_build(ws, prepared, audience)
    if prepared.warnings:
        count = sum(1 + len(f.others) for f in prepared.warnings)
        click.echo(f"Warnings: {count} editorial (`nyhetsbrev check {issue_id}` lists them)")
    click.echo(
        f"Approval {approval.id}: {who} approved {issue_id} (content hash "
        f"{approval.content_hash[:16]}…) at {approval.approved_at.astimezone():%Y-%m-%d %H:%M}."
    )
    if not policy.required:
        click.echo(f"({policy.where} does not require approval: it is recorded all the same.)")
        return
    click.echo(
        f"Someone other than {who} can now send it: nyhetsbrev send {issue_id} --confirm"
        + "".join(f" --topic {t}" for t in topics if topics != ("nyhetsbrev",))
        + "".join(f" --sector {s}" for s in sectors)
        + "".join(f" --lang {lang}" for lang in languages)
        + (" --attach-pdf" if attach_pdf else "")
        + ". Any change to the issue needs a new approval."
    )


def _show_build(ws: Workspace, prepared: Prepared, audience: Audience) -> None:
    rows = (
        ("Build", f"{ws.relative(prepared.folder)}/"),
        ("Subject", prepared.subject),
        ("From", f"{prepared.sender.name} <{prepared.sender.email}>"),
        ("Audience", audience.describe()),
        ("PDF", "attached" if prepared.pdf is not None else "not attached"),
    )
    for label, value in rows:
        click.echo(f"{label + ':':<10}{value}")


@click.command()
@click.argument("issue_id", metavar="ID")
@pass_app
def approvals(app: AppContext, issue_id: str) -> None:
    """List an issue's approvals and sends, and whether an approval covers the current build."""
    from nyhetsbrev.delivery.approval import record
    from nyhetsbrev.delivery.send import open_ledger
    from nyhetsbrev.delivery.states import DeliveryStatus

    ws = app.workspace
    with open_ledger(ws) as (store, ledger):
        found = record.of_issue(store.engine, issue_id)
        campaigns = ledger.campaigns(issue_id)
        current = _current_builds(ws, issue_id, found)
        counts = {c.id: ledger.counts(c.id) for c in campaigns}
    if not found and not campaigns:
        click.echo(
            f"{issue_id} has no approvals and no sends yet: `nyhetsbrev approve {issue_id}`."
        )
        return
    events: list[tuple[datetime, str]] = []
    for approval in found:
        events.append((approval.approved_at, _approval_line(approval, current)))
    for campaign in campaigns:
        c = counts[campaign.id]
        under = f"under approval {campaign.approval_id}" if campaign.approval_id else "no approval"
        events.append(
            (
                campaign.created_at,
                f"{campaign.created_at.astimezone():%Y-%m-%d %H:%M}  campaign {campaign.id}: "
                f"sent by {campaign.sent_by or '(not recorded)'}, {under}; {campaign.status}, "
                f"{c[DeliveryStatus.SENT]} sent, {c[DeliveryStatus.FAILED]} failed",
            )
        )
    for _, line in sorted(events, key=lambda event: event[0]):
        click.echo(line)


def _approval_line(approval: Approval, current: dict[bool, str | None]) -> str:
    from nyhetsbrev.delivery.campaign import Audience

    if not approval.valid:
        state = "DOES NOT VERIFY (the row was changed after it was recorded): it does not count"
    elif current.get(approval.attach_pdf) == approval.build_hash:
        state = "the current build"
    else:
        state = "an earlier build"
    audience = Audience.from_dict(dict(approval.audience)).describe()
    pdf = ", PDF attached" if approval.attach_pdf else ""
    note = f' — "{approval.note}"' if approval.note else ""
    return (
        f"{approval.approved_at.astimezone():%Y-%m-%d %H:%M}  approval {approval.id}: "
        f"{approval.actor} approved {approval.content_hash[:12]}… ({state}; {audience}{pdf})"
        f"{note}"
    )


def _current_builds(ws: Workspace, issue_id: str, found: list[Approval]) -> dict[bool, str | None]:
    """The current build hash without and (if an approval attached it) with the PDF."""
    from nyhetsbrev.delivery.prepare import prepare

    out: dict[bool, str | None] = {}
    for attach in sorted({a.attach_pdf for a in found}):
        try:
            out[attach] = prepare(ws, issue_id, attach_pdf=attach).build_hash
        except NyhetsbrevError:
            out[attach] = None  # the issue does not build now: no approval covers it
    return out
