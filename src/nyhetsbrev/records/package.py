"""What goes into the archive copy, made in memory: the PDF/A, the .eml, the web page, metadata.

The copy is of what went out: the latest campaign that delivered the issue, and the build it sent
(the issue must build to the same hash today, or the copy would not be what recipients got).
`--draft` makes the same package of the current build for an issue not sent yet.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from nyhetsbrev.contacts.store import ContactStore
from nyhetsbrev.delivery.approval import record
from nyhetsbrev.delivery.approval.gate import build_of
from nyhetsbrev.delivery.campaign import Audience
from nyhetsbrev.delivery.ledger import Ledger
from nyhetsbrev.delivery.message import Recipient
from nyhetsbrev.delivery.prepare import Prepared, prepare
from nyhetsbrev.delivery.schema import Campaign
from nyhetsbrev.delivery.states import DeliveryStatus
from nyhetsbrev.errors import ApprovalError, RecordsError
from nyhetsbrev.records.metadata import Metadata
from nyhetsbrev.records.webpage import self_contained
from nyhetsbrev.render.editions import RenderOptions, pdf_file_name, render_editions
from nyhetsbrev.theme import find_theme
from nyhetsbrev.workspace import Workspace

#: The neutral stand-ins for the personal parts of the message as sent.
PLACEHOLDER_ADDRESS = "recipient@recipient.invalid"
PLACEHOLDER_TOKEN = "PERSONAL-TOKEN-REMOVED"
ARCHIVE_STANDARD = "a-2a,ua-1"


@dataclass(frozen=True)
class Package:
    """The files of the records package (name → bytes) and what they describe."""

    files: dict[str, bytes]
    metadata: Metadata
    campaign: Campaign | None


def sent_campaign(ledger: Ledger, issue_id: str) -> Campaign | None:
    """The latest campaign that delivered the issue to at least one recipient."""
    for campaign in reversed(ledger.campaigns(issue_id)):
        if ledger.counts(campaign.id)[DeliveryStatus.SENT]:
            return campaign
    return None


def make_package(
    ws: Workspace, store: ContactStore, ledger: Ledger, issue_id: str, *, draft: bool
) -> Package:
    """Every file of the archive copy, in memory; refuses an issue not sent unless `draft`."""
    campaign = None if draft else sent_campaign(ledger, issue_id)
    if campaign is None and not draft:
        known = ledger.campaigns(issue_id)
        why = (
            f"its campaign(s) ({', '.join(str(c.id) for c in known)}) delivered it to nobody"
            if known
            else "no campaign has sent it"
        )
        raise RecordsError(
            f"{issue_id} has not been sent ({why}): the archive copy is a record of what went "
            f"out. Send it first (`nyhetsbrev send {issue_id}`), or add --draft for a copy of "
            "the current build, marked as a draft"
        )
    attach = campaign.attach_pdf if campaign else False
    prepared = prepare(ws, issue_id, attach_pdf=attach, verb="archive")
    if campaign is not None and prepared.build_hash != campaign.build_hash:
        raise RecordsError(
            f"{issue_id} changed since campaign {campaign.id} sent it: the archive copy must be "
            "what recipients got. Restore the issue as it was sent (e.g. from version control) "
            "and run the command again, or add --draft for a copy of the current build"
        )
    loaded = prepared.loaded
    audience = Audience.from_dict(campaign.audience) if campaign else Audience(("nyhetsbrev",))
    stem = pdf_file_name(loaded).removesuffix(".pdf")
    theme = find_theme(ws, loaded.publication.theme)
    web_page = (prepared.folder / "index.html").read_text(encoding="utf-8")
    archival = RenderOptions(editions=frozenset({"pdf"}), pdf_standard=ARCHIVE_STANDARD)
    pdf = render_editions(loaded, theme, archival).pdf
    assert pdf is not None
    files = {
        f"{stem}.pdf": pdf.pdf,
        f"{stem}.eml": _eml(prepared, campaign),
        f"{stem}.html": self_contained(web_page, prepared.folder, loaded).encode("utf-8"),
    }
    described = {
        f"{stem}.pdf": "the PDF edition, PDF/A-2a and PDF/UA-1",
        f"{stem}.eml": "the message as sent to the list, personal parts replaced by "
        f"{PLACEHOLDER_ADDRESS} and {PLACEHOLDER_TOKEN}",
        f"{stem}.html": "the web edition, one self-contained HTML file",
    }
    metadata = _metadata(store, ledger, prepared, campaign, audience, described)
    files["metadata.json"] = metadata.to_json()
    files["metadata.xml"] = metadata.to_dublin_core()
    return Package(files, metadata, campaign)


def _eml(prepared: Prepared, campaign: Campaign | None) -> bytes:
    """The list message with the recipient and their personal tokens neutralised."""
    template = prepared.template()
    recipient = Recipient(
        PLACEHOLDER_ADDRESS,
        None,
        template.unsubscribe_url(PLACEHOLDER_TOKEN),
        template.preferences_url(PLACEHOLDER_TOKEN),
    )
    moment = _sent_at(campaign) or datetime.now().astimezone()
    message_id = f"<nyhetsbrev.{prepared.loaded.id}.archive-copy@{prepared.sender.domain}>"
    return template.render(recipient, message_id=message_id, now=moment).data


def _sent_at(campaign: Campaign | None) -> datetime | None:
    if campaign is None:
        return None
    return campaign.finished_at or campaign.created_at


def _metadata(
    store: ContactStore,
    ledger: Ledger,
    prepared: Prepared,
    campaign: Campaign | None,
    audience: Audience,
    files: dict[str, str],
) -> Metadata:
    loaded = prepared.loaded
    start, end = loaded.period
    approval = None
    if campaign is not None and campaign.approval_id is not None:
        try:
            approval = record.get(store.engine, campaign.approval_id)
        except ApprovalError as exc:
            raise RecordsError(
                f"campaign {campaign.id} went out under approval {campaign.approval_id}, which "
                f"cannot be verified: {exc.message}"
            ) from None
        if approval is not None and not approval.valid:
            raise RecordsError(
                f"approval {approval.id}, under which campaign {campaign.id} went out, does not "
                "verify: its row was changed in the database after it was recorded, or "
                "NYHETSBREV_SECRET_KEY is not the key it was made with — find out which (and "
                "tell the records office) before this copy is archived"
            )
    build = build_of(prepared, audience)
    sent = _sent_at(campaign)
    return Metadata(
        identifier=loaded.id,
        title=f"{loaded.title} – {loaded.period_label}",
        subject=prepared.subject,
        publisher=loaded.publication.name,
        language=loaded.language,
        period_start=start.isoformat(),
        period_end=end.isoformat(),
        status="sent" if campaign else "draft",
        date_sent=sent.isoformat(timespec="seconds") if sent else None,
        recipients=ledger.counts(campaign.id)[DeliveryStatus.SENT] if campaign else 0,
        campaign=campaign.id if campaign else None,
        sent_by=campaign.sent_by if campaign else None,
        approved_by=approval.actor if approval else None,
        approved_at=approval.approved_at.isoformat(timespec="seconds") if approval else None,
        approval=approval.id if approval else None,
        content_hash=approval.content_hash if approval else build.content_hash,
        build_hash=prepared.build_hash,
        audience={k: v for k, v in audience.as_dict().items() if k != "again"},
        sender=f"{prepared.sender.name} <{prepared.sender.email}>",
        files=files,
    )
