"""The preview's approval panel: is the current build approved, by whom, and a button to approve.

The same rules as `nyhetsbrev approve` (the approvers list; the send refuses self-approval), as
the person running the preview (`NYHETSBREV_ACTOR`, else the login name). The button is a POST
with a signed double-submit CSRF token (`web/security.py`), answered only on loopback and only
for a loopback `Host` (so a page on another site cannot reach it by DNS rebinding), and only
when the page it came from showed the current build: a save in between refuses it.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from nyhetsbrev.contacts.model import current_actor
from nyhetsbrev.delivery.approval.service import STALE, Status, approve_build, current_status
from nyhetsbrev.errors import NyhetsbrevError
from nyhetsbrev.web.security import Csrf
from nyhetsbrev.workspace import Workspace

LOOPBACK_NAMES = ("localhost",)
ACTOR_ENV = "NYHETSBREV_ACTOR"
MAX_NOTE = 500


@dataclass(frozen=True)
class Panel:
    """What the preview page shows about approval, and the form's token."""

    status: Status
    actor: str
    token: str
    generation: int
    stale: bool


class Approvals:
    """The approval part of one preview app: its CSRF key (random, per process) and its rules."""

    def __init__(self, ws: Workspace, issue_id: str) -> None:
        self.ws = ws
        self.issue_id = issue_id
        self.csrf = Csrf(secrets.token_bytes(32))

    async def panel(self, request: Request, generation: int) -> tuple[Panel, str | None]:
        """The panel for the page, and a CSRF cookie value to set (None: keep the browser's)."""
        status = await run_in_threadpool(current_status, self.ws, self.issue_id, build=False)
        token, cookie = self.csrf.token_for(request)
        stale = status.problem == STALE
        return Panel(status, _actor(), token, generation, stale), cookie

    async def approve(
        self, request: Request, generation: int, labels: dict[str, str], language: str = "nb"
    ) -> Response:
        """POST /approve: record the approval, then back to the page (303)."""
        if not is_loopback(request):
            return _refusal(labels, labels["preview_approve_loopback"], 403, language)
        form = await request.form()
        if not self.csrf.is_valid(request, form.get(Csrf.FIELD)):
            return _refusal(labels, labels["preview_approve_csrf"], 403, language)
        if str(form.get("generation", "")) != str(generation):
            return _refusal(labels, labels["preview_approve_changed"], 409, language)
        note = str(form.get("note", ""))[:MAX_NOTE]
        try:
            await run_in_threadpool(approve_build, self.ws, self.issue_id, _actor(), note)
        except NyhetsbrevError as exc:
            return _refusal(labels, exc.message, 400, language)
        return RedirectResponse("/#approval", status_code=303)


def _actor() -> str:
    """Who runs the preview: NYHETSBREV_ACTOR (as `--actor` reads it), else the login name."""
    return current_actor(os.environ.get(ACTOR_ENV))


def is_loopback(request: Request) -> bool:
    """True when both the client and the `Host` the browser asked for are this machine."""
    client = request.client.host if request.client else ""
    host = request.url.hostname or ""
    return _loopback(client) and (host in LOOPBACK_NAMES or _loopback(host))


def _loopback(value: str) -> bool:
    try:
        return ipaddress.ip_address(value.strip("[]")).is_loopback
    except ValueError:
        return False


def panel_context(panel: Panel) -> dict[str, Any]:
    """The template's view of the panel (first approver, when)."""
    first = panel.status.approvals[-1] if panel.status.approvals else None
    return {
        "panel": panel,
        "approved_by": first.actor if first else None,
        "approved_at": f"{first.approved_at.astimezone():%Y-%m-%d %H:%M}" if first else None,
        "approval_id": first.id if first else None,
    }


def _refusal(labels: dict[str, str], message: str, status: int, language: str) -> Response:
    from html import escape

    body = (
        f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8"><title>'
        f"{escape(labels['preview_approval'])}</title></head><body><h1>"
        f"{escape(labels['preview_approve_refused'])}</h1><pre>{escape(message)}</pre>"
        f'<p><a href="/#approval">{escape(labels["preview_back"])}</a></p></body></html>'
    )
    return HTMLResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
