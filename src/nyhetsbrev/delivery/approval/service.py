"""Approving and asking about the current build: what `approve` and the preview page share."""

from __future__ import annotations

from dataclasses import dataclass

from nyhetsbrev.delivery.approval import record
from nyhetsbrev.delivery.approval.gate import Policy, build_of, check_approver
from nyhetsbrev.delivery.approval.record import Approval
from nyhetsbrev.delivery.campaign import Audience
from nyhetsbrev.delivery.prepare import Prepared, prepare
from nyhetsbrev.delivery.send import open_ledger
from nyhetsbrev.errors import NyhetsbrevError
from nyhetsbrev.workspace import Workspace

DEFAULT_AUDIENCE = Audience(("nyhetsbrev",))
STALE = "stale"  # Status.problem when build/<id>/ is older than the issue's sources


@dataclass(frozen=True)
class Approved:
    """An approval just recorded, the build it covers and the rule it was made under."""

    approval: Approval
    prepared: Prepared
    policy: Policy


@dataclass(frozen=True)
class Status:
    """Whether the current build (default audience, no PDF attached) is approved, and by whom."""

    required: bool
    approvals: list[Approval]  # valid approvals of exactly this build, oldest first
    content_hash: str | None  # None when the issue does not build now
    problem: str | None = None  # why not (the first line of the error)

    @property
    def approvers(self) -> list[str]:
        return list(dict.fromkeys(a.actor for a in self.approvals))


def approve_build(
    ws: Workspace,
    issue_id: str,
    actor: str,
    note: str | None,
    audience: Audience = DEFAULT_AUDIENCE,
    *,
    attach_pdf: bool = False,
) -> Approved:
    """Check and build the issue as `send` would, and record `actor`'s approval of it."""
    record.approval_key()  # no key, no approval: say so before building anything
    with open_ledger(ws) as (store, _):
        prepared = prepare(ws, issue_id, attach_pdf=attach_pdf, verb="approve")
        policy = Policy.of(prepared.loaded)
        check_approver(policy, actor, issue_id)
        approval = record.record(store.engine, build_of(prepared, audience), actor, note)
    return Approved(approval, prepared, policy)


def current_status(ws: Workspace, issue_id: str, *, build: bool = True) -> Status:
    """The approvals of the build `send --confirm` (default audience, no PDF) would send now.

    With `build=False` (the preview page: a GET changes nothing) an out-of-date build/ is not
    rebuilt; the status then says so, and approving builds it.
    """
    from nyhetsbrev.delivery.prepare import build_is_current
    from nyhetsbrev.issue.load import load

    try:
        if not build:
            loaded, _ = load(ws, issue_id)
            if loaded is None:
                return Status(False, [], None, f"{issue_id} does not load: see the findings")
            if not build_is_current(ws, loaded, ws.build_dir / issue_id):
                required = Policy.of(loaded).required
                return Status(required, [], None, STALE)
        with open_ledger(ws) as (store, _):
            prepared = prepare(ws, issue_id)
            wanted = build_of(prepared, DEFAULT_AUDIENCE).content_hash
            found = [
                a
                for a in record.of_issue(store.engine, issue_id)
                if a.valid and a.content_hash == wanted
            ]
    except NyhetsbrevError as exc:
        return Status(False, [], None, exc.message.strip().splitlines()[-1])
    return Status(Policy.of(prepared.loaded).required, found, wanted)
