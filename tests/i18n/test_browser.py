"""The serve pages in a real browser (Debian's chromium through Playwright), in each language:
axe-core finds no violation on any of them, and the subscribe page in Swedish and English is
photographed for a person to look at (tests/artifacts/, git-ignored)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nyhetsbrev.web.cli import bind
from nyhetsbrev.web.public import create_public_app
from nyhetsbrev.workspace import Workspace
from tests.conftest import CHROMIUM_ARGS
from tests.web.conftest import ARTIFACTS, MailCatcher, Served

pytestmark = pytest.mark.browser
LOCALES = {"nb": "nb-NO", "nn": "nn-NO", "en": "en-GB", "sv": "sv-SE"}
SUBSCRIBE = {
    "nb": "Meld deg på nyhetsbrevet",
    "nn": "Meld deg på nyheitsbrevet",
    "en": "Subscribe to the newsletter",
    "sv": "Prenumerera på nyhetsbrevet",
}
CHECK_INBOX = {
    "nb": "Sjekk e-posten din",
    "nn": "Sjekk e-posten din",
    "en": "Check your email",
    "sv": "Titta i din e-post",
}


@pytest.fixture
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


def axe_violations(page: Any) -> list[str]:
    """axe-core's violations of the page (the script ships inside axe-playwright-python)."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']}: {v['help']} ({', '.join(str(n['target']) for n in v['nodes'][:3])})"
        for v in results.response["violations"]
    ]


@pytest.mark.parametrize("language", list(LOCALES))
def test_axe_finds_nothing_on_the_serve_pages(
    languages_ws: Path, browser: Any, language: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "language-tests-secret-key-0123456789abcdef")
    sock = bind("127.0.0.1", 0)
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    publication = languages_ws / "newsletters" / "srs.yaml"
    text = publication.read_text(encoding="utf-8")
    publication.write_text(re.sub(r"(?m)^public_url: .*$", f"public_url: {base}", text), "utf-8")
    mails = MailCatcher()
    app = create_public_app(Workspace(languages_ws), mailer=mails)
    with Served(app, sock):
        # axe is injected with page.evaluate; the pages' CSP forbids scripts they did not bring
        context = browser.new_context(locale=LOCALES[language], bypass_csp=True)
        page = context.new_page()
        checked: dict[str, list[str]] = {}

        def check(name: str) -> None:
            assert page.get_attribute("html", "lang") == language, name
            checked[name] = axe_violations(page)

        page.goto(f"{base}/")
        check("archive (empty)")
        page.goto(f"{base}/subscribe")
        page.wait_for_selector(f"text={SUBSCRIBE[language]}")
        if language in ("sv", "en"):
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / f"subscribe-{language}.png"), full_page=True)
        check("subscribe")
        page.fill("#f-email", f"reader.{language}@example.no")
        page.check("#f-topic-nyhetsbrev")
        page.select_option("#f-language", language)
        page.check("#f-consent-box")
        page.click("button[type=submit]")
        page.wait_for_selector(f"text={CHECK_INBOX[language]}")
        check("check your inbox")
        (mail,) = mails.sent
        found = re.search(rf"{re.escape(base)}/confirm/\S+", mail.body)
        assert found, mail.body
        page.goto(found.group(0))
        check("confirm")
        page.click("button[type=submit]")
        page.wait_for_selector("a[href*='/preferences/']")
        check("confirmed")
        page.click("a[href*='/preferences/']")
        page.wait_for_selector("form")
        check("preferences")
        page.click("a[href*='/unsubscribe/']")
        page.wait_for_selector("button[type=submit]")
        check("unsubscribe")
        page.click("button[type=submit]")
        page.wait_for_load_state()
        check("unsubscribed")
        page.goto(f"{base}/no/such/page")
        check("not found")
        context.close()
    assert {name: found for name, found in checked.items() if found} == {}
    assert len(checked) == 9
