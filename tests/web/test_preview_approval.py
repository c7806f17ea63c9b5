"""The preview's approval panel over HTTP: status, the approve button (CSRF, loopback only, the
build shown), and that what it records is what `send --confirm` checks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from nyhetsbrev.web.preview import create_preview_app
from nyhetsbrev.workspace import Workspace

ISSUE = "2024-q4"
LOOPBACK = {"base_url": "http://127.0.0.1:8000", "client": ("127.0.0.1", 50000)}


@pytest.fixture
def approver(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "test-secret-key-0123456789abcdef")
    monkeypatch.setenv("NYHETSBREV_ACTOR", "kari")
    return workspace


@pytest.fixture
def preview(approver: Path) -> Iterator[TestClient]:
    app = create_preview_app(Workspace(approver), ISSUE, watch=False)
    with TestClient(app, follow_redirects=False, **LOOPBACK) as client:
        yield client


def form_of(page: str) -> dict[str, str]:
    section = page[page.index('<section id="approval"') :]
    section = section[: section.index("</section>")]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', section))


def approval_text(page: str) -> str:
    section = page[page.index('<section id="approval"') :]
    return re.sub(r"<[^>]+>", "", section[: section.index("<form")]).strip()


def test_the_panel_approves_the_build_shown(preview: TestClient, cli: Any) -> None:
    page = preview.get("/")
    assert page.status_code == 200
    assert "form-action 'self'" in page.headers["content-security-policy"]
    assert "build/ er eldre enn siste endring" in approval_text(page.text)  # never built yet
    assert "Godkjenn som kari</button>" in page.text
    form = form_of(page.text)
    assert set(form) == {"csrf_token", "generation"} and form["generation"] == "1"

    done = preview.post("/approve", data={**form, "note": "lest i forhåndsvisningen"})
    assert done.status_code == 303 and done.headers["location"] == "/#approval"
    shown = approval_text(preview.get("/").text)
    assert shown.startswith("Godkjenning\nGodkjent av kari ")
    assert shown.endswith("(godkjenning 1): denne utgaven, slik den er bygget nå.")
    listed = cli("approvals", ISSUE)
    assert "approval 1: kari approved " in listed.output
    assert '(the current build; subscribed, topic nyhetsbrev) — "lest i forhåndsvisningen"' in (
        listed.output
    )


def test_the_button_needs_the_form_token(preview: TestClient, cli: Any) -> None:
    form = form_of(preview.get("/").text)
    forged = preview.post("/approve", data={**form, "csrf_token": "0" * 64})
    assert forged.status_code == 403
    assert "last siden på nytt" in forged.text
    bare = TestClient(preview.app, follow_redirects=False, **LOOPBACK)
    assert bare.post("/approve", data=form).status_code == 403  # no cookie: another site
    assert "has no approvals" in cli("approvals", ISSUE).output


def test_the_button_answers_only_on_loopback(approver: Path, cli: Any) -> None:
    app = create_preview_app(Workspace(approver), ISSUE, watch=False)
    with TestClient(app, follow_redirects=False, **LOOPBACK) as client:
        form = form_of(client.get("/").text)
    rebound = {"base_url": "http://evil.example:8000", "client": ("127.0.0.1", 50000)}
    with TestClient(app, follow_redirects=False, **rebound) as client:  # DNS rebinding
        refused = client.post("/approve", data=form)
    # the whole preview refuses a foreign Host (web.security.AllowedHosts), the panel too
    assert refused.status_code == 400
    assert "Host not allowed" in refused.text
    remote = {"base_url": "http://127.0.0.1:8000", "client": ("192.0.2.7", 50000)}
    with TestClient(app, follow_redirects=False, **remote) as client:
        form = form_of(client.get("/").text)
        assert client.post("/approve", data=form).status_code == 403
    assert "has no approvals" in cli("approvals", ISSUE).output


def test_a_save_after_the_page_was_loaded_refuses(preview: TestClient, cli: Any) -> None:
    form = form_of(preview.get("/").text)
    state = preview.app.state.preview  # type: ignore[attr-defined]
    state.publish(state.previewer.build())  # the editor saved: generation 2
    stale = preview.post("/approve", data=form)
    assert stale.status_code == 409
    assert "Utgaven er endret siden siden ble lastet" in stale.text
    assert "has no approvals" in cli("approvals", ISSUE).output


def test_the_approvers_rule_applies(approver: Path, preview: TestClient) -> None:
    kom = approver / "newsletters" / "kom.yaml"
    kom.write_text(
        kom.read_text("utf-8").replace(
            "approval: required\n", "approval: required\napprovers: [ola]\n"
        ),
        "utf-8",
    )
    form = form_of(preview.get("/").text)
    refused = preview.post("/approve", data=form)
    assert refused.status_code == 400
    assert "kari may not approve 2024-q4: newsletters/kom.yaml names the approvers (ola)" in (
        refused.text
    )
