"""The brand in one place: its colours and logo reach every edition; `check` checks them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from nyhetsbrev.brand import (
    PACKAGED_BRAND,
    contrast_ratio,
    load_brand,
    png_size,
    read_brand,
)
from tests.publications.look import NAME, PLUM, logo_png, make_branded


def test_contrast_matches_wcag_reference_values() -> None:
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert round(contrast_ratio("#767676", "#ffffff"), 2) == 4.54  # the lightest AA grey
    assert round(contrast_ratio("#777777", "#fff"), 2) == 4.48  # just below


def test_koms_brand_passes_and_has_one_accent() -> None:
    brand, findings = read_brand(PACKAGED_BRAND, "brand.yaml")
    assert findings == []
    assert brand is not None and brand.colours["accent"] == "#e0a526"
    assert brand.logo.svg is None and brand.logo.png is None  # the text wordmark


def test_png_size_reads_the_header() -> None:
    assert png_size(logo_png()) == (400, 100)
    assert png_size(b"GIF89a" + bytes(30)) is None


@pytest.fixture
def branded(tmp_path: Path, cli, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NYHETSBREV_TODAY", "2026-05-02")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735000000")
    monkeypatch.delenv("NYHETSBREV_ROOT", raising=False)
    return make_branded(tmp_path, cli)


def test_the_brand_reaches_email_web_and_pdf(branded: Path, cli) -> None:
    check = cli("--root", str(branded), "check", "2026-q2")
    assert check.exit_code == 0 and "0 errors" in check.output, check.output
    built = cli("--root", str(branded), "build", "2026-q2", "--keep-intermediate")
    assert built.exit_code == 0, built.output
    folder = branded / "build/2026-q2"
    email = (folder / "email.html").read_text("utf-8")
    web = (folder / "index.html").read_text("utf-8")
    typ = next(folder.glob("*.typ")).read_text("utf-8")
    assert PLUM in email and "#1b3a5c" not in email
    assert f"--primary:{PLUM}" in web and "#1b3a5c" not in web
    assert f'rgb("{PLUM}")' in typ and "#1b3a5c" not in typ
    # The email's logo: a PNG from public_url, the same for every reader, sized, with alt text.
    tag = re.search(r'<img class="logo"[^>]*>', email)
    assert tag, email[:3000]
    attrs = dict(re.findall(r'(\w+)="([^"]*)"', tag.group(0)))
    assert attrs["src"] == "https://nyhetsbrev.example.org/2026-q2/brand-logo.png"
    assert (attrs["width"], attrs["height"], attrs["alt"]) == ("200", "50", NAME)
    assert (folder / "brand-logo.png").read_bytes() == logo_png()
    # The web edition's and the PDF's: the SVG (in the page itself; as vectors in the PDF).
    assert re.search(
        r'<img class="logo" src="data:image/svg\+xml;base64,[^"]+" width="200" alt="', web
    )
    assert 'image(bytes("<svg' in typ and f'alt: "{NAME}"' in typ


def test_a_pale_colour_is_told_at_its_place(branded: Path, cli) -> None:
    path = branded / "templates/lans/brand.yaml"
    text = path.read_text("utf-8").replace('link: "#1a5a96"', 'link: "#8fb8de"')
    path.write_text(text, encoding="utf-8")
    line = next(n for n, s in enumerate(text.splitlines(), 1) if s.startswith("  link:"))
    result = cli("--root", str(branded), "check", "2026-q2")
    assert (
        f"templates/lans/brand.yaml:{line}:9: warning: colours.link: link (#8fb8de) on "
        "background (#ffffff) has a contrast of 2.08:1" in result.output
    ), result.output
    assert "below WCAG AA's 4.5:1" in result.output


def test_a_broken_brand_is_an_error_and_nothing_is_built(branded: Path, cli) -> None:
    path = branded / "templates/lans/brand.yaml"
    text = path.read_text("utf-8")
    text = text.replace(f'primary: "{PLUM}"', "primary: plum").replace(
        "png: logo.png", "png: x.png"
    )
    path.write_text(text, encoding="utf-8")
    result = cli("--root", str(branded), "check", "2026-q2")
    assert result.exit_code == 1
    assert "colours.primary: 'plum' is not a colour" in result.output
    assert "logo.png: x.png does not exist next to brand.yaml" in result.output
    build = cli("--root", str(branded), "build", "2026-q2")
    assert build.exit_code == 1
    assert not (branded / "build/2026-q2").exists()


def test_logo_files_are_checked(branded: Path) -> None:
    theme = branded / "templates/lans"
    (theme / "logo.png").write_bytes(b"<svg/>")
    (theme / "logo.svg").write_bytes(logo_png())
    _, findings = read_brand(theme / "brand.yaml", "brand.yaml")
    messages = [f.message for f in findings]
    assert "logo.svg is not an SVG image" in messages
    assert "logo.png is not a PNG image" in messages
    from PIL import Image

    Image.new("RGB", (300, 75)).save(theme / "logo.png")
    (theme / "logo.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", "utf-8")
    _, findings = read_brand(theme / "brand.yaml", "brand.yaml")
    assert [f.level for f in findings] == ["warning"]
    assert "at least 400 pixels wide" in findings[0].message
    assert load_brand(theme).logo.png_height == 50
