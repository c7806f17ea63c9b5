"""Typography per language in every edition: quotation marks, apostrophes, dashes, ellipses."""

from __future__ import annotations

import dataclasses

import pytest
from tests.render.conftest import Rendered, visible_text

from nyhetsbrev.issue.typography import typeset
from nyhetsbrev.render.email import render_email
from nyhetsbrev.render.pdf import typst_source
from nyhetsbrev.render.text import render_text
from nyhetsbrev.render.web import render_web

TITLE = "Rapport \"Ut av 'mørket'\" -- 2023-2024"
BODY = 'KOM\'s nye veileder, "for alle" -- les den ... og 21.-23. oktober, sak TTRO-2024-127230.'
EXPECTED = {
    "nb": ("Rapport «Ut av ‹mørket›» – 2023–2024", "KOM’s nye veileder, «for alle» – les den …"),
    "nn": ("Rapport «Ut av ‹mørket›» – 2023–2024", "KOM’s nye veileder, «for alle» – les den …"),
    "sv": ("Rapport ”Ut av ’mørket’” – 2023–2024", "KOM’s nye veileder, ”for alle” – les den …"),
    "en": ("Rapport “Ut av ‘mørket’” – 2023–2024", "KOM’s nye veileder, “for alle” – les den …"),
}


def with_text(rendered: Rendered, language: str) -> Rendered:
    issue = rendered.loaded.issue
    section = issue.sections[0]
    article = section.articles[0].model_copy(update={"title": TITLE, "body": BODY})
    section = section.model_copy(update={"articles": [article, *section.articles[1:]]})
    issue = issue.model_copy(
        update={"language": language, "sections": [section, *issue.sections[1:]]}
    )
    return dataclasses.replace(rendered, loaded=dataclasses.replace(rendered.loaded, issue=issue))


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_every_edition_sets_the_languages_typography(small: Rendered, language: str) -> None:
    other = with_text(small, language)
    title, body = EXPECTED[language]
    editions = {
        "email": visible_text(render_email(other.loaded, other.theme).html),
        "text": " ".join(render_text(other.loaded, other.theme).split()),
        "web": visible_text(render_web(other.loaded, other.theme)),
        "pdf": typst_source(other.loaded, other.theme),
    }
    for name, output in editions.items():
        assert title in output, name
        assert body in output, name
        assert "21.–23. oktober" in output and "TTRO-2024-127230" in output, name
        assert '"for alle"' not in output and " -- " not in output, name


def test_legal_references_and_plain_text_stay_as_written() -> None:
    assert typeset("straffeloven § 257 (c) og (r)", "nb") == "straffeloven § 257 (c) og (r)"
    assert typeset("2024-10-21 og TTRO-2024-127230", "nb") == "2024-10-21 og TTRO-2024-127230"
    assert typeset("oktober-desember", "nb") == "oktober–desember"
    assert typeset("July-September", "en") == "July–September"
    assert typeset("Ingen tegn her", "sv") == "Ingen tegn her"
