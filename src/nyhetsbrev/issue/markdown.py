"""The Markdown subset of article bodies, parsed once into a small tree every edition renders.

Paragraphs, **bold**, *italic*, [links](https://…), bullet and numbered lists, hard line breaks.
Everything else — raw HTML included — stays literal text: markdown-it runs with HTML disabled
and only the rules above enabled.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html import escape

from markdown_it import MarkdownIt
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
class LineBreak:
    pass


Inline = Text | Strong | Emph | Link | LineBreak


@dataclass(frozen=True)
class Paragraph:
    children: tuple[Inline, ...]
    line: int  # 0-based line of the Markdown source where it starts


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
    return enable_typography(md, language) if language else md


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
            inline = tokens[i + 1]
            out.append(Paragraph(tuple(_inlines(inline.children or [])), line))
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
        elif kind in ("strong_close", "em_close", "link_close"):
            opened, href, children = stack.pop()
            node: Inline
            if opened == "strong_open":
                node = Strong(tuple(children))
            elif opened == "em_open":
                node = Emph(tuple(children))
            else:
                node = Link(href, tuple(children))
            stack[-1][2].append(node)
        elif tok.content:  # anything unexpected is kept as its literal text
            stack[-1][2].append(Text(tok.content))
    return _merge_text(stack[0][2])


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
            if isinstance(child, Strong | Emph | Link):
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
            parts.append(f"<p>{inline_html(block.children, link_attrs)}</p>")
        else:
            tag = "ol" if block.ordered else "ul"
            items = []
            for item in block.items:
                if len(item) == 1 and isinstance(item[0], Paragraph):
                    items.append(f"<li>{inline_html(item[0].children, link_attrs)}</li>")
                else:
                    items.append(f"<li>{blocks_html(item, link_attrs)}</li>")
            parts.append(f"<{tag}>{''.join(items)}</{tag}>")
    return "\n".join(parts)
