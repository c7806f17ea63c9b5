"""The Markdown subset of article bodies, parsed once into a small tree every edition renders.

Paragraphs, **bold**, *italic*, [links](https://…), bullet and numbered lists, hard line breaks,
and passages in another language (WCAG 2.1 SC 3.1.2): `[Från ord till handling]{lang=sv}` for
words inside a paragraph, and a paragraph ending in ` {lang=sv}` for a whole paragraph.
Everything else — raw HTML included — stays literal text: markdown-it runs with HTML disabled
and only the rules above enabled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape

from markdown_it import MarkdownIt
from markdown_it.rules_inline import StateInline
from markdown_it.token import Token

from nyhetsbrev.issue.typography import enable_typography

PLACEHOLDER_HOST = re.compile(r"^https?://([^/]*\.)?example\.(com|org|net|no)(/|$)", re.I)
PLACEHOLDER_WORD = re.compile(r"\b(TODO|XXX|FIXME|TBD)\b")


def is_dead_link(href: str) -> bool:
    """A link that goes nowhere ("#" or empty): every edition shows its text without a link."""
    return href.strip() in ("", "#")


def is_placeholder_link(href: str) -> bool:
    """A link whose address the editor has not filled in yet (dead, example.org, TODO): `check`
    warns about it and `send --confirm` refuses the issue."""
    target = href.strip()
    return is_dead_link(target) or bool(
        PLACEHOLDER_HOST.match(target) or PLACEHOLDER_WORD.search(target)
    )


#: `{lang=CODE}`: what follows a passage in another language. The code is checked by `check`
#: (a BCP 47 tag Babel knows), not here: the parser keeps what was written.
LANG_MARK = re.compile(r"\{lang=([A-Za-z0-9-]{1,35})\}")
_BLOCK_LANG = re.compile(r"(?:^|[ \t])\{lang=([A-Za-z0-9-]{1,35})\}[ \t]*$")


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Strong:
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Emph:
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class Link:
    href: str
    children: tuple[Inline, ...]

    @property
    def text(self) -> str:
        return plain(self.children)


@dataclass(frozen=True)
class Span:
    """Words in another language than the issue's: `[Från ord till handling]{lang=sv}`."""

    lang: str
    children: tuple[Inline, ...]


@dataclass(frozen=True)
class LineBreak:
    pass


Inline = Text | Strong | Emph | Link | Span | LineBreak


@dataclass(frozen=True)
class Paragraph:
    children: tuple[Inline, ...]
    line: int  # 0-based line of the Markdown source where it starts
    lang: str = ""  # a paragraph in another language: it ended in ` {lang=sv}`


@dataclass(frozen=True)
class ListBlock:
    items: tuple[tuple[Block, ...], ...]
    ordered: bool
    line: int


Block = Paragraph | ListBlock


@lru_cache(maxsize=8)
def _parser(language: str | None) -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False})
    md.enable(["paragraph", "list", "emphasis", "link", "autolink", "escape", "newline"])
    md.inline.ruler.before("link", "lang_span", _lang_span)
    return enable_typography(md, language) if language else md


def _lang_span(state: StateInline, silent: bool) -> bool:
    """`[words]{lang=CODE}` → lang_open, the words' own tokens, lang_close."""
    start, maximum = state.pos, state.posMax
    if state.src[start] != "[":
        return False
    label_end = state.md.helpers.parseLinkLabel(state, start, False)
    if label_end < 0:
        return False
    mark = LANG_MARK.match(state.src, label_end + 1, maximum)
    if mark is None:
        return False
    if not silent:
        state.pos, state.posMax = start + 1, label_end
        state.push("lang_open", "span", 1).attrs = {"lang": mark.group(1)}
        state.md.inline.tokenize(state)
        state.push("lang_close", "span", -1)
    state.pos, state.posMax = mark.end(), maximum
    return True


@lru_cache(maxsize=4096)
def parse(source: str, language: str | None = None) -> tuple[Block, ...]:
    """Parse Markdown into blocks; with a `language`, its typography too (quotation marks,
    dashes: see `typography`). Pure and cached: the same text parses once per process."""
    tokens = _parser(language).parse(source)
    blocks, _ = _blocks(tokens, 0, None)
    return tuple(blocks)


def _blocks(tokens: list[Token], i: int, close: str | None) -> tuple[list[Block], int]:
    out: list[Block] = []
    while i < len(tokens):
        tok = tokens[i]
        if close is not None and tok.type == close:
            return out, i + 1
        line = tok.map[0] if tok.map else 0
        if tok.type == "paragraph_open":
            children, lang = _block_lang(_inlines(tokens[i + 1].children or []))
            out.append(Paragraph(tuple(children), line, lang))
            i += 3
        elif tok.type in ("bullet_list_open", "ordered_list_open"):
            ordered = tok.type == "ordered_list_open"
            end = "ordered_list_close" if ordered else "bullet_list_close"
            items: list[tuple[Block, ...]] = []
            i += 1
            while tokens[i].type != end:
                assert tokens[i].type == "list_item_open"
                item, i = _blocks(tokens, i + 1, "list_item_close")
                items.append(tuple(item))
            out.append(ListBlock(tuple(items), ordered, line))
            i += 1
        else:  # pragma: no cover - the enabled rules produce nothing else
            i += 1
    return out, i


def _inlines(tokens: list[Token]) -> list[Inline]:
    stack: list[tuple[str, str, list[Inline]]] = [("root", "", [])]
    for tok in tokens:
        kind = tok.type
        if kind == "text":
            if tok.content:
                stack[-1][2].append(Text(tok.content))
        elif kind == "softbreak":
            stack[-1][2].append(Text(" "))
        elif kind == "hardbreak":
            stack[-1][2].append(LineBreak())
        elif kind in ("strong_open", "em_open"):
            stack.append((kind, "", []))
        elif kind == "link_open":
            stack.append((kind, str(tok.attrs.get("href", "")), []))
        elif kind == "lang_open":
            stack.append((kind, str(tok.attrs.get("lang", "")), []))
        elif kind in ("strong_close", "em_close", "link_close", "lang_close"):
            opened, href, children = stack.pop()
            node: Inline
            if opened == "strong_open":
                node = Strong(tuple(children))
            elif opened == "em_open":
                node = Emph(tuple(children))
            elif opened == "lang_open":
                node = Span(href, tuple(children))
            else:
                node = Link(href, tuple(children))
            stack[-1][2].append(node)
        elif tok.content:  # anything unexpected is kept as its literal text
            stack[-1][2].append(Text(tok.content))
    return _merge_text(stack[0][2])


def _block_lang(children: list[Inline]) -> tuple[list[Inline], str]:
    """A paragraph whose last words are ` {lang=CODE}`: its children without them, and CODE."""
    if not children or not isinstance(children[-1], Text):
        return children, ""
    last = children[-1].text
    found = _BLOCK_LANG.search(last)
    if found is None:
        return children, ""
    rest = last[: found.start()].rstrip()
    kept = [*children[:-1], Text(rest)] if rest else children[:-1]
    return (kept, found.group(1)) if kept else (children, "")


def _merge_text(items: list[Inline]) -> list[Inline]:
    merged: list[Inline] = []
    for item in items:
        if isinstance(item, Text) and merged and isinstance(merged[-1], Text):
            merged[-1] = Text(merged[-1].text + item.text)
        else:
            merged.append(item)
    return merged


def plain(children: tuple[Inline, ...] | list[Inline]) -> str:
    """The words of inline content, without markup."""
    parts: list[str] = []
    for child in children:
        if isinstance(child, Text):
            parts.append(child.text)
        elif isinstance(child, LineBreak):
            parts.append("\n")
        else:
            parts.append(plain(child.children))
    return "".join(parts)


def block_plain(blocks: tuple[Block, ...]) -> str:
    """All words of a body, paragraphs separated by blank lines (for search and parity tests)."""
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            out.append(plain(block.children))
        else:
            for item in block.items:
                out.append(block_plain(item))
    return "\n\n".join(out)


def links(blocks: tuple[Block, ...]) -> list[tuple[Link, int]]:
    """Every link with the 0-based source line of the block it is in."""
    found: list[tuple[Link, int]] = []

    def walk_inline(children: tuple[Inline, ...], line: int) -> None:
        for child in children:
            if isinstance(child, Link):
                found.append((child, line))
            if isinstance(child, Strong | Emph | Link | Span):
                walk_inline(child.children, line)

    def walk(items: tuple[Block, ...]) -> None:
        for block in items:
            if isinstance(block, Paragraph):
                walk_inline(block.children, block.line)
            else:
                for item in block.items:
                    walk(item)

    walk(blocks)
    return found


def languages(blocks: tuple[Block, ...]) -> list[tuple[str, int]]:
    """Every language code written in the text (spans and paragraphs), with the 0-based source
    line of its block, in reading order."""
    found: list[tuple[str, int]] = []

    def walk_inline(children: tuple[Inline, ...], line: int) -> None:
        for child in children:
            if isinstance(child, Span):
                found.append((child.lang, line))
            if isinstance(child, Strong | Emph | Link | Span):
                walk_inline(child.children, line)

    def walk(items: tuple[Block, ...]) -> None:
        for block in items:
            if isinstance(block, Paragraph):
                walk_inline(block.children, block.line)
                if block.lang:
                    found.append((block.lang, block.line))
            else:
                for item in block.items:
                    walk(item)

    walk(blocks)
    return found


def inline_html(children: tuple[Inline, ...], link_attrs: str = "") -> str:
    """Inline content as escaped HTML; `link_attrs` (trusted, from the theme) goes on each <a>."""
    parts: list[str] = []
    for child in children:
        if isinstance(child, Text):
            parts.append(escape(child.text, quote=False))
        elif isinstance(child, LineBreak):
            parts.append("<br>")
        elif isinstance(child, Strong):
            parts.append(f"<strong>{inline_html(child.children, link_attrs)}</strong>")
        elif isinstance(child, Emph):
            parts.append(f"<em>{inline_html(child.children, link_attrs)}</em>")
        elif isinstance(child, Span):
            inner = inline_html(child.children, link_attrs)
            parts.append(f'<span lang="{escape(child.lang, quote=True)}">{inner}</span>')
        elif is_dead_link(child.href):  # a link that goes nowhere is plain text
            parts.append(inline_html(child.children, link_attrs))
        else:
            attrs = f" {link_attrs}" if link_attrs else ""
            inner = inline_html(child.children, link_attrs)
            parts.append(f'<a href="{escape(child.href, quote=True)}"{attrs}>{inner}</a>')
    return "".join(parts)


def blocks_html(blocks: tuple[Block, ...], link_attrs: str = "") -> str:
    """Blocks as escaped HTML (<p>, <ul>/<ol>, <li>); tight list items render without <p>."""
    parts: list[str] = []
    for block in blocks:
        if isinstance(block, Paragraph):
            lang = f' lang="{escape(block.lang, quote=True)}"' if block.lang else ""
            parts.append(f"<p{lang}>{inline_html(block.children, link_attrs)}</p>")
        else:
            tag = "ol" if block.ordered else "ul"
            items = []
            for item in block.items:
                if len(item) == 1 and isinstance(item[0], Paragraph):
                    lang = f' lang="{escape(item[0].lang, quote=True)}"' if item[0].lang else ""
                    items.append(f"<li{lang}>{inline_html(item[0].children, link_attrs)}</li>")
                else:
                    items.append(f"<li>{blocks_html(item, link_attrs)}</li>")
            parts.append(f"<{tag}>{''.join(items)}</{tag}>")
    return "\n".join(parts)
