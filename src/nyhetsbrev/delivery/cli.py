"""`nyhetsbrev send` (dry run, --test, --confirm, --resume) and `nyhetsbrev campaigns`."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from nyhetsbrev.cli_support import AppContext, pass_app
from nyhetsbrev.contacts.model import LANGUAGES, current_actor
from nyhetsbrev.delivery.options import (
    DEFAULT_DAILY_CAP,
    DEFAULT_MAX_ERRORS,
    DEFAULT_RATE,
    DEFAULT_RETRY_DELAY,
    SendOptions,
)
from nyhetsbrev.delivery.states import CampaignStatus, DeliveryStatus
from nyhetsbrev.errors import DeliveryError
from nyhetsbrev.workspace import Workspace

# The database, SMTP and template stacks load in the functions that use them (the "heavy"
# imports below), so `nyhetsbrev send --help` imports none of them.
if TYPE_CHECKING:
    from nyhetsbrev.contacts.store import ContactStore
    from nyhetsbrev.delivery import send as steps
    from nyhetsbrev.delivery.campaign import Sender, Summary
    from nyhetsbrev.delivery.ledger import Ledger
    from nyhetsbrev.delivery.prepare import Prepared
    from nyhetsbrev.delivery.schema import Campaign


@click.command()
@click.argument("issue_id", metavar="ID")
@click.option("--confirm", is_flag=True, help="Send for real. Without it: a dry run.")
@click.option(
    "--test",
    "tests",
    multiple=True,
    metavar="ADDRESS",
    help='Send one message, subject prefixed "[TEST]", to ADDRESS (repeatable).',
)
@click.option("--resume", is_flag=True, help="Continue the issue's paused or crashed campaign.")
@click.option(
    "--resend-uncertain",
    is_flag=True,
    help="With --resume: send again to deliveries that may or may not have arrived.",
)
@click.option(
    "--retry-failed",
    is_flag=True,
    help="With --resume: try the deliveries the server refused once more.",
)
@click.option(
    "--retry-permanent",
    is_flag=True,
    help="With --retry-failed: also the permanent refusals (5xx), not only the temporary (4xx).",
)
@click.option(
    "--new-campaign",
    is_flag=True,
    help="With --confirm: cancel the issue's unfinished campaign and start a new one.",
)
@click.option(
    "--again",
    is_flag=True,
    help="Include contacts who already received this issue in an earlier campaign.",
)
@click.option("--attach-pdf", is_flag=True, help="Attach the PDF edition.")
@click.option(
    "--actor",
    envvar="NYHETSBREV_ACTOR",
    metavar="NAME",
    help="Who sends, for the records (and the four-eyes rule). Default: your login name.",
)
@click.option(
    "--topic",
    "topics",
    multiple=True,
    metavar="TOPIC",
    help="Contacts with this topic (repeatable; default: nyhetsbrev).",
)
@click.option(
    "--sector",
    "sectors",
    multiple=True,
    metavar="SECTOR",
    help="Only contacts in this sector (repeatable).",
)
@click.option(
    "--lang",
    "languages",
    multiple=True,
    type=click.Choice(LANGUAGES),
    help="Only contacts with this language (repeatable).",
)
@click.option(
    "--allow-warnings",
    is_flag=True,
    help="Send although `nyhetsbrev check` lists editorial warnings.",
)
@click.option(
    "--allow-placeholder-links",
    is_flag=True,
    help='Send for real although links still go to a placeholder ("#", example.org).',
)
@click.option(
    "--write-eml",
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Dry run: write every recipient's message to DIR as .eml files.",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=0),
    metavar="N",
    default=DEFAULT_RATE,
    show_default=True,
    help="Messages a minute (Microsoft 365 allows 30); 0: no limit.",
)
@click.option(
    "--daily-cap",
    type=click.IntRange(min=1),
    metavar="N",
    default=DEFAULT_DAILY_CAP,
    show_default=True,
    help="Messages in 24 hours, all campaigns together; the send pauses there.",
)
@click.option(
    "--max-errors",
    type=click.IntRange(min=1),
    metavar="N",
    default=DEFAULT_MAX_ERRORS,
    show_default=True,
    help="Pause after this many failed deliveries in a row.",
)
@click.option(
    "--retry-delay",
    type=click.FloatRange(min=0),
    default=DEFAULT_RETRY_DELAY,
    show_default=True,
    metavar="SECONDS",
    help="First wait before retrying a 4xx (doubles each time).",
)
@pass_app
def send(
    app: AppContext,
    issue_id: str,
    confirm: bool,
    tests: tuple[str, ...],
    resume: bool,
    resend_uncertain: bool,
    retry_failed: bool,
    retry_permanent: bool,
    new_campaign: bool,
    again: bool,
    attach_pdf: bool,
    actor: str | None,
    topics: tuple[str, ...],
    sectors: tuple[str, ...],
    languages: tuple[str, ...],
    allow_warnings: bool,
    allow_placeholder_links: bool,
    write_eml: Path | None,
    rate: float,
    daily_cap: int,
    max_errors: int,
    retry_delay: float,
) -> None:
    """Send an issue to the contact list. Without --confirm or --test: a dry run.

    \b
    nyhetsbrev send 2025-q1                       what would happen; nothing is sent
    nyhetsbrev send 2025-q1 --test me@example.no  one test message
    nyhetsbrev send 2025-q1 --confirm             send, with progress and a report
    nyhetsbrev send 2025-q1 --resume              continue after a crash, Ctrl-C or pause
    """
    opts = SendOptions(
        issue_id, confirm, tests, resume, resend_uncertain, retry_failed, retry_permanent,
        new_campaign, again, attach_pdf, topics, sectors, languages, allow_warnings, write_eml,
        rate, daily_cap, max_errors, retry_delay, actor,
        allow_placeholder_links,
    )  # fmt: skip
    opts.check_usage()
    from nyhetsbrev.delivery.operator import DEFAULTS  # heavy: the campaign's table

    context = click.get_current_context()
    given = {
        name
        for name in DEFAULTS
        if context.get_parameter_source(name) not in (ParameterSource.DEFAULT, None)
    }
    run_send(app, opts, given)


def run_send(app: AppContext, opts: SendOptions, given: set[str] | None = None) -> None:
    """A dry run, a test send, or a real (new or resumed) campaign, as `opts` say. A resume
    takes the options the campaign began with, except those `given` on the command line."""
    from nyhetsbrev.delivery import send as steps  # heavy
    from nyhetsbrev.delivery.approval.gate import approval_for_send
    from nyhetsbrev.delivery.campaign import count_audience
    from nyhetsbrev.delivery.dryrun import print_dry_run, write_emls
    from nyhetsbrev.delivery.operator import DEFAULTS, stored_options
    from nyhetsbrev.delivery.prepare import prepare
    from nyhetsbrev.delivery.reports import write_report

    ws, issue_id = app.workspace, opts.issue_id
    with steps.open_ledger(ws) as (store, ledger):
        attach = opts.attach_pdf
        if opts.resume:
            again = opts.resend_uncertain or opts.retry_failed
            found = steps.resumable(ledger, issue_id, finished_too=again)
            attach = bool(found and found.attach_pdf)
            if found is not None and found.options:
                kept = {k: v for k, v in found.options.items() if k not in (given or set())}
                opts = replace(opts, **{k: v for k, v in kept.items() if k in DEFAULTS})
        audience, limits = opts.audience(), opts.limits()
        prepared = prepare(ws, issue_id, attach_pdf=attach)
        _show_warnings(prepared)
        if opts.dry_run:
            counted = count_audience(store, ledger, issue_id, audience)
            print_dry_run(
                ws, prepared, ledger, audience, limits, counted.recipients, counted.already, opts
            )
            if opts.write_eml:
                write_emls(ws, prepared, store, audience, ledger, opts.write_eml)
            return
        problems = steps.readiness(
            prepared,
            allow_warnings=opts.allow_warnings,
            real=opts.real,
            allow_placeholder_links=opts.allow_placeholder_links,
        )
        if problems:
            what = "send for real" if opts.real else "send a test"
            raise DeliveryError(f"cannot {what} yet:\n  - " + "\n  - ".join(problems))
        if opts.tests:
            _test_send(prepared, store, list(opts.tests))
            return
        if opts.resume:
            started = steps.resume(
                prepared,
                store,
                ledger,
                limits,
                resend_uncertain=opts.resend_uncertain,
                retry_failed=opts.retry_failed,
                retry_permanent=opts.retry_permanent,
            )
        else:
            sent_by = current_actor(opts.actor)
            approval = approval_for_send(store.engine, prepared, audience, sent_by)
            started = steps.start(
                prepared,
                store,
                ledger,
                audience,
                limits,
                new_campaign=opts.new_campaign,
                approval_id=approval.id if approval else None,
                sent_by=sent_by,
                options=stored_options(vars(opts)),
            )
        _announce(ledger, started)
        try:
            summary = _run_with_progress(started.sender, started.pending)
        except DeliveryError as exc:  # the server became unusable: nothing is lost
            path = steps.report_path(ws, started.campaign)
            write_report(ledger, started.campaign, path)
            raise DeliveryError(
                f"{exc.message}\nCampaign {started.campaign.id} is paused (report: "
                f"{ws.relative(path)}). To continue, run: "
                f"{_resume_command(app, opts, prepared, started.campaign)}"
            ) from None
        _finish(app, ws, ledger, summary, opts, prepared)


def _show_warnings(prepared: Prepared) -> None:
    from nyhetsbrev.issue.findings import print_findings

    print_findings(prepared.warnings)


def _test_send(prepared: Prepared, store: ContactStore, addresses: list[str]) -> None:
    from nyhetsbrev.delivery import send as steps  # heavy

    sent = 0
    for address, result in steps.test_send(prepared, store, addresses):
        click.echo(f"{address}: {result.outcome} — {result.reply}")
        sent += result.outcome == "sent"  # the SMTP outcome (transport.Outcome)
    click.echo(
        f'Sent {sent} test message(s) of {len(addresses)}, subject "[TEST] '
        f'{prepared.subject}". Nothing was sent to the list.'
    )
    if sent < len(addresses):
        raise DeliveryError(f"{len(addresses) - sent} test message(s) were not accepted (above)")


def _announce(ledger: Ledger, started: steps.Started) -> None:
    from nyhetsbrev.delivery.reports import list_rows  # heavy

    for note in started.notes:
        click.echo(note)
    campaign = started.campaign
    if started.newly_uncertain or started.requeued:
        click.echo(
            f"{started.newly_uncertain} delivery(ies) were interrupted mid-transaction "
            f"and are now uncertain; {started.requeued} put back in the queue."
        )
    uncertain = ledger.counts(campaign.id)[DeliveryStatus.UNCERTAIN]
    if uncertain:
        click.echo(
            f"Uncertain (may or may not have arrived; sent again only with "
            f"--resend-uncertain): {uncertain}"
        )
        list_rows(ledger, campaign.id, DeliveryStatus.UNCERTAIN, uncertain)
    click.echo(f"Campaign {campaign.id} ({campaign.issue_id}): {started.pending} to send.")


@contextmanager
def _stop_on_signals(sender: Sender) -> Iterator[None]:
    """First Ctrl-C (or SIGTERM): stop after the message in flight. Second: stop at once."""
    asked: list[bool] = []

    def handler(number: int, frame: FrameType | None) -> None:
        if asked:
            raise KeyboardInterrupt
        asked.append(True)
        sender.stop()
        click.echo(
            "\nStopping after the message in flight… (Ctrl-C again to stop at once)", err=True
        )

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, old in previous.items():
            signal.signal(number, old)


def _run_with_progress(sender: Sender, total: int) -> Summary:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    from nyhetsbrev.delivery.operator import ProgressLog

    console = Console(stderr=True)
    started = time.monotonic()
    columns = (
        TextColumn("Sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}/min"),
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(
        *columns, console=console, transient=False, disable=not console.is_terminal
    ) as progress:
        task = progress.add_task("send", total=max(total, 1), rate="–")

        def tick(outcome: str) -> None:
            if outcome == "deferred":
                return
            done = progress.tasks[0].completed + 1
            per_minute = done / max(time.monotonic() - started, 1e-6) * 60
            progress.update(task, completed=done, rate=f"{per_minute:.0f}")

        log = ProgressLog(total, lambda line: click.echo(line, err=True))
        sender.progress = tick if console.is_terminal else log.tick
        with _stop_on_signals(sender):
            return sender.run()


def _finish(
    app: AppContext,
    ws: Workspace,
    ledger: Ledger,
    summary: Summary,
    opts: SendOptions,
    prepared: Prepared,
) -> None:
    from nyhetsbrev.delivery import send as steps  # heavy
    from nyhetsbrev.delivery.campaign import BOUNCES_TO_MARK
    from nyhetsbrev.delivery.operator import next_steps
    from nyhetsbrev.delivery.reports import duration, list_rows, write_report

    issue_id = opts.issue_id
    campaign = summary.campaign
    path = steps.report_path(ws, campaign)
    write_report(ledger, campaign, path)
    c = summary.counts
    outcome = "finished" if campaign.status == CampaignStatus.FINISHED else "paused"
    click.echo(
        f"Campaign {campaign.id} ({issue_id}) {outcome} after {duration(summary.elapsed)}: "
        f"{summary.sent_now} sent now; in all {c[DeliveryStatus.SENT]} sent, "
        f"{c[DeliveryStatus.FAILED]} failed, "
        f"{c[DeliveryStatus.UNCERTAIN]} uncertain, {c[DeliveryStatus.SKIPPED]} skipped, "
        f"{c[DeliveryStatus.PENDING] + c[DeliveryStatus.SENDING]} not yet sent."
    )
    if c[DeliveryStatus.FAILED]:
        click.echo("Failed:")
        list_rows(ledger, campaign.id, DeliveryStatus.FAILED, c[DeliveryStatus.FAILED])
    if summary.bounced:
        click.echo(
            f"Marked bounced (address refused in {BOUNCES_TO_MARK} campaigns): "
            f"{len(summary.bounced)}"
        )
    click.echo(f"Report: {ws.relative(path)}")
    temporary, permanent = ledger.failed_kinds(campaign.id)
    for step in next_steps(
        issue_id,
        _with_options(campaign, opts, prepared),
        app.root,
        failed_temporary=temporary,
        failed_permanent=permanent,
        uncertain=c[DeliveryStatus.UNCERTAIN],
    ):
        click.echo(f"Next: {step}")
    if campaign.status == CampaignStatus.FINISHED:
        return
    command = _resume_command(app, opts, prepared, campaign)
    if summary.interrupted:
        click.echo(
            f"Stopped: {c[DeliveryStatus.PENDING] + c[DeliveryStatus.SENDING]} not yet sent. "
            f"To continue, run: {command}"
        )
        raise SystemExit(130)
    raise DeliveryError(f"paused: {summary.stopped}. To continue, run: {command}")


def _resume_command(
    app: AppContext, opts: SendOptions, prepared: Prepared, campaign: Campaign
) -> str:
    """The exact command that continues the campaign with the options it began with."""
    from nyhetsbrev.delivery.operator import resume_command  # heavy

    return resume_command(opts.issue_id, _with_options(campaign, opts, prepared), app.root)


def _with_options(campaign: Campaign, opts: SendOptions, prepared: Prepared) -> Campaign:
    """The campaign with its stored options (a campaign from before they were stored: this
    command's, with --allow-warnings when the issue has warnings)."""
    from nyhetsbrev.delivery.operator import stored_options  # heavy

    if campaign.options:
        return campaign
    options = {**stored_options(vars(opts)), "allow_warnings": bool(prepared.warnings)}
    return replace(campaign, options=options)
