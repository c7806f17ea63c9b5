"""A real browser (Debian's chromium through Playwright): no sideways scrolling, enough contrast.

Screenshots go to tests/artifacts/ (git-ignored) for a person to look at.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import CHROMIUM_ARGS, require_tool
from tests.render.conftest import ARTIFACTS, Rendered

pytestmark = pytest.mark.browser

AA_TEXT = 4.5

# The colours an element shows: its own colour, and the first opaque background behind it.
COLOURS_JS = """
(selector) => {
  const found = [];
  for (const el of document.querySelectorAll(selector)) {
    if (!el.textContent.trim() || el.getClientRects().length === 0) continue;
    let bg = null;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const c = getComputedStyle(node).backgroundColor;
      if (c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c)) { bg = c; break; }
      const attr = node.getAttribute('bgcolor');
      if (attr) { bg = attr; break; }
    }
    found.push({text: el.textContent.trim().slice(0, 40), fg: getComputedStyle(el).color,
                bg: bg || 'rgb(255, 255, 255)'});
  }
  return found;
}
"""
SAMPLES = {
    "body text": "h3 + p, article > p, [role=article] td p",
    "links": "main a, footer a, [role=article] td a",
    "headings": "h2, h3",
    "masthead": "h1, .pub, .per, .aud, .publisher, .period, .audience",
    "footer": "footer p, .ft ~ p",
}


def _rgb(colour: str) -> tuple[float, float, float]:
    if colour.startswith("#"):
        return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))  # type: ignore[return-value]
    parts = colour[colour.index("(") + 1 : colour.index(")")].split(",")
    return float(parts[0]), float(parts[1]), float(parts[2])


def contrast(fg: str, bg: str) -> float:
    """WCAG 2.1 contrast ratio of two CSS colours."""

    def luminance(colour: str) -> float:
        def channel(value: float) -> float:
            c = value / 255
            return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

        r, g, b = (channel(v) for v in _rgb(colour))
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(fg), luminance(bg)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_contrast_formula_matches_known_values() -> None:
    assert round(contrast("#000000", "#ffffff"), 1) == 21.0
    assert round(contrast("rgb(118, 118, 118)", "#ffffff"), 2) == 4.54


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """One chromium for the module (the `chromium_path` fixture's tool, found the same way)."""
    from playwright.sync_api import sync_playwright

    chromium_path = require_tool(os.environ.get("NYHETSBREV_CHROMIUM", "chromium"))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The reference issue's files written to a folder, as build/2024-q4/ would hold them."""
    from tests.conftest import REPO
    from tests.render.conftest import rendered

    folder = tmp_path_factory.mktemp("browser") / "2024-q4"
    folder.mkdir()
    for name, data in rendered(REPO, "2024-q4").files.items():
        (folder / name).write_bytes(data)
    return folder


def _open(browser: Any, path: Path, width: int, scheme: str = "light") -> Any:
    page = browser.new_page(viewport={"width": width, "height": 800}, color_scheme=scheme)
    page.route(
        "**/*",
        lambda route: route.abort() if route.request.url.startswith("http") else route.continue_(),
    )
    page.goto(path.as_uri())
    return page


@pytest.mark.parametrize(
    ("file", "width", "scheme"),
    [
        ("email.html", 375, "light"),
        ("email.html", 640, "light"),
        ("email.html", 375, "dark"),
        ("index.html", 375, "light"),
        ("index.html", 375, "dark"),
        ("index.html", 640, "dark"),
    ],
)
def test_fits_the_screen_and_has_readable_contrast(
    browser: Any, built: Path, file: str, width: int, scheme: str
) -> None:
    page = _open(browser, built / file, width, scheme)
    try:
        scroll, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shot = ARTIFACTS / f"{file.replace('.', '-')}-{width}-{scheme}.png"
        page.screenshot(path=str(shot), full_page=True)
        assert scroll <= inner, f"{file} scrolls sideways at {width} px ({scroll} > {inner})"
        ground = page.evaluate("getComputedStyle(document.body).backgroundColor")
        if file == "index.html":  # the web edition follows the reader's colour scheme
            dark = contrast(ground, "#000000") < contrast(ground, "#ffffff")
            assert dark == (scheme == "dark"), f"{file} ({scheme}) has a {ground} background"
        low = []
        for kind, selector in SAMPLES.items():
            samples = page.evaluate(COLOURS_JS, selector)
            if kind in ("body text", "links", "headings"):
                assert samples, f"no {kind} found in {file} ({selector})"
            for sample in samples:
                ratio = contrast(sample["fg"], sample["bg"])
                if ratio < AA_TEXT:
                    low.append(
                        f"{kind} {sample['text']!r}: {sample['fg']} on {sample['bg']} = {ratio:.2f}"
                    )
        assert not low, f"{file} at {width} px ({scheme}) under 4.5:1:\n" + "\n".join(low[:10])
    finally:
        page.close()


def test_small_issue_image_fits_at_375(browser: Any, small: Rendered, tmp_path: Path) -> None:
    for name, data in small.files.items():
        (tmp_path / name).write_bytes(data)
    page = _open(browser, tmp_path / "index.html", 375)
    try:
        width = page.evaluate("document.querySelector('main img').getBoundingClientRect().width")
        natural = page.evaluate("document.querySelector('main img').naturalWidth")
        assert natural == 240 and 0 < width <= 375 - 2 * 20
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.keyboard.press("Tab")
        focused = page.evaluate(
            "[document.activeElement.className, getComputedStyle(document.activeElement).top]"
        )
        assert focused[0] == "skip" and focused[1] != "-80px", "the skip link shows on focus"
    finally:
        page.close()
