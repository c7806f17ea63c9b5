"""Cross-references that cannot be right: page numbers in the text ("se side 2").

Pages exist only in the PDF, and there the page a text lands on moves with every edit; in the
email and the web edition a page number means nothing. `check` warns and suggests naming the
section instead.
"""

from __future__ import annotations

import re

from nyhetsbrev.issue.content import markdown_fields
from nyhetsbrev.issue.findings import Finding
from nyhetsbrev.issue.model import Issue
from nyhetsbrev.issue.yamlsource import FieldPath, SourceMap, dotted

# nb/nn "side 2", sv "sida 2"/"sidan 2", en "page 2"/"p. 2", and "s. 2" (nb, nn, sv).
PAGE_REFERENCE = re.compile(
    r"(?<![\w.])(?:side|sida|sidan|sidene|page|pages|p\.|s\.)\s*\d+\b", re.I
)


def page_references(issue: Issue, source: SourceMap) -> list[Finding]:
    """A warning at each page reference in the issue's Markdown texts and titles."""
    texts: list[tuple[FieldPath, str]] = list(markdown_fields(issue))
    for s, section in enumerate(issue.sections):
        for a, article in enumerate(section.articles):
            texts.append((("sections", s, "articles", a, "title"), article.title))
    found = []
    for path, text in texts:
        for match in PAGE_REFERENCE.finditer(text):
            line, col = _locate(source, path, match.group())
            found.append(
                Finding(
                    source.file,
                    line,
                    col,
                    "warning",
                    f'"{match.group()}" refers to a page, but pages differ between the PDF, '
                    "the email and the web edition: name the section instead "
                    '(e.g. "under «KOMs hovedaktiviteter»")',
                    dotted(path),
                    "page-reference",
                )
            )
    return found


def _locate(source: SourceMap, path: FieldPath, needle: str) -> tuple[int, int]:
    """The line and column of `needle` inside the field's value (else the value's start)."""
    info = source.scalars.get(path)
    if info is None:
        mark = source.value_mark(path)
        return mark.line, mark.col
    last = max(info.end_line, info.start.line)
    for number in range(info.start.line, min(last, len(source.lines)) + 1):
        col = source.lines[number - 1].find(needle)
        if col >= 0:
            return number, col + 1
    return info.start.line, info.start.col
