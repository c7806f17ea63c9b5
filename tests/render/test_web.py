"""The web edition and the archive page: semantic HTML5, the PDF link, the order of issues."""

from __future__ import annotations

import itertools
import re

from tests.render.conftest import Rendered

from nyhetsbrev.render.web import ArchiveEntry, render_archive, render_web


def test_landmarks_skip_link_and_language(small: Rendered) -> None:
    html = small.text("index.html")
    assert html.startswith('<!doctype html>\n<html lang="nb">')
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert '<a class="skip" href="#innhold">Hopp til innholdet</a>' in html
    for tag in ("<header", "<nav", '<main id="innhold"', "<article>", "<footer>", "<aside"):
        assert tag in html, tag
    assert "<table" not in html and "<script" not in html and "<link" not in html


def test_heading_hierarchy_and_section_anchors(small: Rendered) -> None:
    html = small.text("index.html")
    levels = [int(n) for n in re.findall(r"<h([1-6])\b", html)]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    assert '<li><a href="#s2">Aktuelle internasjonale tiltak</a></li>' in html
    assert '<section aria-labelledby="s2">\n<h2 id="s2">Aktuelle internasjonale tiltak</h2>' in html


def test_images_are_relative_with_alt_and_size(small: Rendered) -> None:
    html = small.text("index.html")
    assert (
        '<img src="veileder.png" alt="Forsiden av veilederen, mørkeblå med et gult felt" '
        'width="240" height="120">' in html
    )
    assert small.files["veileder.png"].startswith(b"\x89PNG")


def test_print_styles_and_focus_styles_are_present(small: Rendered) -> None:
    html = small.text("index.html")
    assert "@media print{" in html and ":focus-visible{" in html


def test_pdf_link_only_when_a_pdf_is_given(small: Rendered) -> None:
    without = render_web(small.loaded, small.theme, pdf_name=None)
    assert "PDF" not in without and '.pdf"' not in without
    name = "kom-nyhetsbrev-2025-q1.pdf"
    html = render_web(small.loaded, small.theme, pdf_name=name)
    assert f'<p class="pdf"><a href="{name}">Last ned nyhetsbrevet som PDF</a></p>' in html


def test_archive_lists_newest_first_with_period_labels(small: Rendered) -> None:
    entries = [
        ArchiveEntry("2024-q4", "Nyhetsbrev fra KOM", "oktober–desember 2024", "nb"),
        ArchiveEntry("2025-q1", "Nyhetsbrev fra KOM", "januar–mars 2025", "nb", "x.pdf"),
        ArchiveEntry("2024-q3", "Newsletter from KOM", "July–September 2024", "en"),
    ]
    html = render_archive(small.loaded, small.theme, entries)
    links = re.findall(r'<a href="([^"]+)">([^<]+)</a>', html)
    assert links[:7] == [
        ("2025-q1/index.html", "januar–mars 2025"),
        ("2025-q1/index.html", "Les på nett"),
        ("2025-q1/x.pdf", "PDF"),
        ("2024-q4/index.html", "oktober–desember 2024"),
        ("2024-q4/index.html", "Les på nett"),
        ("2024-q3/index.html", "July–September 2024"),
        ("2024-q3/index.html", "Les på nett"),
    ]
    assert links[-2:] == [
        ("subscribe", "Meld deg på nyhetsbrevet"),
        ("feed.xml", "Nyhetsstrøm (Atom)"),
    ]
    assert (
        '<li lang="en">' in html and "<title>Nyhetsbrev fra KOM – Alle nyhetsbrev</title>" in html
    )
