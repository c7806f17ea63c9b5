"""End to end in a real browser (Debian's chromium through Playwright) against uvicorn on loopback:
a visitor subscribes and confirms from the emailed link, unsubscribes with the button; the preview
reloads itself after the issue file changes. Screenshots go to tests/artifacts/ (git-ignored)."""

from __future__ import annotations

import email
import email.policy
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.conftest import CHROMIUM_ARGS
from tests.web.conftest import ARTIFACTS, Served, free_port, open_db
from tests.web.test_mail import Inbox

from nyhetsbrev.contacts.tokens import make_token
from nyhetsbrev.web.cli import bind
from nyhetsbrev.web.preview import create_preview_app
from nyhetsbrev.web.public import create_public_app
from nyhetsbrev.workspace import Workspace

pytestmark = pytest.mark.browser
VISITOR = "ingrid.hansen@example.no"


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Inbox]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", f"smtp://127.0.0.1:{port}")
    try:
        yield inbox
    finally:
        controller.stop()


def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"web-{name}.png"), full_page=True)


def wait_for_mail(inbox: Inbox, count: int) -> bytes:
    deadline = time.monotonic() + 20
    while len(inbox.messages) < count:
        assert time.monotonic() < deadline, "the confirmation email did not arrive"
        time.sleep(0.05)
    return inbox.messages[count - 1][2]


def test_a_visitor_subscribes_confirms_and_unsubscribes(
    workspace: Path, browser: Any, smtp: Inbox
) -> None:
    sock = bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    publication = workspace / "newsletters" / "kom.yaml"  # links must lead back to this server
    text = publication.read_text(encoding="utf-8")
    publication.write_text(re.sub(r"(?m)^public_url: .*$", f"public_url: {base}", text), "utf-8")
    app = create_public_app(Workspace(workspace))
    with Served(app, sock):
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="nb-NO")
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(f"{base}/subscribe")
        page.fill("#f-email", VISITOR)
        page.fill("#f-name", "Ingrid Hansen")
        page.fill("#f-organisation", "Kirkens Bymisjon")
        page.check("#f-topic-rettsavgjorelser")
        page.select_option("#f-language", "nn")
        page.check("#f-consent-box")
        shot(page, "subscribe-375")
        page.click("button[type=submit]")
        page.wait_for_selector("text=Sjekk e-posten din")
        shot(page, "check-inbox-375")

        message = email.message_from_bytes(wait_for_mail(smtp, 1), policy=email.policy.default)
        assert message["To"] == VISITOR
        assert message["Subject"] == "Stadfest påmeldinga til Nyhetsbrev fra KOM"
        body = message.get_body()
        assert body is not None
        found = re.search(rf"{re.escape(base)}/confirm/\S+", body.get_content())
        assert found, body.get_content()

        page.goto(found.group(0))  # following the link changes nothing yet
        store = open_db(Workspace(workspace).database_url())
        try:
            contact = store.get(VISITOR)
            assert contact is not None and contact.status == "pending"
            shot(page, "confirm-375")
            page.click("button[type=submit]")
            page.wait_for_selector("text=Takk, du er påmeldt")
            shot(page, "confirmed-375")
            contact = store.get(VISITOR)
            assert contact is not None and contact.status == "subscribed"
            assert contact.topics == ("nyhetsbrev", "rettsavgjorelser")
            assert contact.language == "nn" and contact.organisation == "Kirkens Bymisjon"

            page.goto(f"{base}/unsubscribe/{make_token('unsubscribe', contact.id)}")
            assert store.get(VISITOR).status == "subscribed"  # type: ignore[union-attr]
            page.click("button[type=submit]")
            page.wait_for_selector("text=Du er meldt av")
            shot(page, "unsubscribed-375")
            assert store.get(VISITOR).status == "unsubscribed"  # type: ignore[union-attr]
        finally:
            store.close()

        wide = browser.new_page(viewport={"width": 1280, "height": 900}, locale="en-GB")
        wide.goto(f"{base}/subscribe?lang=en")
        wide.click("button[type=submit]")  # the browser stops an empty form itself
        assert wide.url.endswith("/subscribe?lang=en")
        shot(wide, "subscribe-1280-en")
        wide.close()
        page.close()
        assert not [line for line in console if "Content Security Policy" in line], console


def test_the_preview_reloads_itself_after_the_issue_file_changes(
    workspace: Path, browser: Any
) -> None:
    app = create_preview_app(Workspace(workspace), "2024-q4")
    issue = workspace / "newsletters" / "2024-q4" / "issue.yaml"
    with Served(app) as served:
        page = browser.new_page(viewport={"width": 1440, "height": 1000}, locale="nb-NO")
        console: list[str] = []
        page.on("console", lambda message: console.append(message.text))
        page.goto(served.url)
        page.wait_for_selector("iframe[width='375']")
        page.wait_for_function("document.getElementById('live') !== null")
        frames = page.locator("iframe[width='375'], iframe[width='640']")
        assert frames.count() == 2
        shot(page, "preview-1440")

        text = issue.read_text(encoding="utf-8")
        issue.write_text(
            text.replace("\npreheader:", "\ntitle: Nyhetsbrev fra KOM – ny tittel\npreheader:", 1),
            encoding="utf-8",
        )
        page.wait_for_selector(".issue-title:has-text('ny tittel')", timeout=15_000)
        email_frame = page.frame_locator("iframe[width='640']")
        email_frame.locator("text=ny tittel").first.wait_for(timeout=10_000)
        shot(page, "preview-reloaded-1440")

        issue.write_text(text + 'sections:\n  - title: "not closed\n', encoding="utf-8")
        page.wait_for_selector("text=kan ikke bygges", timeout=15_000)
        shot(page, "preview-yaml-error-1440")
        page.close()
        assert not [line for line in console if "Content Security Policy" in line], console
