"""The four-eyes rule: who may approve, and whether a send has a valid approval of its build.

`send --confirm` calls `approval_for_send()`; when the publication says `approval: required` it
returns the approval the campaign goes out under, or refuses saying exactly why: not approved,
approved only by the sender, approved by someone who is not an approver, an approval that does
not verify, or approved but changed since (naming the sections that changed).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from nyhetsbrev.contacts.tokens import SECRET_ENV
from nyhetsbrev.delivery.approval import record
from nyhetsbrev.delivery.approval.changes import changed_sections
from nyhetsbrev.delivery.approval.record import Approval, Build
from nyhetsbrev.delivery.campaign import Audience
from nyhetsbrev.delivery.prepare import Prepared
from nyhetsbrev.errors import ApprovalError
from nyhetsbrev.issue.load import LoadedIssue


@dataclass(frozen=True)
class Policy:
    """The publication's rule: `approval: required`, and who may approve (empty: anyone)."""

    required: bool
    approvers: tuple[str, ...]
    where: str  # the publication file, as the user sees it

    @classmethod
    def of(cls, loaded: LoadedIssue) -> Policy:
        pub = loaded.publication
        where = f"newsletters/{loaded.publication_path.name}"
        return cls(pub.approval == "required", tuple(pub.approvers), where)

    def may_approve(self, actor: str) -> bool:
        return not self.approvers or actor in self.approvers


def build_of(prepared: Prepared, audience: Audience) -> Build:
    """The approvable build: the prepared message and the audience definition it goes to."""
    return Build(
        issue_id=prepared.loaded.id,
        build_hash=prepared.build_hash,
        audience={
            "topics": list(audience.topics),
            "sectors": list(audience.sectors),
            "languages": list(audience.languages),
        },
        attach_pdf=prepared.pdf is not None,
        text=prepared.text,
    )


def check_approver(policy: Policy, actor: str, issue_id: str) -> None:
    """Refuse an approval by someone the publication does not list as an approver."""
    if not policy.may_approve(actor):
        raise ApprovalError(
            f"{actor} may not approve {issue_id}: {policy.where} names the approvers "
            f"({', '.join(policy.approvers)}). Approve as one of them (--actor NAME or "
            "NYHETSBREV_ACTOR), or add the name to `approvers:`"
        )


def approval_for_send(
    engine: Engine, prepared: Prepared, audience: Audience, sender: str
) -> Approval | None:
    """The approval a real send by `sender` goes out under; None when none is required."""
    loaded = prepared.loaded
    policy = Policy.of(loaded)
    if not policy.required:
        return None
    build = build_of(prepared, audience)
    approval, reasons = _verdict(engine, policy, build, sender)
    if approval is not None:
        return approval
    raise ApprovalError(
        f"{loaded.id} cannot be sent: {policy.where} says `approval: required`, and\n  - "
        + "\n  - ".join(reasons)
        + "\nAsk someone else to read the test send or the preview, then to run: "
        + f"nyhetsbrev approve {loaded.id}{_options(build)} (nothing was sent)"
    )


def dry_run_line(engine: Engine, prepared: Prepared, audience: Audience, sender: str) -> str | None:
    """The dry run's `Approval:` line (None when the publication does not require one)."""
    policy = Policy.of(prepared.loaded)
    if not policy.required:
        return None
    try:
        approval, reasons = _verdict(engine, policy, build_of(prepared, audience), sender)
    except ApprovalError:
        return f"required, and cannot be checked: {SECRET_ENV} is not set"
    if approval is not None:
        return (
            f"approved by {approval.actor} on {_when(approval)} (approval {approval.id}) — "
            "this exact build"
        )
    return f"required, and {reasons[0]}"


def _verdict(
    engine: Engine, policy: Policy, build: Build, sender: str
) -> tuple[Approval | None, list[str]]:
    """The approval a send by `sender` of `build` goes out under, or the reasons there is none."""
    found = record.of_issue(engine, build.issue_id)
    matching = [a for a in found if a.valid and a.content_hash == build.content_hash]
    good = [a for a in matching if a.actor != sender and policy.may_approve(a.actor)]
    if good:
        return good[-1], []
    reasons = [_forged(a) for a in found if not a.valid]
    own = [a for a in matching if a.actor == sender]
    outsiders = [a for a in matching if a.actor != sender and not policy.may_approve(a.actor)]
    if own:
        reasons.append(
            f"it is approved by yourself ({sender}, approval {own[-1].id}): the four-eyes rule "
            "needs someone other than the sender to approve it"
        )
    for approval in outsiders:
        reasons.append(
            f"approval {approval.id} is by {approval.actor}, who is not among the approvers "
            f"in {policy.where} ({', '.join(policy.approvers)})"
        )
    earlier = [a for a in found if a.valid and a.content_hash != build.content_hash]
    if not matching and earlier:
        last = earlier[-1]
        reasons.append(
            f"it was approved by {last.actor} on {_when(last)} (approval {last.id}), but it "
            f"changed since: {'; '.join(what_changed(last, build))}"
        )
    if not reasons:
        reasons.append("it is not approved")
    return None, reasons


def what_changed(approval: Approval, build: Build) -> list[str]:
    """Why `approval` does not cover `build`: sections, other parts, audience, attachment."""
    out = []
    if approval.build_hash != build.build_hash:
        sections = changed_sections(approval.text_edition, build.text)
        if sections:
            out.append(f"sections changed: {', '.join(sections)}")
        else:
            out.append(
                "the text is the same; the email HTML, the PDF, the subject or the sender changed"
            )
    if record.audience_json(approval.audience) != build.audience_json:
        out.append(
            f"it was approved for {_describe(approval.audience)}, this send goes to "
            f"{_describe(build.audience)}"
        )
    if approval.attach_pdf != build.attach_pdf:
        out.append(
            "it was approved with the PDF attached, this send has none"
            if approval.attach_pdf
            else "it was approved without the PDF attached, this send attaches it"
        )
    return out or ["its content hash differs"]


def _describe(audience: object) -> str:
    data = audience if isinstance(audience, dict) else {}
    return Audience.from_dict(dict(data)).describe().removeprefix("subscribed, ")


def _forged(approval: Approval) -> str:
    return (
        f"approval {approval.id} (by {approval.actor}) does not verify: its row was changed in "
        "the database after it was recorded, or NYHETSBREV_SECRET_KEY is not the key it was "
        "made with — it does not count"
    )


def _when(approval: Approval) -> str:
    return f"{approval.approved_at.astimezone():%Y-%m-%d %H:%M}"


def _options(build: Build) -> str:
    """The approve options that name the same audience and attachment as this send."""
    parts = []
    topics = list(build.audience.get("topics") or ())
    if topics != ["nyhetsbrev"]:
        parts += [f" --topic {t}" for t in topics]
    parts += [f" --sector {s}" for s in build.audience.get("sectors") or ()]
    parts += [f" --lang {lang}" for lang in build.audience.get("languages") or ()]
    if build.attach_pdf:
        parts.append(" --attach-pdf")
    return "".join(parts)
