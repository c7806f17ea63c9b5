"""The PDF edition: Jinja → Typst source → the `typst` package → tagged PDF/UA-1 (+ PDF/A-2a)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import cast

import jinja2
import typst

from nyhetsbrev.errors import RenderError
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.issue.yamlsource import FieldPath
from nyhetsbrev.render.environment import context, environment, typeset
from nyhetsbrev.render.layout import contact_box_after
from nyhetsbrev.render.standards import DEFAULT_STANDARD, STANDARDS
from nyhetsbrev.theme import Theme

TEMPLATE = "print.typ.j2"
FONT_FAMILY = "Lato"
# The faces the KOM look uses: (style, weight) → the file font-lato ships for it.
FONT_FACES: dict[tuple[str, int], str] = {
    ("normal", 400): "Lato-Regular.ttf",
    ("normal", 700): "Lato-Bold.ttf",
    ("normal", 900): "Lato-Black.ttf",
    ("italic", 400): "Lato-Italic.ttf",
    ("italic", 700): "Lato-BoldItalic.ttf",
}
MAIN_FILE = re.compile(r"__typst_py_bytes__\.typ:(\d+):(\d+)")
FIELD_MARK = re.compile(r"// field: ([\w\[\].]+)\s*$")
FIELD_PART = re.compile(r"(\w+)|\[(\d+)\]")
UNSHOWABLE = re.compile(r'the text `"(.+?)"` could not be displayed with font')
# typst's stub ties `input` and `root` to one type variable; bytes in, a folder as root is valid.
_compile = cast(Callable[..., tuple[bytes, list[typst.TypstWarning]]], typst.compile_with_warnings)


@dataclass(frozen=True)
class PdfEdition:
    """The rendered PDF, the Typst source it was made from, and Typst's warnings (if any)."""

    pdf: bytes
    source: str
    warnings: tuple[str, ...] = ()


def parse_standard(value: str) -> tuple[str, ...]:
    """`ua-1` or `a-2a,ua-1` (spaces and order do not matter) → the `pdf_standards` to pass."""
    wanted = sorted(part.strip().lower() for part in value.split(",") if part.strip())
    for parts in STANDARDS.values():
        if sorted(parts) == wanted:
            return parts
    valid = ", ".join(STANDARDS)
    raise RenderError(
        f'unknown PDF standard "{value}": use one of {valid} '
        "(ua-1: accessible PDF/UA-1; a-2a,ua-1: the archive copy, PDF/A-2a as well)"
    )


def render_pdf(loaded: LoadedIssue, theme: Theme, standard: str = DEFAULT_STANDARD) -> PdfEdition:
    """Render the issue's PDF edition in `standard` (`ua-1`, or `a-2a,ua-1` for the archive)."""
    standards = parse_standard(standard)
    loaded = typeset(loaded)
    fonts = load_fonts(font_dir())
    timestamp = creation_timestamp(loaded, standards)
    source = typst_source(loaded, theme, dated=timestamp is not None)
    try:
        pdf, warnings = _compile(
            source.encode("utf-8"),
            root=str(loaded.dir),
            font_paths=fonts,
            pdf_standards=list(standards),
            timestamp=timestamp,
        )
    except typst.TypstError as error:
        raise explain(error, source, loaded) from None
    messages = tuple(warning.message for warning in warnings)
    for message in messages:
        if "font" in message and ("unknown" in message or "not found" in message):
            raise RenderError(
                f"the PDF would use another font than {FONT_FAMILY}: {message} — the theme "
                f"({theme.path / TEMPLATE}) must only name {FONT_FAMILY}"
            )
    return PdfEdition(pdf=pdf, source=source, warnings=messages)


def typst_source(loaded: LoadedIssue, theme: Theme, *, dated: bool = False) -> str:
    """The Typst source of the issue, from the theme's print.typ.j2."""
    loaded = typeset(loaded)
    try:
        template = environment(theme).get_template(TEMPLATE)
    except jinja2.TemplateNotFound:
        raise RenderError(
            f'theme "{theme.name}" has no {TEMPLATE} in {theme.path}: copy it from the kom theme'
        ) from None
    try:
        return template.render(
            context(
                loaded,
                theme,
                dated=dated,
                contact_box_after=contact_box_after(loaded.issue.sections),
            )
        )
    except jinja2.TemplateError as error:
        where = f"{theme.path / TEMPLATE}:{getattr(error, 'lineno', None) or '?'}"
        raise RenderError(f"{where}: the PDF template failed: {error}") from None


def font_dir() -> Path:
    """The folder with Lato's TTF files, from the font-lato package (never a system font)."""
    spec = importlib.util.find_spec("font_lato")
    if spec is None or spec.origin is None:
        raise RenderError(
            f"the PDF font {FONT_FAMILY} is not installed: run `pip install font-lato` "
            "(the PDF is never made with another font)"
        )
    return Path(spec.origin).parent / "files"


def load_fonts(folder: Path) -> typst.Fonts:
    """Typst's font book with only the Lato files in `folder`: no system or embedded fonts."""
    stamp = tuple(
        (name, (folder / name).stat().st_mtime if (folder / name).is_file() else None)
        for name in sorted(FONT_FACES.values())
    )
    return _load_fonts(str(folder), stamp)


@lru_cache(maxsize=4)
def _load_fonts(folder: str, stamp: tuple[tuple[str, float | None], ...]) -> typst.Fonts:
    fonts = typst.Fonts(
        include_system_fonts=False, include_embedded_fonts=False, font_paths=[folder]
    )
    found = {
        (info.style.lower(), int(info.weight))
        for info in fonts.fonts()
        if info.family.lower() == FONT_FAMILY.lower()
    }
    missing = [file for face, file in FONT_FACES.items() if face not in found]
    if missing:
        raise RenderError(
            f"the PDF font {FONT_FAMILY} is missing in {folder} ({', '.join(missing)} not found): "
            "reinstall it with `pip install --force-reinstall font-lato` "
            "(the PDF is never made with another font)"
        )
    return fonts


def creation_timestamp(loaded: LoadedIssue, standards: tuple[str, ...]) -> int | None:
    """SOURCE_DATE_EPOCH if set; else none, or, where PDF/A demands a date, the period's end."""
    raw = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if raw:
        try:
            return int(raw)
        except ValueError:
            raise RenderError(
                f'SOURCE_DATE_EPOCH="{raw}" is not a number of seconds since 1970: '
                "set it to e.g. $(git log -1 --format=%ct), or unset it"
            ) from None
    if any(part.startswith("a-") for part in standards):
        end = loaded.period[1]
        noon = dt.datetime(end.year, end.month, end.day, 12, tzinfo=dt.UTC)
        return int(noon.timestamp())
    return None


def explain(error: typst.TypstError, source: str, loaded: LoadedIssue) -> RenderError:
    """Typst's refusal as one clear error; missing alt text and unshowable letters are located."""
    message = str(getattr(error, "message", "") or error)
    diagnostic = str(getattr(error, "diagnostic", "") or "")
    if "missing alt text" in message or "missing alt text" in diagnostic:
        located = _alt_text_errors(diagnostic, source, loaded)
        if located:
            return RenderError("\n".join(located))
    letters = list(dict.fromkeys(UNSHOWABLE.findall(diagnostic or message)))
    if letters:
        return RenderError("\n".join(_unshowable(letter, loaded) for letter in letters))
    hints = [str(hint) for hint in getattr(error, "hints", []) or []]
    lines = sorted({int(line) for line, _ in MAIN_FILE.findall(diagnostic)})
    where = f" (line {', '.join(map(str, lines))} of the Typst source)" if lines else ""
    hint = f" — {'; '.join(hints)}" if hints else ""
    return RenderError(
        f"the PDF could not be made{where}: {message}{hint}. "
        "Run `nyhetsbrev build --keep-intermediate` to keep the Typst source and look."
    )


def _alt_text_errors(diagnostic: str, source: str, loaded: LoadedIssue) -> list[str]:
    lines = source.splitlines()
    out: list[str] = []
    for line_number, _ in MAIN_FILE.findall(diagnostic):
        number = int(line_number)
        if not 0 < number <= len(lines):
            continue
        found = FIELD_MARK.search(lines[number - 1])
        if found is None:
            continue
        path = _field_path(found.group(1))
        alt_path = (*path, "alt")
        mark = loaded.source.value_mark(alt_path if alt_path in loaded.source.values else path)
        out.append(
            f"{loaded.source.file}:{mark.line}:{mark.col}: {found.group(1)}: the picture has no "
            "alt text, and an accessible PDF (PDF/UA) cannot be made without it: add `alt: …` "
            "saying what it shows (or `decorative: true` if it shows nothing that matters)"
        )
    return list(dict.fromkeys(out))


def _field_path(dotted: str) -> FieldPath:
    return tuple(int(index) if index else name for name, index in FIELD_PART.findall(dotted))


def _unshowable(letter: str, loaded: LoadedIssue) -> str:
    advice = (
        f'"{letter}" cannot be shown in the PDF font {FONT_FAMILY} (it has no such letter), and '
        "an accessible PDF may not show a blank instead: write it another way (e.g. -> for →)"
    )
    for path, info in loaded.source.scalars.items():
        if letter in info.raw:
            mark = info.start
            dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
            return f"{loaded.source.file}:{mark.line}:{mark.col}: {dotted}: {advice}"
    return f"{loaded.publication_path.name} or the theme: {advice}"
