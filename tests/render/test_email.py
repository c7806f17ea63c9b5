"""The email edition: structure, accessibility facts, size budget and the output checks."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from tests.render.conftest import Rendered, visible_text

from nyhetsbrev.errors import RenderError
from nyhetsbrev.render import email, placeholders
from nyhetsbrev.render.email import GMAIL_CLIP_BYTES, check_email, clip_warning, section_sizes

SIZE_AIM = 90 * 1024


def test_reference_email_stays_well_under_the_clip_limit(reference: Rendered) -> None:
    size = len(reference.files["email.html"])
    assert size < SIZE_AIM, f"{size} bytes: over the 90 KB aim (Gmail clips at {GMAIL_CLIP_BYTES})"
    assert clip_warning(reference.text("email.html"), reference.loaded) is None


def test_html_is_a_complete_document_in_the_issues_language(small: Rendered) -> None:
    html = small.text("email.html")
    assert html.lower().startswith("<!doctype html>")
    assert re.search(r'<html [^>]*lang="nb"', html)
    assert '<meta name="color-scheme" content="light dark">' in html
    assert '<meta name="supported-color-schemes" content="light dark">' in html
    assert "<title>Nyhetsbrev fra KOM – januar–mars 2025</title>" in html


def test_mrml_media_rules_keep_their_important_and_outlook_scaffolding_is_kept(
    small: Rendered,
) -> None:
    html = small.text("email.html")
    assert "@media only screen and (min-width:480px)" in html
    assert ".mj-column-per-100 { width:100% !important; max-width:100%; }" in html
    assert "<!--[if mso | IE]>" in html
    assert "prefers-color-scheme:dark" in html


def test_content_css_is_inlined_on_paragraphs_links_and_lists(small: Rendered) -> None:
    html = small.text("email.html")
    link = re.search(r'<a href="https://www\.politiet\.no/menneskehandel/veileder"[^>]*>', html)
    assert link and "color: #1a5a96" in link.group()
    assert re.search(r'<p style="margin: 0 0 12px;">', html)
    assert re.search(r'<ul style="[^"]*padding: 0 0 0 22px', html)


def test_headings_are_in_order_h1_then_h2_sections_then_h3_articles(small: Rendered) -> None:
    levels = [int(n) for n in re.findall(r"<h([1-6])\b", small.text("email.html"))]
    assert levels[0] == 1 and levels.count(1) == 1
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels))
    titles = re.findall(r"<h3[^>]*>([^<]*)</h3>", small.text("email.html"))
    assert titles == [a.title for s in small.loaded.issue.sections for a in s.articles]


def test_articles_of_a_section_share_one_mj_section(small: Rendered) -> None:
    source = email.render_mjml(small.loaded, small.theme).split("<mj-body", 1)[1]
    sections = small.loaded.issue.sections
    articles = sum(len(s.articles) for s in sections)
    # web link, masthead, contents, one per section, the contact box, the footer
    assert source.count("<mj-section") == 3 + len(sections) + 1 + 1
    # the same, plus one mj-text per section heading and one per article
    assert source.count("<mj-text") == 3 + len(sections) + articles + 1 + 1


def test_preheader_comes_first_followed_by_filler(small: Rendered) -> None:
    html = small.text("email.html")
    preview = re.search(r'<div class="preheader" style="([^"]*)">(.*?)</div>', html)
    assert preview is not None
    body = html.split("<body", 1)[1]
    before = body[body.index(">") + 1 : body.index('<div class="preheader"')]
    assert re.sub(r"<[^>]*>", "", before).strip() == ""  # the first text of the body
    # hidden without a colour trick (SpamAssassin scores white-on-white: HTML_FONT_LOW_CONTRAST)
    hiding = dict(rule.split(":", 1) for rule in preview.group(1).split(";") if rule)
    assert "color" not in hiding and hiding["display"] == "none"
    assert hiding["mso-hide"] == "all" and hiding["opacity"] == "0"
    preview = re.search(r'<div class="preheader" style="[^"]*">(.*?)</div>', html)
    assert preview is not None
    assert preview.group(1).startswith("Ny veileder, en dom fra EMD og et kurs i mai")
    assert preview.group(1).count("&nbsp;") >= 80


def test_image_has_absolute_url_alt_and_a_size_that_fits(small: Rendered) -> None:
    tags = re.findall(r"<img\b[^>]*>", small.text("email.html"))
    assert len(tags) == 1
    tag = tags[0]
    assert 'src="https://nyhetsbrev.kom.test/2025-q1/veileder.png"' in tag
    assert 'alt="Forsiden av veilederen, mørkeblå med et gult felt"' in tag
    assert 'width="240"' in tag and 'height="120"' in tag


def test_events_and_decisions_read_as_written(small: Rendered) -> None:
    words = visible_text(small.text("email.html"))
    assert "Grunnkurs om utnyttelse og menneskehandel (Arrangør: RVTS Øst)" in words
    assert "T.V. v. Spain (application no. 22512/21, 10.10.2024)" in words
    html = small.text("email.html")
    assert '<a href="https://hudoc.echr.coe.int/eng?i=001-236067"' in html
    # one layout for events in every edition: when (bold), a line break, then the title
    assert re.search(r"<strong[^>]*>15\.–16\. mai 2025, digitalt</strong><br>\s*<a ", html)
    assert re.search(r"<strong[^>]*>oppdatert veileder</strong>", html)


def test_footer_has_unsubscribe_placeholder_web_link_and_closing(small: Rendered) -> None:
    html = small.text("email.html")
    assert f'href="{placeholders.UNSUBSCRIBE_URL}"' in html
    assert 'href="https://nyhetsbrev.kom.test/2025-q1/"' in html
    words = visible_text(html)
    assert f'href="{placeholders.PREFERENCES_URL}"' in html  # the contact's own preferences page
    assert (
        "Du får denne e-posten fordi du står på kontaktlisten vår. Endre hva du får fra oss, "
        "eller meld deg av." in words
    )
    assert words.index("God vår!") > words.index("Ny dom fra EMD")


def test_contact_box_follows_the_section_that_asks_for_it(small: Rendered) -> None:
    words = visible_text(small.text("email.html"))
    box = words.index("Kontakt oss")
    assert words.index("Kurset er åpent") < box < words.index("Aktuelle internasjonale tiltak", box)


# --- the output checks ------------------------------------------------------------------


def _checked(small: Rendered, html: str) -> str:
    with pytest.raises(RenderError) as failure:
        check_email(html, small.loaded)
    return failure.value.message


def test_the_real_output_passes_its_checks(small: Rendered, reference: Rendered) -> None:
    check_email(small.text("email.html"), small.loaded)
    check_email(reference.text("email.html"), reference.loaded)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda h: h.replace(' alt="Forsiden', ' title="Forsiden'), "an image has no alt"),
        (lambda h: h.replace('lang="nb"', 'lang="und"', 1), '<html lang> is "und"'),
        (lambda h: h.replace("God vår!", "God v\x85r!"), "C1 control character U+0085"),
        (
            lambda h: h.replace("Ny dom fra EMD", "Ny dom"),
            "the title of sections[1].articles[0] is missing: 'Ny dom fra EMD'",
        ),
        (
            lambda h: h.replace("https://hudoc.echr.coe.int/eng?i=001-236067", "#"),
            "the link 'https://hudoc.echr.coe.int/eng?i=001-236067' is missing",
        ),
    ],
    ids=["alt", "lang", "c1", "title", "link"],
)
def test_output_checks_fail_with_a_clear_message(small: Rendered, change, expected) -> None:  # type: ignore[no-untyped-def]
    message = _checked(small, change(small.text("email.html")))
    assert expected in message
    assert "email.mjml.j2" in message and "nothing was written" in message


@pytest.mark.parametrize(
    "change",
    [
        lambda h: h.replace(
            ">Ny dom fra EMD<", "> Nytt: Ny dom fra EMD, i dag <"
        ),  # in a longer text
        lambda h: h.replace("Ny dom fra EMD", "Ny dom fra &#69;MD"),  # written as an entity
        lambda h: h.replace("Ny dom fra EMD", "Ny <b>dom</b> fra EMD"),  # split by a tag: lost
        lambda h: h.replace('href="https://hudoc', 'data-x="https://hudoc'),  # no href, still there
        lambda h: h.replace("https://hudoc.echr.coe.int/eng?i=001-236067", "#"),
    ],
    ids=["longer-text", "entity", "split", "not-an-href", "link-gone"],
)
def test_the_one_scan_finds_what_a_search_of_the_whole_text_finds(small: Rendered, change) -> None:  # type: ignore[no-untyped-def]
    """check_email scans the HTML once, not once per title and link; it must still find exactly
    what searching the whole unescaped output for each title and link finds."""
    import html as htmllib

    html = change(small.text("email.html"))
    text = htmllib.unescape(html)
    expected = [
        f"the title of {where} is missing: {title!r}"
        for where, title in email.article_titles(small.loaded)
        if title not in text
    ] + [
        f"the link {url!r} is missing"
        for url in email.issue_urls(small.loaded.issue, small.loaded.publication)
        if url not in text
    ]
    try:
        check_email(html, small.loaded)
        found: list[str] = []
    except RenderError as failure:
        found = [line[4:] for line in failure.message.splitlines() if line.startswith("  - ")]
    assert found == expected


def test_content_lost_on_the_way_to_html_is_caught(small: Rendered, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """An article that does not reach the HTML (dropped by MRML or a template slip) fails."""
    compile_real = email.compile_mjml

    def losing(source: str, theme):  # type: ignore[no-untyped-def]
        lost = re.sub(r"<mj-text><h3>Ny dom fra EMD.*?</mj-text>", "", source, flags=re.S)
        assert lost != source
        return compile_real(lost, theme)

    monkeypatch.setattr(email, "compile_mjml", losing)
    with pytest.raises(RenderError) as failure:
        email.render_email(small.loaded, small.theme)
    assert "the title of sections[1].articles[0] is missing: 'Ny dom fra EMD'" in str(failure.value)
    assert "the link 'https://hudoc.echr.coe.int/eng?i=001-236067' is missing" in str(failure.value)


def test_mjml_that_does_not_compile_is_a_render_error(small: Rendered) -> None:
    with pytest.raises(RenderError, match="the generated MJML does not compile"):
        email.compile_mjml(
            "<mjml><mj-body><mj-section><mj-column><mj-divider>x</mj-divider>"
            "</mj-column></mj-section></mj-body></mjml>",
            small.theme,
        )


def test_over_the_clip_limit_names_size_limit_and_biggest_sections(
    reference: Rendered, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(email, "GMAIL_CLIP_BYTES", 20 * 1024)
    warning = clip_warning(reference.text("email.html"), reference.loaded)
    assert warning is not None
    size = len(reference.files["email.html"]) / 1024
    assert f"is {size:.1f} KB, over Gmail's clip limit of 20.0 KB" in warning
    biggest = max(section_sizes(reference.text("email.html"), reference.loaded), key=lambda x: x[1])
    assert f"Biggest sections: {biggest[0]} (" in warning


def test_section_sizes_cover_every_section(reference: Rendered) -> None:
    sizes = section_sizes(reference.text("email.html"), reference.loaded)
    assert [t for t, _ in sizes] == [s.title for s in reference.loaded.issue.sections]
    assert all(size > 0 for _, size in sizes)


def test_without_a_marked_section_every_edition_ends_the_last_section_with_the_box(
    small_workspace: Path,
) -> None:
    from tests.render.conftest import rendered

    issue = small_workspace / "newsletters" / "2025-q1" / "issue.yaml"
    issue.write_text(issue.read_text("utf-8").replace("    contact_box: true\n", ""), "utf-8")
    out = rendered(small_workspace, "2025-q1")
    html_words = visible_text(out.text("email.html"))
    web_words = visible_text(out.text("index.html"))
    text = out.text("email.txt")
    for words in (html_words, web_words, text):
        assert words.count("For innspill eller spørsmål") == 1
    for words in (html_words, text):  # after the last section's articles, before the about text
        box = words.index("For innspill eller spørsmål")
        assert words.index("Ny dom fra EMD") < box < words.index("KOM skal")
