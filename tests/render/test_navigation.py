"""Ways around and out of an issue: linked contents, "back to top", the footer's links out, the
archive as an index, and no link that goes nowhere (issue 13)."""

from __future__ import annotations

import dataclasses
import re

import pytest
from tests.render.conftest import Rendered, visible_text

from nyhetsbrev.issue.content import markdown_links
from nyhetsbrev.render.email import render_email
from nyhetsbrev.render.web import ArchiveEntry, render_archive, render_web

BACK_TO_TOP = {"nb": "Til toppen", "nn": "Til toppen", "en": "Back to top", "sv": "Till toppen"}


def in_language(rendered: Rendered, language: str) -> Rendered:
    issue = rendered.loaded.issue.model_copy(update={"language": language})
    return dataclasses.replace(rendered, loaded=dataclasses.replace(rendered.loaded, issue=issue))


def test_every_contents_entry_of_the_email_links_to_its_section(reference: Rendered) -> None:
    html = reference.text("email.html")
    sections = reference.loaded.issue.sections
    targets = re.findall(r'<li[^>]*><a href="#(s\d+)"', html)
    assert targets == [f"s{n}" for n in range(1, len(sections) + 1)]
    for target, section in zip(targets, sections, strict=True):
        heading = re.search(rf'<h2 id="{target}"[^>]*>([^<]*)</h2>', html)
        assert heading is not None and heading.group(1) == section.title


def test_long_web_sections_end_with_a_link_back_to_the_top(reference: Rendered) -> None:
    html = reference.text("index.html")
    assert '<header class="masthead" id="top">' in html
    long = [s for s in reference.loaded.issue.sections if len(s.articles) >= 3]
    assert long, "the reference issue has long sections"
    assert html.count('<p class="top"><a href="#top">Til toppen</a></p>') == len(long)


@pytest.mark.parametrize("language", sorted(BACK_TO_TOP))
def test_back_to_top_and_links_out_are_in_the_issue_language(
    reference: Rendered, language: str
) -> None:
    other = in_language(reference, language)
    html = render_web(other.loaded, other.theme, pdf_name="x.pdf")
    assert f'<a href="#top">{BACK_TO_TOP[language]}</a>' in html
    labels = other.theme.labels(language)
    assert f'<a href="../subscribe">{labels["subscribe"]}</a>' in html
    assert f'<a href="../feed.xml">{labels["feed"]}</a>' in html
    assert f'<a href="../index.html">{labels["archive"]}</a>' in html
    assert len({labels["subscribe"], labels["feed"], labels["back_to_top"]}) == 3


def test_email_footer_links_to_the_web_and_pdf_editions(small: Rendered) -> None:
    html = render_email(small.loaded, small.theme).html
    footer = html[html.rindex("meld deg av") :]
    assert '<a href="https://nyhetsbrev.kom.test/2025-q1/"' in footer
    assert (
        '<a href="https://nyhetsbrev.kom.test/2025-q1/kom-nyhetsbrev-2025-q1.pdf"' in footer
        and "Last ned nyhetsbrevet som PDF</a>" in footer
    )


def test_archive_is_an_index_with_period_summary_and_both_editions(small: Rendered) -> None:
    entries = [
        ArchiveEntry("2025-q1", "Nyhetsbrev fra KOM", "januar–mars 2025", "nb", "x.pdf", "Om <b>"),
        ArchiveEntry("2024-q3", "Newsletter from KOM", "July–September 2024", "en"),
    ]
    html = render_archive(small.loaded, small.theme, entries)
    first = html[html.index('<ul class="issues">') : html.index("</li>")]
    assert '<h2><a href="2025-q1/index.html">januar–mars 2025</a></h2>' in first
    assert "<p>Om &lt;b&gt;</p>" in first  # the preheader, escaped
    assert '<a href="2025-q1/x.pdf">PDF</a>' in first
    assert '<p class="get" lang="nb">' in html  # the nb labels inside the en entry
    assert '<link rel="alternate" type="application/atom+xml" href="feed.xml"' in html


def test_dead_links_are_plain_text_in_every_edition(reference: Rendered) -> None:
    """The reference issue's "her" links and event titles without an address ("#") lead
    nowhere: no edition makes them links (the PDF's own test checks its annotations)."""
    dead = [href for *_, href in markdown_links(reference.loaded.issue, reference.loaded.source)]
    assert dead.count("#") >= 20
    for name in ("email.html", "index.html"):
        html = reference.text(name)
        assert not re.search(r"""href\s*=\s*["']\s*#?\s*["']""", html), name
    text = reference.text("email.txt")
    assert not re.search(r"^\[\d+\] #$", text, re.M)
    assert "se her." in visible_text(reference.text("email.html"))
