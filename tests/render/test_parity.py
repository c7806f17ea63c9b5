"""Content parity: every title, paragraph and link of the reference issue is in every edition."""

from __future__ import annotations

import re

import pytest
from tests.render.conftest import EDITIONS, Rendered, squash, visible_text, yaml_link_addresses

from nyhetsbrev.issue import markdown


def paragraphs(blocks: tuple[markdown.Paragraph | markdown.ListBlock, ...]) -> list[str]:
    """The words of every paragraph and list item, whitespace collapsed."""
    found: list[str] = []
    for block in blocks:
        if isinstance(block, markdown.Paragraph):
            found.append(squash(markdown.plain(block.children)))
        else:
            for item in block.items:
                found += paragraphs(item)
    return found


def words_of(rendered: Rendered, file: str) -> str:
    content = rendered.text(file)
    if file.endswith(".html"):
        return visible_text(content)
    return squash(re.sub(r" \[\d+\]", "", content))  # the text's link numbers


@pytest.mark.parametrize("file", EDITIONS)
def test_every_title_paragraph_and_link_is_in_each_edition(reference: Rendered, file: str) -> None:
    words = words_of(reference, file)
    raw = reference.text(file)
    missing: list[str] = []
    for section in reference.loaded.issue.sections:
        missing += [t for t in (section.title, section.subtitle) if t and squash(t) not in words]
        for article in section.articles:
            if squash(article.title) not in words:
                missing.append(f"title: {article.title}")
            for field in (article.body, article.after):
                for text in paragraphs(markdown.parse(field, reference.loaded.language)):
                    if text not in words:
                        missing.append(f"paragraph: {text[:70]}…")
            for event in article.events:
                if squash(event.title) not in words:
                    missing.append(f"event: {event.title}")
            for decision in article.decisions:
                if decision.title not in words:
                    missing.append(f"decision: {decision.title}")
    # The expected addresses come from the YAML itself, not from the code under test.
    urls = sorted(yaml_link_addresses(reference.loaded))
    assert {"https://hudoc.echr.coe.int", "mailto:KOM.pod@politiet.no"} <= set(urls)
    if file.endswith(".txt"):  # the text shows an email address itself, not "mailto:"
        urls = [url.removeprefix("mailto:") for url in urls]
    plain = raw.replace("&amp;", "&")
    missing += [f"url: {url}" for url in urls if url not in plain]
    assert not missing, f"{file} lacks:\n" + "\n".join(missing)


@pytest.mark.parametrize("file", EDITIONS)
def test_the_publications_recurring_texts_are_in_each_edition(
    reference: Rendered, file: str
) -> None:
    words = words_of(reference, file)
    pub = reference.loaded.publication
    for block in (pub.contact, pub.about, pub.contact_list):
        for text in paragraphs(markdown.parse(block.body, reference.loaded.language)):
            assert text in words, f"{file} lacks: {text}"
    closing = reference.loaded.issue.closing
    assert closing and closing in words
