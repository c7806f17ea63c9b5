"""Content as Typst code: string literals and Markdown trees as code-mode expressions, never markup.

Every character an editor wrote reaches the Typst source inside a string literal, so `#`, `$`,
`*`, `_`, `@`, `<`, `\\`, `"`, `]` or `//` in a title or body can only ever print as themselves.
Markdown structure becomes calls to Typst functions (`strong`, `emph`, `link`, `par`, `list`,
`enum`, `linebreak`) whose arguments are again only literals or such calls.
"""

from __future__ import annotations

import re

from nyhetsbrev.issue import markdown

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}
_NEEDS_ESCAPE = re.compile(r'[\\"\x00-\x1f\x7f-\x9f\u2028\u2029]')
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
EMPTY = "[]"


def typst_str(value: object) -> str:
    """A Typst string literal for any text: `\\`, `"`, newlines, tabs and controls are escaped.

    Typst accepts `\\\\ \\" \\n \\r \\t` and `\\u{hex}`; JSON's `\\uXXXX` is not Typst, so other
    control characters are written as `\\u{…}`.
    """
    text = "" if value is None else str(value)
    return '"' + _NEEDS_ESCAPE.sub(_escape_char, text) + '"'


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    return _ESCAPES.get(char) or f"\\u{{{ord(char):x}}}"


def typst_fmt(template: str, **code: str) -> str:
    """A label with `{placeholders}` as a Typst expression: literal parts + trusted theme code.

    `typst_fmt("side {page} av {total}", page="str(p)", total="str(n)")`
    → `"side " + str(p) + " av " + str(n)`. The label's own words stay literals.
    """
    parts: list[str] = []
    position = 0
    for match in _PLACEHOLDER.finditer(template):
        if match.start() > position:
            parts.append(typst_str(template[position : match.start()]))
        name = match.group(1)
        if name not in code:
            raise KeyError(f"no Typst code given for the placeholder {{{name}}}")
        parts.append(f"({code[name]})")
        position = match.end()
    if position < len(template) or not parts:
        parts.append(typst_str(template[position:]))
    return " + ".join(parts)


def inline_code(children: tuple[markdown.Inline, ...] | list[markdown.Inline]) -> str:
    """Inline Markdown as one Typst content expression, e.g. `"se " + link("https://…", "her")`."""
    parts: list[str] = []
    for child in children:
        if isinstance(child, markdown.Text):
            parts.append(typst_str(child.text))
        elif isinstance(child, markdown.LineBreak):
            parts.append("linebreak()")
        elif isinstance(child, markdown.Strong):
            parts.append(f"strong({inline_code(child.children)})")
        elif isinstance(child, markdown.Emph):
            parts.append(f"emph({inline_code(child.children)})")
        elif isinstance(child, markdown.Span):
            parts.append(in_language(child.lang, inline_code(child.children)))
        elif markdown.is_dead_link(child.href):
            parts.append(inline_code(child.children))
        else:
            parts.append(f"link({typst_str(child.href)}, {inline_code(child.children)})")
    if not parts:
        return EMPTY
    return parts[0] if len(parts) == 1 else "(" + " + ".join(parts) + ")"


def blocks_code(blocks: tuple[markdown.Block, ...]) -> str:
    """Markdown blocks as one Typst code block: `{ par(…); list(…, …) }`."""
    if not blocks:
        return EMPTY
    return "{ " + "; ".join(_block(block) for block in blocks) + " }"


def in_language(tag: str, content: str) -> str:
    """`text(lang: "sv", region: "SE", …)`: Typst takes the language and the region apart, and
    writes the language on the PDF's structure element (a tagged PDF's /Lang)."""
    language, _, rest = tag.partition("-")
    region = next((p for p in rest.split("-") if len(p) == 2 and p.isalpha()), "")
    args = f"lang: {typst_str(language.lower())}"
    if region:
        args += f", region: {typst_str(region.upper())}"
    return f"text({args}, {content})"


def _block(block: markdown.Block) -> str:
    if isinstance(block, markdown.Paragraph):
        code = f"par({inline_code(block.children)})"
        return in_language(block.lang, code) if block.lang else code
    items = []
    for item in block.items:
        if len(item) == 1 and isinstance(item[0], markdown.Paragraph):
            code = inline_code(item[0].children)  # a tight item: no paragraph around it
            items.append(in_language(item[0].lang, code) if item[0].lang else code)
        else:
            items.append(blocks_code(item))
    function = "enum" if block.ordered else "list"
    return f"{function}({', '.join(items)})"


def md_typst(text: str | None, language: str | None = None) -> str:
    """Markdown text → a Typst code block (the `typst_md` filter); empty text → `[]`."""
    return blocks_code(markdown.parse(text, language)) if text else EMPTY
