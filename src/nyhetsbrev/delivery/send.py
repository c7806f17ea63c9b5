"""The steps of `nyhetsbrev send`, without the printing: open, check readiness, start or resume.

The CLI calls these in order: `open_ledger()`; `readiness()` lists what stops a real send; then
`test_send()`, or `start()` / `resume()` which return a `Sender` ready to `run()`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nyhetsbrev.contacts.keys import check_key_from_env, weak_key_message
from nyhetsbrev.contacts.model import now
from nyhetsbrev.contacts.store import ContactStore, open_workspace_store
from nyhetsbrev.contacts.tokens import SECRET_ENV, make_token, secret_key
from nyhetsbrev.delivery.campaign import (
    Audience,
    Limits,
    Sender,
    count_audience,
    owner_alive,
    owner_id,
    owner_who,
    queue,
)
from nyhetsbrev.delivery.ledger import Ledger
from nyhetsbrev.delivery.message import Recipient
from nyhetsbrev.delivery.prepare import Prepared, public_url_problem
from nyhetsbrev.delivery.schema import Campaign
from nyhetsbrev.delivery.signing import signer_from_env
from nyhetsbrev.delivery.states import CampaignStatus, DeliveryStatus
from nyhetsbrev.delivery.transport import SendResult, SmtpSettings, SmtpTransport
from nyhetsbrev.errors import DeliveryError
from nyhetsbrev.workspace import Workspace

#: The unsubscribe link in a test message to an address that is not on the list: it cannot work
#: (a "." is not in the token alphabet), and says so to whoever clicks it.
TEST_TOKEN = "TEST.link-in-test-messages-does-nothing"
REPORTS = "reports"


@dataclass
class Started:
    """A campaign ready to send, and what resuming it found."""

    campaign: Campaign
    sender: Sender
    queued: int = 0
    newly_uncertain: int = 0
    requeued: int = 0
    pending: int = 0
    notes: list[str] = field(default_factory=list)


@contextmanager
def open_ledger(ws: Workspace) -> Iterator[tuple[ContactStore, Ledger]]:
    """The workspace's contact store (migrated, ledger included) and its ledger."""
    store = open_workspace_store(ws)
    with store:
        secret = os.environ.get(SECRET_ENV, "")
        if secret and not weak_key_message(secret):  # readiness() reports a missing/weak key
            check_key_from_env(store.engine)
        yield store, Ledger(store.engine)


def readiness(
    prepared: Prepared, *, allow_warnings: bool, real: bool, allow_placeholder_links: bool = False
) -> list[str]:
    """What stops a test send (`real=False`) or a real one: settings, key, links, warnings.

    Placeholder links stop a real send even with --allow-warnings: every partner would see
    them, so they take their own flag."""
    problems = []
    if not os.environ.get("NYHETSBREV_SMTP_URL"):
        problems.append(
            "NYHETSBREV_SMTP_URL is not set: say which SMTP server sends the newsletter "
            "(see docs/operations.md)"
        )
    if not os.environ.get(SECRET_ENV):
        problems.append(
            f"{SECRET_ENV} is not set: the personal unsubscribe links are signed with it "
            "(see docs/operations.md)"
        )
    elif weak_key_message(os.environ[SECRET_ENV]):
        problems.append(str(weak_key_message(os.environ[SECRET_ENV])))
    if real:
        problem = public_url_problem(prepared.loaded)
        if problem:
            problems.append(problem)
        placeholders = [f for f in prepared.warnings if f.code == "placeholder-link"]
        if placeholders and not allow_placeholder_links:
            count = sum(1 + len(f.others) for f in placeholders)
            first = placeholders[0]
            problems.append(
                f"{count} link(s) still go to a placeholder, first at {first.file}:{first.line}:"
                f"{first.col} (`nyhetsbrev check` lists them all): give them their real "
                "addresses, or add --allow-placeholder-links to send anyway"
            )
    if prepared.warnings and not allow_warnings:
        count = sum(1 + len(f.others) for f in prepared.warnings)
        problems.append(
            f"`nyhetsbrev check` lists {count} editorial warnings (above): fix them, or add "
            "--allow-warnings to send anyway"
        )
    return problems


def report_path(ws: Workspace, campaign: Campaign) -> Path:
    """contacts/reports/campaign-N-<id>.csv: with the personal data, never in build/ (published)."""
    folder = ws.contacts_dir / REPORTS
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# reports name recipients: keep them out of version control\n*\n")
    return folder / f"campaign-{campaign.id}-{campaign.issue_id}.csv"


def connect(prepared: Prepared) -> SmtpTransport:
    """An open SMTP connection (fails now, before anything is recorded, when it cannot be)."""
    transport = SmtpTransport(SmtpSettings.from_env(), helo=prepared.sender.domain)
    transport.open()
    return transport


def test_send(
    prepared: Prepared, store: ContactStore, addresses: list[str]
) -> Iterator[tuple[str, SendResult]]:
    """Send the test message (subject prefixed [TEST]) to each address; yields outcomes.

    An address that is a contact gets their real unsubscribe link (clicking it unsubscribes
    them); any other address gets `TEST_TOKEN`, a link that cannot work.
    """
    key = secret_key(prepared.loaded.token_scope)
    template = prepared.template(test=True)
    signer = signer_from_env(prepared.sender.domain)
    transport = connect(prepared)
    with transport:
        for address in addresses:
            contact = store.get(address)
            token = make_token("unsubscribe", contact.id, key=key) if contact else TEST_TOKEN
            settings = make_token("preferences", contact.id, key=key) if contact else TEST_TOKEN
            recipient = Recipient(
                address,
                contact.name if contact else None,
                template.unsubscribe_url(token),
                template.preferences_url(settings),
            )
            data = template.render(recipient).data
            data = signer(data) if signer else data
            yield address, transport.send(prepared.sender.email, address, data)


def start(
    prepared: Prepared,
    store: ContactStore,
    ledger: Ledger,
    audience: Audience,
    limits: Limits,
    *,
    new_campaign: bool,
    approval_id: int | None = None,
    sent_by: str | None = None,
    options: dict[str, Any] | None = None,
) -> Started:
    """A new campaign for the issue (after `--new-campaign` cancels an unfinished one)."""
    issue_id = prepared.loaded.id
    existing = ledger.unfinished(issue_id)
    if existing is not None:
        _ensure_stopped(existing, issue_id)
    if existing is not None and not new_campaign:
        counts = ledger.counts(existing.id)
        waiting = counts[DeliveryStatus.PENDING] + counts[DeliveryStatus.SENDING]
        raise DeliveryError(
            f"campaign {existing.id} for {issue_id} is unfinished ({existing.status}, "
            f"{counts[DeliveryStatus.SENT]} sent, {waiting} not yet): continue "
            f"it with `nyhetsbrev send {issue_id} --resume`, or start over with --confirm "
            "--new-campaign (recipients who already got the issue are left out unless --again)"
        )
    counted = count_audience(store, ledger, issue_id, audience)
    if counted.recipients == 0:
        already = (
            f"all {counted.already} recipient(s) already received {issue_id}; add --again "
            "to send it to them once more"
            if counted.already
            else f"nobody on the list matches ({audience.describe()}): check the filters with "
            "`nyhetsbrev contacts list`"
        )
        raise DeliveryError(f"nothing to send: {already}")
    transport = connect(prepared)
    owner = owner_id()
    notes = []
    if existing is not None:
        uncertain = ledger.sending_to_uncertain(existing.id)
        left = ledger.cancel(existing.id, "replaced by a new campaign")
        notes.append(
            f"Campaign {existing.id} cancelled ({left} not sent there, {uncertain} delivery(ies) "
            "uncertain)."
        )
    campaign = ledger.create(
        issue_id,
        prepared.build_hash,
        prepared.subject,
        audience.as_dict(),
        prepared.pdf is not None,
        owner,
        approval_id=approval_id,
        sent_by=sent_by,
        options=options,
    )
    if campaign is None:  # another process created it a moment ago: it sends, this one does not
        transport.close()
        rival = ledger.unfinished(issue_id)
        if rival is not None:
            _ensure_stopped(rival, issue_id)
        raise DeliveryError(
            f"another campaign for {issue_id} was started at the same moment: "
            "`nyhetsbrev campaigns` shows it"
        )
    queued = queue(store, ledger, campaign)
    if queued == 0:  # another campaign sent it to everyone between the count and now
        transport.close()
        ledger.discard(campaign.id)
        raise DeliveryError(
            f"nothing to send: all {counted.recipients + counted.already} recipient(s) already "
            f"received {issue_id}; add --again to send it to them once more"
        )
    sender = _sender(prepared, store, ledger, campaign, transport, limits)
    return Started(campaign, sender, queued=queued, pending=queued, notes=notes)


def resume(
    prepared: Prepared,
    store: ContactStore,
    ledger: Ledger,
    limits: Limits,
    *,
    resend_uncertain: bool,
    retry_failed: bool,
    retry_permanent: bool = False,
) -> Started:
    """Continue the issue's unfinished campaign: `sending` rows become `uncertain` first."""
    issue_id = prepared.loaded.id
    campaign = resumable(ledger, issue_id, finished_too=resend_uncertain or retry_failed)
    if campaign is None:
        done = ledger.campaigns(issue_id)
        hint = f" (campaign {done[-1].id} is {done[-1].status})" if done else ""
        raise DeliveryError(
            f"there is no unfinished campaign for {issue_id} to resume{hint}: start one with "
            f"`nyhetsbrev send {issue_id} --confirm` (`nyhetsbrev campaigns` lists them all)"
        )
    if campaign.build_hash != prepared.build_hash:
        raise DeliveryError(
            f"{issue_id} changed since campaign {campaign.id} began: its build "
            f"(or subject, sender or public_url) is not what the first recipients got. "
            "Undo the change to finish the campaign as it began, or start a new campaign with "
            f"the new content: nyhetsbrev send {issue_id} --confirm --new-campaign "
            "(recipients who already got the issue are left out unless --again)"
        )
    _ensure_stopped(campaign, issue_id)
    transport = connect(prepared)
    owner = owner_id()
    if not ledger.take_over(campaign.id, owner, campaign.owner):
        transport.close()
        raise DeliveryError(
            f"campaign {campaign.id} was taken over by another process just now: let it finish"
        )
    uncertain = ledger.sending_to_uncertain(campaign.id)
    requeued = 0
    if resend_uncertain:
        requeued += ledger.requeue(campaign.id, [DeliveryStatus.UNCERTAIN])
    if retry_failed:  # the temporary refusals (4xx); the permanent ones only when asked
        requeued += ledger.requeue_failed(campaign.id, permanent=retry_permanent)
    campaign = ledger.get(campaign.id) or campaign
    queued = 0 if campaign.queued else queue(store, ledger, campaign)
    pending = ledger.counts(campaign.id)[DeliveryStatus.PENDING]
    sender = _sender(prepared, store, ledger, campaign, transport, limits)
    return Started(campaign, sender, queued, uncertain, requeued, pending)


def resumable(ledger: Ledger, issue_id: str, *, finished_too: bool) -> Campaign | None:
    """The campaign `--resume` continues: the unfinished one, else (to resend uncertain or retry
    failed deliveries) the latest finished one."""
    found = ledger.unfinished(issue_id)
    if found is None and finished_too:
        found = ledger.latest(issue_id, (CampaignStatus.FINISHED,))
    return found


def _ensure_stopped(campaign: Campaign, issue_id: str) -> None:
    """Refuse, saying who sends it, while the campaign's owner may still be sending."""
    if campaign.owner and owner_alive(campaign.owner, campaign.updated_at, now()):
        since = campaign.owner_since or campaign.created_at
        raise DeliveryError(
            f"campaign {campaign.id} for {issue_id} is being sent by {owner_who(campaign.owner)} "
            f"since {since.astimezone():%H:%M}; wait, or stop it there (`nyhetsbrev campaigns` "
            "shows it)"
        )


def _sender(
    prepared: Prepared,
    store: ContactStore,
    ledger: Ledger,
    campaign: Campaign,
    transport: SmtpTransport,
    limits: Limits,
) -> Sender:
    return Sender(
        ledger=ledger,
        store=store,
        campaign=campaign,
        template=prepared.template(),
        transport=transport,
        limits=limits,
        sign=signer_from_env(prepared.sender.domain),
        key_scope=prepared.loaded.token_scope,
    )
