"""A Swedish publication in its own look, in a real browser (Debian's chromium via Playwright)
and as PDF pages (pdftoppm): the brand colour and the logo in the email, the web edition, the
subscribe page and the PDF. Screenshots go to tests/artifacts/look/ for a person to look at."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nyhetsbrev.web.public import create_public_app
from nyhetsbrev.workspace import Workspace
from tests.conftest import CHROMIUM_ARGS, REPO, CliCaller, require_tool
from tests.publications.look import GOLD, NAME, PLUM, make_branded
from tests.web.conftest import MailCatcher, Served

pytestmark = pytest.mark.browser
ARTIFACTS = REPO / "tests" / "artifacts" / "look"
PLUM_RGB = f"rgb({int(PLUM[1:3], 16)}, {int(PLUM[3:5], 16)}, {int(PLUM[5:7], 16)})"

# The logo's state and the background colour behind it (the first opaque one).
LOGO_JS = """
() => {
  const img = document.querySelector('img.logo');
  if (!img) return null;
  let bg = null;
  for (let node = img; node && node.nodeType === 1; node = node.parentElement) {
    const c = getComputedStyle(node).backgroundColor;
    if (c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c)) { bg = c; break; }
  }
  return {alt: img.alt, natural: img.naturalWidth, shown: img.getBoundingClientRect().width,
          complete: img.complete, bg: bg};
}
"""


@pytest.fixture(scope="module")
def branded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    saved = {k: os.environ.get(k) for k in ("NYHETSBREV_TODAY", "SOURCE_DATE_EPOCH")}
    os.environ.update(NYHETSBREV_TODAY="2026-05-02", SOURCE_DATE_EPOCH="1735000000")
    try:
        root = make_branded(tmp_path_factory.mktemp("look"), CliCaller())
        built = CliCaller()("--root", str(root), "build", "2026-q2")
        assert built.exit_code == 0, built.output
        yield root
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    chromium_path = require_tool(os.environ.get("NYHETSBREV_CHROMIUM", "chromium"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def gold_pixels(png: Path) -> int:
    """How many pixels of a screenshot or PDF page are the logo's gold."""
    from PIL import Image

    with Image.open(png) as image:
        data = image.convert("RGB").tobytes()
    return sum(
        1 for i in range(0, len(data), 3) if all(abs(data[i + k] - GOLD[k]) <= 12 for k in range(3))
    )


def shoot(page: Any, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / name
    page.screenshot(path=str(shot), full_page=True)
    return shot


def assert_branded(page: Any, shot: Path, what: str) -> None:
    logo = page.evaluate(LOGO_JS)
    assert logo is not None, f"{what}: no logo"
    assert logo["complete"] and logo["natural"] > 0, f"{what}: the logo did not load: {logo}"
    assert logo["alt"] == NAME and round(logo["shown"]) == 200, logo
    assert logo["bg"] == PLUM_RGB, f"{what}: the logo sits on {logo['bg']}, not the brand's"
    assert gold_pixels(shot) > 500, f"{what}: the logo is not visible in {shot}"


def test_email_shows_the_brand_and_the_logo_from_public_url(browser: Any, branded: Path) -> None:
    folder = branded / "build/2026-q2"
    page = browser.new_page(viewport={"width": 640, "height": 900})
    asked: list[str] = []

    def route(route: Any) -> None:
        url = route.request.url
        if url.startswith("https://nyhetsbrev.example.org/2026-q2/"):
            asked.append(url)  # as `nyhetsbrev serve` answers it: the built file
            name = url.rsplit("/", 1)[1]
            route.fulfill(path=str(folder / name), content_type="image/png")
        elif url.startswith("http"):
            route.abort()
        else:
            route.continue_()

    page.route("**/*", route)
    try:
        page.goto((folder / "email.html").as_uri())
        page.wait_for_load_state("networkidle")
        shot = shoot(page, "email-640.png")
        assert asked == ["https://nyhetsbrev.example.org/2026-q2/brand-logo.png"]
        assert_branded(page, shot, "email")
        heading = page.evaluate("getComputedStyle(document.querySelector('h2')).color")
        assert heading == PLUM_RGB
    finally:
        page.close()


def test_web_edition_shows_the_brand_and_the_logo(browser: Any, branded: Path) -> None:
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.route("**/*", lambda r: r.abort() if r.request.url.startswith("http") else r.continue_())
    try:
        page.goto((branded / "build/2026-q2/index.html").as_uri())
        shot = shoot(page, "web-1000.png")
        assert_branded(page, shot, "web edition")
        masthead = page.evaluate(
            "getComputedStyle(document.querySelector('.masthead')).backgroundColor"
        )
        assert masthead == PLUM_RGB
    finally:
        page.close()


def test_subscribe_page_shows_the_brand_and_the_logo(
    browser: Any, branded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "look-tests-secret-key-0123456789abcdef")
    app = create_public_app(
        Workspace(branded),
        mailer=MailCatcher(),
        database_url=f"sqlite:///{branded / 'contacts/contacts.sqlite'}",
    )
    with Served(app) as served:
        page = browser.new_page(viewport={"width": 1000, "height": 900})
        try:
            page.goto(f"{served.url}/subscribe")
            shot = shoot(page, "subscribe-1000.png")
            assert_branded(page, shot, "subscribe page")
            masthead = page.evaluate(
                "getComputedStyle(document.querySelector('.masthead')).backgroundColor"
            )
            assert masthead == PLUM_RGB
        finally:
            page.close()


def test_pdf_pages_show_the_brand_and_the_logo(branded: Path) -> None:
    from PIL import Image

    pdftoppm = require_tool("pdftoppm")
    (pdf,) = (branded / "build/2026-q2").glob("*.pdf")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    prefix = ARTIFACTS / "pdf"
    subprocess.run(
        [pdftoppm, "-r", "60", "-f", "1", "-l", "2", "-png", str(pdf), str(prefix)], check=True
    )
    cover = sorted(ARTIFACTS.glob("pdf-*.png"))[0]
    with Image.open(cover) as image:
        rgb = image.convert("RGB")
        band = rgb.getpixel((rgb.width // 2, rgb.height // 10))
    assert band == tuple(int(PLUM[i : i + 2], 16) for i in (1, 3, 5)), band
    assert gold_pixels(cover) > 300, f"the logo is not on the cover ({cover})"
