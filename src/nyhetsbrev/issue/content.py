"""Walks of the content model: its Markdown texts, the links in them, every link address."""

from __future__ import annotations

from typing import Any

from nyhetsbrev.issue import markdown
from nyhetsbrev.issue.model import Issue, Publication
from nyhetsbrev.issue.yamlsource import FieldPath, SourceMap


def markdown_fields(issue: Issue) -> list[tuple[FieldPath, str]]:
    """Every Markdown text of an issue with its field path."""
    out: list[tuple[FieldPath, str]] = []
    for s, section in enumerate(issue.sections):
        for a, article in enumerate(section.articles):
            base: FieldPath = ("sections", s, "articles", a)
            out.append(((*base, "body"), article.body))
            for e, event in enumerate(article.events):
                if event.description:
                    out.append(((*base, "events", e, "description"), event.description))
            out.append(((*base, "after"), article.after))
    return [(path, text) for path, text in out if text]


def markdown_links(
    issue: Issue, source: SourceMap
) -> list[tuple[tuple[FieldPath, str], int, int, str]]:
    """Every link in the issue's Markdown: ((field path, link text), line, col, href)."""
    found = []
    for path, text in markdown_fields(issue):
        info = source.scalars.get(path)
        used: set[tuple[int, int]] = set()
        for link, block_line in markdown.links(markdown.parse(text)):
            line, col = _link_position(source, info, block_line, link, used)
            used.add((line, col))
            found.append(((path, link.text), line, col, link.href))
    return found


def markdown_languages(issue: Issue, source: SourceMap) -> list[tuple[FieldPath, str, int, int]]:
    """Every `{lang=CODE}` in the issue's Markdown: (field path, CODE, line, col of the mark)."""
    found = []
    for path, text in markdown_fields(issue):
        found += languages_in(path, text, source)
    return found


def languages_in(
    path: FieldPath, text: str, source: SourceMap
) -> list[tuple[FieldPath, str, int, int]]:
    """Every `{lang=CODE}` in one Markdown text at `path`, with where it is written."""
    info = source.scalars.get(path)
    used: set[tuple[int, int]] = set()
    found = []
    for code, block_line in markdown.languages(markdown.parse(text)):
        line, col = _position(source, info, block_line, f"{{lang={code}}}", used)
        used.add((line, col))
        found.append((path, code, line, col))
    return found


def _link_position(
    source: SourceMap, info: Any, block_line: int, link: markdown.Link, used: set[tuple[int, int]]
) -> tuple[int, int]:
    return _position(source, info, block_line, f"[{link.text}", used)


def _position(
    source: SourceMap, info: Any, block_line: int, needle: str, used: set[tuple[int, int]]
) -> tuple[int, int]:
    """Where `needle` is written, searching from the block's line (not a place already used)."""
    if info is None:
        return 1, 1
    # a `|` block's text starts on the line after `body: |`
    first = info.start.line + 1 if info.style == "|" else info.start.line
    for offset in range(block_line, min(block_line + 40, len(source.lines))):
        number = first + offset
        if 0 < number <= len(source.lines):
            col = source.lines[number - 1].find(needle)
            while col >= 0 and (number, col + 1) in used:
                col = source.lines[number - 1].find(needle, col + 1)
            if col >= 0:
                return number, col + 1
    return first + block_line, info.start.col


def issue_urls(issue: Issue, publication: Publication) -> list[str]:
    """Every real link address of the issue and of the publication's recurring texts, once each
    (dead ones, "#", lead nowhere: the editions show them as plain text)."""
    urls: list[str] = []
    texts = [text for _, text in markdown_fields(issue)]
    texts += [publication.contact.body, publication.about.body, publication.contact_list.body]
    for text in texts:
        urls += [link.href for link, _ in markdown.links(markdown.parse(text))]
    for section in issue.sections:
        for article in section.articles:
            urls += [event.url for event in article.events if event.url]
            urls += [decision.url for decision in article.decisions if decision.url]
    return [url for url in dict.fromkeys(urls) if not markdown.is_dead_link(url)]
