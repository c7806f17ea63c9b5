"""The dry run: what a send would do (audience, subject, server, time), and `--write-eml`."""

from __future__ import annotations

import os
from pathlib import Path

import click

from nyhetsbrev.cli_support import human_size
from nyhetsbrev.contacts.model import current_actor
from nyhetsbrev.contacts.store import ContactStore
from nyhetsbrev.contacts.tokens import make_token, secret_key
from nyhetsbrev.delivery import send as steps
from nyhetsbrev.delivery.approval.gate import dry_run_line
from nyhetsbrev.delivery.campaign import Audience, Limits
from nyhetsbrev.delivery.ledger import Ledger
from nyhetsbrev.delivery.message import Recipient, format_address, write_eml
from nyhetsbrev.delivery.options import SendOptions
from nyhetsbrev.delivery.prepare import Prepared
from nyhetsbrev.delivery.reports import duration
from nyhetsbrev.delivery.smtpconfig import URL_ENV
from nyhetsbrev.delivery.states import DeliveryStatus
from nyhetsbrev.delivery.transport import SmtpSettings
from nyhetsbrev.errors import DeliveryError
from nyhetsbrev.workspace import Workspace


def print_dry_run(
    ws: Workspace,
    prepared: Prepared,
    ledger: Ledger,
    audience: Audience,
    limits: Limits,
    count: int,
    already: int,
    opts: SendOptions,
) -> None:
    issue_id = prepared.loaded.id
    template = prepared.template()
    size = len(template.render(Recipient("x@example.no", None, "https://x/u/x")).data)
    state = "built now" if prepared.rebuilt else "up to date"
    rows = [
        ("Build", f"{ws.relative(prepared.folder)}/ ({state})"),
        ("Subject", prepared.subject),
        ("From", format_address(prepared.sender.name, prepared.sender.email)),
    ]
    if prepared.sender.reply_to:
        rows.append(("Reply-To", prepared.sender.reply_to))
    left_out = (
        f"; {already} who already got {issue_id} are left out (--again includes them)"
        if already
        else ""
    )
    rows.append(("Audience", f"{count} recipient(s) ({audience.describe()}){left_out}"))
    pdf = f", PDF attached ({prepared.pdf.name})" if prepared.pdf else ""
    rows.append(("Message", f"{human_size(size)} (text and HTML{pdf})"))
    try:
        smtp = SmtpSettings.from_env()
        rows.append(("SMTP", f"{smtp.display} ({smtp.security})"))
        rows.append(("Login", smtp.login))
    except DeliveryError as exc:
        if os.environ.get(URL_ENV, "").strip():  # set, but something with it is wrong: say what
            rows.append(("SMTP", f"not usable: {exc.message}"))
        else:
            rows.append(("SMTP", f"not configured: set {URL_ENV} (see docs/operations.md)"))
    rows.append(("Time", estimate(count, limits)))
    approval = dry_run_line(ledger.engine, prepared, audience, current_actor(opts.actor))
    if approval:
        rows.append(("Approval", approval))
    for label, value in rows:
        click.echo(f"{label + ':':<10}{value}")
    unfinished = ledger.unfinished(issue_id)
    if unfinished is not None:
        counts = ledger.counts(unfinished.id)
        waiting = counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING]
        click.echo(
            f"Campaign {unfinished.id} for {issue_id} is {unfinished.status} "
            f"({counts[DeliveryStatus.SENT]} sent, {waiting} not yet): "
            f"continue it with: nyhetsbrev send {issue_id} --resume"
        )
    problems = steps.readiness(prepared, allow_warnings=True, real=True)
    if problems:
        click.echo("Before sending:\n  - " + "\n  - ".join(problems))
    flags = ["--confirm", *opts.audience_flags()]
    if prepared.warnings:
        flags.append("--allow-warnings")
    command = " ".join(["nyhetsbrev", "send", issue_id, *flags])
    if count == 0 and already:
        click.echo(
            f"Nothing was sent, and there is nobody left to send to: all {already} recipient(s) "
            f"already got {issue_id}. To send it to them once more: {command} --again"
        )
    elif count == 0:
        click.echo("Nothing was sent, and nobody matches this audience: check the filters.")
    else:
        click.echo(f"Nothing was sent. To send to {count} recipients, run: {command}")


def estimate(count: int, limits: Limits) -> str:
    if not limits.rate:
        return "no rate limit (--rate 0): as fast as the server takes them"
    minutes = count / limits.rate
    text = f"about {duration(minutes * 60)} at {limits.rate:g} messages a minute"
    if count > limits.daily_cap:
        days = -(-count // limits.daily_cap)
        text += (
            f"; more than the daily cap ({limits.daily_cap}): it pauses at the cap, resume "
            f"it on each of the next {days - 1} day(s)"
        )
    return text


def write_emls(
    ws: Workspace,
    prepared: Prepared,
    store: ContactStore,
    audience: Audience,
    ledger: Ledger,
    folder: Path,
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    key = secret_key(prepared.loaded.token_scope)
    template = prepared.template()
    written = 0
    for contact in store.audience(
        topics=list(audience.topics) or None,
        sectors=list(audience.sectors) or None,
        languages=list(audience.languages) or None,
    ):
        if not audience.again and ledger.already_received(prepared.loaded.id, [contact.id]):
            continue
        url = template.unsubscribe_url(make_token("unsubscribe", contact.id, key=key))
        preferences = template.preferences_url(make_token("preferences", contact.id, key=key))
        written += 1
        write_eml(
            folder,
            written,
            contact.email,
            template.render(Recipient(contact.email, contact.name, url, preferences)),
        )
    click.echo(f"Wrote {written} message(s) to {ws.relative(folder)}/ (nothing was sent).")
