"""What `build` would refuse, found by `check` first: every such case is a located error.

Text no edition can carry (control characters, the right-to-left override), titles that show
nothing, letters the PDF's font does not have, Markdown links to script or data addresses, and
issues past the documented limits (docs/authoring.md): far above any real issue, far below what
makes a build slow or large.
"""

from __future__ import annotations

import importlib.util
import re
import struct
import unicodedata
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel

from nyhetsbrev.issue.content import markdown_fields
from nyhetsbrev.issue.findings import Finding
from nyhetsbrev.issue.model import Issue
from nyhetsbrev.issue.yamlsource import FieldPath, SourceMap, dotted

#: The limits of one issue (docs/authoring.md). The reference issue has 6 sections, 37 articles,
#: about 100 links and no text over 2,500 characters.
MAX_SECTIONS = 100
MAX_ARTICLES = 1_000
MAX_LINKS = 5_000
MAX_TEXT_CHARS = 50_000

PDF_FONT = "Lato-Regular.ttf"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u00ad"
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
TITLE_FIELDS = frozenset({"title", "subtitle"})
NOT_IN_PDF = frozenset({"preheader", "url", "src"})  # the PDF never shows these fields
CONTROL_NAMES = {0x07: "BELL", 0x08: "BACKSPACE", 0x1B: "ESCAPE", 0x7F: "DELETE", 0x85: "NEXT LINE"}
# A Markdown link as written, also one markdown-it refused to make a link (it leaves those as
# literal "[text](target)" in every edition).
WRITTEN_LINK = re.compile(r"\[([^\[\]\n]*)\]\(([^()\n]*(?:\([^()\n]*\)[^()\n]*)*)\)")
UNSAFE_SCHEMES = ("javascript:", "data:", "vbscript:")


def build_blockers(issue: Issue, source: SourceMap) -> list[Finding]:
    """Errors for everything in `issue` that a build would fail on, and the no-sections warning."""
    found: list[Finding] = []

    def add(path: FieldPath, message: str, needle: str = "", level: str = "error") -> None:
        line, col = locate(source, path, needle)
        found.append(Finding(source.file, line, col, level, message, dotted(path), "build"))  # type: ignore[arg-type]

    found += _limits(issue, source)
    if not issue.sections:
        add((), "the issue has no sections, so every edition would be empty: add `sections:`",
            level="warning")  # fmt: skip
    glyphs = pdf_glyphs()
    for path, text in strings(issue):
        for letter in dict.fromkeys(text):
            code = ord(letter)
            if unicodedata.category(letter) == "Cc" and letter not in "\t\n\r":
                add(path, f"contains the control character U+{code:04X}{_name(letter)}, "
                    "which no edition can show: delete it (it often comes with pasted text)",
                    letter)  # fmt: skip
            elif letter in BIDI_CONTROLS:
                add(path, f"contains U+{code:04X}{_name(letter)}, which reorders the text a "
                    "reader sees (a known trick to disguise words and addresses): delete it",
                    letter)  # fmt: skip
            elif (
                glyphs
                and code not in glyphs
                and _needs_glyph(letter)
                and path[-1] not in NOT_IN_PDF
            ):
                add(path, f'"{letter}" U+{code:04X}{_name(letter)} cannot be shown in the '
                    "PDF: its font, Lato, has no such letter — write it another way (e.g. -> "
                    "for →) or leave it out", letter)  # fmt: skip
        if path[-1] in TITLE_FIELDS and text and not text.strip(f" \t\n\r\u00a0{INVISIBLE}"):
            add(path, "is empty to a reader: only spaces or invisible characters — write the "
                "title, or remove the field")  # fmt: skip
    for path, text in markdown_fields(issue):
        for match in WRITTEN_LINK.finditer(text):
            target = match.group(2).strip()
            if target.startswith("<") and target.endswith(">"):
                target = target[1:-1]
            problem = _link_problem(target)
            if problem:
                add(path, f"link [{match.group(1)}]({match.group(2)}) {problem}", match.group())
    return found


def _link_problem(target: str) -> str | None:
    if target.lower().replace(" ", "").startswith(UNSAFE_SCHEMES):
        return (
            f"goes to a {target.split(':', 1)[0].lower()}: address, which runs code or hides "
            "content instead of opening a page: link to a web page (https://…)"
        )
    if any(c in target for c in " \"'"):
        return (
            "has a space or a quotation mark in its address, so no edition can make it a link: "
            "write spaces in an address as %20, and leave out quotation marks"
        )
    return None


def _limits(issue: Issue, source: SourceMap) -> list[Finding]:
    found: list[Finding] = []

    def over(path: FieldPath, what: str, count: int, limit: int) -> None:
        mark = source.value_mark(path)
        found.append(
            Finding(
                source.file,
                mark.line,
                mark.col,
                "error",
                f"the issue has {count:,} {what}; an issue may hold at most {limit:,} "
                "(docs/authoring.md, Limits): split it into several issues",
                dotted(path),
                "limit",
            )
        )

    if len(issue.sections) > MAX_SECTIONS:
        over(("sections", MAX_SECTIONS), "sections", len(issue.sections), MAX_SECTIONS)
    total = 0
    for s, section in enumerate(issue.sections):
        if total <= MAX_ARTICLES < total + len(section.articles):
            first = MAX_ARTICLES - total
            count = sum(len(x.articles) for x in issue.sections)
            over(("sections", s, "articles", first), "articles", count, MAX_ARTICLES)
        total += len(section.articles)
    fields = markdown_fields(issue)
    links = 0
    for path, text in fields:
        if len(text) > MAX_TEXT_CHARS:
            mark = source.value_mark(path)
            found.append(
                Finding(
                    source.file,
                    mark.line,
                    mark.col,
                    "error",
                    f"text is {len(text):,} characters; one text may hold at most "
                    f"{MAX_TEXT_CHARS:,} (docs/authoring.md, Limits): link to the full text "
                    "instead",
                    dotted(path),
                    "limit",
                )
            )
        before = links
        links += text.count("](")
        if before <= MAX_LINKS < links:
            over(path, "links", sum(t.count("](") for _, t in fields), MAX_LINKS)
    return found


def strings(model: BaseModel, path: FieldPath = ()) -> Iterator[tuple[FieldPath, str]]:
    """Every string of a model, with its field path."""
    for name in type(model).model_fields:
        yield from _walk(getattr(model, name), (*path, name))


def _walk(value: object, path: FieldPath) -> Iterator[tuple[FieldPath, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, BaseModel):
        yield from strings(value, path)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk(item, (*path, index))


def locate(source: SourceMap, path: FieldPath, needle: str = "") -> tuple[int, int]:
    """Where `needle` stands inside the value at `path` (else where the value starts). For a
    YAML escape ("\\x07" in a quoted string) the line of the value is the best there is."""
    info = source.scalars.get(path)
    if needle and info is not None:
        last = min(max(info.end_line, info.start.line), len(source.lines))
        for number in range(info.start.line, last + 1):
            col = source.lines[number - 1].find(needle)
            if col >= 0:
                return number, col + 1
    mark = source.value_mark(path)
    return mark.line, mark.col


def _name(letter: str) -> str:
    """ " (NAME)" or " NAME" of a character, or "" when Unicode gives it none."""
    name = unicodedata.name(letter, CONTROL_NAMES.get(ord(letter), ""))
    return f" ({name})" if name else ""


def _needs_glyph(letter: str) -> bool:
    # Spaces, line ends and format characters (zero-width joiners, soft hyphens) are not drawn.
    return unicodedata.category(letter)[0] not in "CZ"


@lru_cache(maxsize=1)
def pdf_glyphs() -> frozenset[int]:
    """The code points the PDF's font (Lato, from font-lato) has; empty if it is not installed
    (then the build says so itself)."""
    spec = importlib.util.find_spec("font_lato")
    if spec is None or spec.origin is None:
        return frozenset()
    try:
        return frozenset(cmap(Path(spec.origin).parent / "files" / PDF_FONT))
    except (OSError, ValueError, struct.error):
        return frozenset()


def cmap(path: Path) -> set[int]:
    """The code points of a TrueType font's Unicode cmap (format 4 or 12)."""
    data = path.read_bytes()
    (tables,) = struct.unpack_from(">H", data, 4)
    directory = {
        data[12 + 16 * i : 16 + 16 * i]: struct.unpack_from(">II", data, 20 + 16 * i)
        for i in range(tables)
    }
    offset, _ = directory[b"cmap"]
    (count,) = struct.unpack_from(">H", data, offset + 2)
    subtables = {}
    for i in range(count):
        platform, encoding, at = struct.unpack_from(">HHI", data, offset + 4 + 8 * i)
        subtables[(platform, encoding)] = offset + at
    for key in ((3, 10), (0, 4), (3, 1), (0, 3)):
        if key in subtables:
            return _subtable(data, subtables[key])
    raise ValueError("no Unicode cmap")


def _subtable(data: bytes, at: int) -> set[int]:
    (kind,) = struct.unpack_from(">H", data, at)
    points: set[int] = set()
    if kind == 12:
        (groups,) = struct.unpack_from(">I", data, at + 12)
        for g in range(groups):
            start, end, _ = struct.unpack_from(">III", data, at + 16 + 12 * g)
            points.update(range(start, end + 1))
        return points
    if kind != 4:
        raise ValueError(f"cmap format {kind}")
    (segments2,) = struct.unpack_from(">H", data, at + 6)
    segments = segments2 // 2
    ends = struct.unpack_from(f">{segments}H", data, at + 14)
    starts = struct.unpack_from(f">{segments}H", data, at + 16 + segments2)
    deltas = struct.unpack_from(f">{segments}h", data, at + 16 + 2 * segments2)
    ranges_at = at + 16 + 3 * segments2
    offsets = struct.unpack_from(f">{segments}H", data, ranges_at)
    for i in range(segments):
        for code in range(starts[i], ends[i] + 1):
            if code == 0xFFFF:
                continue
            if offsets[i] == 0:
                glyph = (code + deltas[i]) & 0xFFFF
            else:
                where = ranges_at + 2 * i + offsets[i] + 2 * (code - starts[i])
                (glyph,) = struct.unpack_from(">H", data, where)
                glyph = (glyph + deltas[i]) & 0xFFFF if glyph else 0
            if glyph:
                points.add(code)
    return points
