"""The plain-text edition: the whole issue at 72 columns, links as numbered references.

Pure Python walking the model and the Markdown tree rather than a Jinja template: wrapping at
72 columns, hanging indents for bullets and numbering each article's links need the structure
(paragraph, list item, link) that a template would only see as already-joined strings, and a
text template fights Jinja's whitespace rules on every line. The fixed words come from the
theme's labels, so the text speaks the issue's language like the other editions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from nyhetsbrev.issue import markdown
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.issue.model import Article, Section, TextBlock
from nyhetsbrev.render import placeholders
from nyhetsbrev.render.assets import web_edition_url
from nyhetsbrev.render.environment import decision_details, event_when, label, typeset
from nyhetsbrev.render.layout import contact_box_after
from nyhetsbrev.theme import Theme

WIDTH = 72
_SPACES = re.compile(r"[ \t\r\f\v]+")
_GLUE = "\x1f"  # a space that does not break (a link's [n] stays with its word); never in content


_Block = markdown.Paragraph | markdown.ListBlock


class _References:
    """Link numbers: one per address over the whole text, listed under each article using them."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.pending: dict[str, int] = {}

    def number(self, url: str) -> int:
        """The link's number: a URL keeps the number it got first, wherever it appears again."""
        number = self.numbers.setdefault(url, len(self.numbers) + 1)
        self.pending[url] = number
        return number

    def flush(self) -> list[str]:
        lines = [f"[{n}] {url}" for url, n in sorted(self.pending.items(), key=lambda i: i[1])]
        self.pending = {}
        return lines


class _Writer:
    def __init__(self, labels: dict[str, str], language: str) -> None:
        self.labels = labels
        self.language = language
        self.refs = _References()
        self.blocks: list[str] = []

    def add(self, text: str) -> None:
        if text:
            self.blocks.append(text)

    def heading(self, text: str, underline: str) -> None:
        """A title underlined; section-level ones (`=`) get one more blank line before them."""
        lines = _wrap(text)
        gap = "\n" if underline == "=" and self.blocks else ""
        self.add(gap + "\n".join([*lines, underline * max(len(line) for line in lines)]))

    def inline(self, children: Iterable[markdown.Inline]) -> str:
        parts: list[str] = []
        for child in children:
            if isinstance(child, markdown.Text):
                parts.append(child.text)
            elif isinstance(child, markdown.LineBreak):
                parts.append("\n")
            elif isinstance(child, markdown.Link):
                parts.append(self.link(self.inline(child.children), child.href))
            else:
                parts.append(self.inline(child.children))
        return "".join(parts)

    def link(self, text: str, url: str | None) -> str:
        if not url or url in (text, f"mailto:{text}") or markdown.is_dead_link(url):
            return text
        return f"{text}{_GLUE}[{self.refs.number(url)}]"

    def markdown(self, source: str | None, indent: str = "") -> None:
        for block in markdown.parse(source, self.language) if source else ():
            self.add(self.block(block, indent))

    def block(self, block: _Block, indent: str) -> str:
        if isinstance(block, markdown.Paragraph):
            return _fill(self.inline(block.children), indent, indent)
        items = []
        for number, item in enumerate(block.items, 1):
            marker = f"{number}. " if block.ordered else "- "
            items.append(self.item(item, indent, marker))
        return "\n".join(items)

    def item(self, blocks: tuple[_Block, ...], indent: str, marker: str) -> str:
        hanging = indent + " " * len(marker)
        parts = []
        for i, block in enumerate(blocks):
            if isinstance(block, markdown.Paragraph):
                first = indent + marker if i == 0 else hanging
                parts.append(_fill(self.inline(block.children), first, hanging))
            else:
                parts.append(self.block(block, hanging))
        return "\n".join(parts) if parts else indent + marker.rstrip()

    def references(self) -> None:
        self.add("\n".join(self.refs.flush()))

    def article(self, article: Article) -> None:
        self.heading(article.title, "-")
        if article.image is not None and not article.image.decorative:
            self.add(_fill(f"[{article.image.alt}]", "", ""))
        self.markdown(article.body)
        if article.events:
            lines = []
            for event in article.events:  # when, then the title: as in every edition
                lines.append(_fill(event_when(event, self.language, self.labels), "- ", "  "))
                text = self.link(event.title, event.url)
                if event.organiser and event.organiser != article.title:
                    text += f" ({label(self.labels, 'organiser')}: {event.organiser})"
                lines.append(_fill(text, "  ", "  "))
                described = event.description or ""
                for block in markdown.parse(described, self.language) if described else ():
                    lines.append(self.block(block, "  "))
            self.add("\n".join(lines))
        if article.decisions:
            lines = []
            for decision in article.decisions:
                details = decision_details(decision, self.language)
                lines.append(
                    _fill(f"{self.link(decision.title, decision.url)} ({details})", "- ", "  ")
                )
            self.add("\n".join(lines))
        self.markdown(article.after)
        self.references()

    def section(self, section: Section) -> None:
        self.heading(section.title, "=")
        if section.subtitle:
            self.add(_fill(section.subtitle, "", ""))
        for article in section.articles:
            self.article(article)

    def text_block(self, block: TextBlock, fallback: str) -> None:
        self.heading(block.title or fallback, "=")
        self.markdown(block.body)
        self.references()

    def result(self) -> str:
        text = "\n\n".join(self.blocks)
        return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def render_text(loaded: LoadedIssue, theme: Theme) -> str:
    """The text/plain part of the email: everything the HTML says, readable in any client."""
    loaded = typeset(loaded)
    labels = theme.labels(loaded.language)
    pub = loaded.publication
    out = _Writer(labels, loaded.language)
    out.add(_fill(pub.name, "", ""))
    out.add("\n".join([*_wrap(loaded.title), loaded.period_label, *_wrap(pub.audience)]))
    web_url = web_edition_url(loaded)
    if web_url:
        out.add(f"{label(labels, 'web_edition')}:\n{web_url}")
    toc = [_fill(_toc_entry(s), "- ", "  ") for s in loaded.issue.sections]
    out.add("\n".join([f"{label(labels, 'in_this_issue')}:", *toc]))
    boxed = contact_box_after(loaded.issue.sections)
    for index, section in enumerate(loaded.issue.sections):
        out.section(section)
        if index in boxed:
            out.text_block(pub.contact, label(labels, "contact"))
    if loaded.issue.closing:
        out.add("\n" + _fill(loaded.issue.closing, "", ""))
    out.text_block(pub.about, pub.short_name)
    out.text_block(pub.contact_list, label(labels, "contact"))
    leave = f"{label(labels, 'preferences')}: {placeholders.PREFERENCES_URL}\n"
    leave += f"{label(labels, 'unsubscribe')}: {placeholders.UNSUBSCRIBE_URL}"
    out.add(_fill(label(labels, "unsubscribe_intro"), "", "") + "\n" + leave)
    if web_url:
        out.add(f"{label(labels, 'web_edition')}:\n{web_url}")
    return out.result()


def _toc_entry(section: Section) -> str:
    return f"{section.title} – {section.subtitle}" if section.subtitle else section.title


def _wrap(text: str) -> list[str]:
    return _fill(text, "", "").splitlines() or [""]


def _fill(text: str, first: str, rest: str) -> str:
    """Wrap at 72 columns, never inside a word or a URL; hard line breaks are kept.

    Greedy, like `textwrap` with `break_long_words=False, break_on_hyphens=False`, but only
    plain ASCII whitespace separates words (a no-break space binds), and 10× faster.
    """
    lines: list[str] = []
    for i, piece in enumerate(text.split("\n")):
        line = first if i == 0 else rest
        empty = True
        for word in _SPACES.split(piece):
            if not word:
                continue
            if empty:
                line += word
                empty = False
            elif len(line) + 1 + len(word) > WIDTH:
                lines.append(line)
                line = rest + word
            else:
                line += " " + word
        lines.append(line if not empty else rest.rstrip())
    return "\n".join(lines).replace(_GLUE, " ")
