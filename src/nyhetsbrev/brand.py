"""A theme's brand, declared once in its brand.yaml: colours, fonts and logo, which the email,
web and PDF editions all take from there; and the checks `nyhetsbrev check` runs on it (valid
colours, WCAG AA contrast of every text colour on its background, the logo files)."""

from __future__ import annotations

import base64
import re
import struct
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from nyhetsbrev.errors import RenderError
from nyhetsbrev.issue.findings import Finding
from nyhetsbrev.issue.yamlsource import SourceMap, YamlProblem, read_yaml

BRAND_FILE = "brand.yaml"
#: The email's logo in build/<id>/, served by `nyhetsbrev serve` next to the web edition.
LOGO_PNG = "brand-logo.png"
COLOURS = (
    "primary",
    "on_primary",
    "on_primary_muted",
    "accent",
    "text",
    "muted",
    "link",
    "background",
    "surround",
    "box",
    "rule",
)
FONTS = ("screen", "print")
#: Every text colour on every background it is set on (foreground, background).
TEXT_ON = (
    ("text", "background"),
    ("muted", "background"),
    ("link", "background"),
    ("primary", "background"),
    ("on_primary", "primary"),
    ("on_primary_muted", "primary"),
    ("text", "box"),
    ("link", "box"),
    ("primary", "box"),
    ("text", "surround"),
    ("muted", "surround"),
    ("link", "surround"),
)
AA_TEXT = 4.5
_HEX = re.compile(r"#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def hex_rgb(colour: str) -> tuple[int, int, int]:
    """'#1b3a5c' or '#fff' → (27, 58, 92)."""
    digits = colour.lstrip("#")
    if len(digits) == 3:
        digits = "".join(c * 2 for c in digits)
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance (sRGB, https://www.w3.org/TR/WCAG21/#dfn-relative-luminance)."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (linear(c) for c in hex_rgb(colour))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(foreground: str, background: str) -> float:
    """(L1 + 0.05) / (L2 + 0.05), the lighter over the darker: 1 to 21."""
    a, b = relative_luminance(foreground), relative_luminance(background)
    lighter, darker = max(a, b), min(a, b)
    return (lighter + 0.05) / (darker + 0.05)


def png_size(data: bytes) -> tuple[int, int] | None:
    """A PNG's width and height from its IHDR chunk, or None if it is not a PNG."""
    if len(data) < 24 or not data.startswith(_PNG_SIGNATURE) or data[12:16] != b"IHDR":
        return None
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def is_svg(data: bytes) -> bool:
    head = data[:2048].lstrip(b"\xef\xbb\xbf").lstrip().lower()
    return head.startswith((b"<svg", b"<?xml", b"<!--", b"<!doctype svg")) and b"<svg" in head


@dataclass(frozen=True)
class Logo:
    """The logo files (either may be missing) and the shown width in CSS pixels."""

    svg: bytes | None = None
    png: bytes | None = None
    width: int = 200

    @property
    def png_size(self) -> tuple[int, int] | None:
        return png_size(self.png) if self.png else None

    @property
    def png_height(self) -> int:
        """The PNG's height at the shown width (its aspect ratio kept)."""
        size = self.png_size
        return round(self.width * size[1] / size[0]) if size else 0

    @property
    def svg_data_uri(self) -> str:
        """The SVG as a data: URI (the web edition is one self-contained file; an <img> never
        runs a script an SVG may hold)."""
        if not self.svg:
            return ""
        return "data:image/svg+xml;base64," + base64.b64encode(self.svg).decode("ascii")

    @property
    def svg_text(self) -> str:
        return self.svg.decode("utf-8", errors="replace") if self.svg else ""


@dataclass(frozen=True)
class Brand:
    """What the templates get as `brand`: `brand.colours.primary`, `brand.fonts.print`, …"""

    colours: dict[str, str]
    fonts: dict[str, str]
    logo: Logo = field(default_factory=Logo)

    def css_variables(self) -> str:
        """`:root{--primary:#1b3a5c;…}`: the web edition's and the sign-up pages' colours."""
        names = [f"--{name.replace('_', '-')}:{value}" for name, value in self.colours.items()]
        names.append(f"--font-screen:{self.fonts['screen']}")
        return ":root{" + ";".join(names) + "}\n"


PACKAGED_BRAND = Path(__file__).resolve().parent / "themes" / "kom" / BRAND_FILE


def load_brand(theme_path: Path) -> Brand:
    """The brand of a theme folder (KOM's when the theme has no brand.yaml, e.g. a copy made
    before brands existed); a `RenderError` saying where when it is not usable."""
    path = theme_path / BRAND_FILE
    if not path.is_file():
        path = PACKAGED_BRAND
    try:
        stat = path.stat()
        logo_stamps = tuple(
            (p.name, p.stat().st_mtime_ns) for p in sorted(path.parent.glob("*")) if p.is_file()
        )
    except OSError as exc:
        raise RenderError(f"{path}: cannot read the brand: {exc.strerror}") from exc
    brand, findings = _load(str(path), stat.st_mtime_ns, logo_stamps)
    errors = [f for f in findings if f.level == "error"]
    if brand is None or errors:
        listed = "\n".join(f.format() for f in errors)
        raise RenderError(f"{listed}\nfix the theme's brand.yaml, then build again")
    return brand


def check_brand(theme_path: Path, shown: str) -> list[Finding]:
    """Every problem of a theme's brand.yaml, located (none when the theme has no brand.yaml:
    then KOM's applies, which passes)."""
    path = theme_path / BRAND_FILE
    if not path.is_file():
        return []
    return read_brand(path, shown)[1]


@lru_cache(maxsize=16)
def _load(
    path: str, mtime_ns: int, stamps: tuple[tuple[str, int], ...]
) -> tuple[Brand | None, list[Finding]]:
    return read_brand(Path(path), path)


def read_brand(path: Path, shown: str) -> tuple[Brand | None, list[Finding]]:
    """Read and check one brand.yaml: the brand (None if unusable) and its findings."""
    try:
        data, source, findings = read_yaml(path, shown)
    except YamlProblem as problem:
        return None, [problem.finding]
    if findings:
        return None, findings
    if not isinstance(data, dict):
        return None, [Finding(shown, 1, 1, "error", "expected `colours:`, `fonts:` and `logo:`")]
    colours, found = _colours(data.get("colours"), source)
    fonts, font_found = _fonts(data.get("fonts"), source)
    logo, logo_found = _logo(data.get("logo"), source, path.parent)
    found += font_found + logo_found
    if any(f.level == "error" for f in found):
        return None, found
    found += _contrast(colours, source)
    return Brand(colours, fonts, logo), found


def _at(source: SourceMap, path: tuple[str | int, ...], level: str, message: str) -> Finding:
    mark = source.value_mark(path)
    field_name = ".".join(str(p) for p in path)
    return Finding(source.file, mark.line, mark.col, level, message, field_name)  # type: ignore[arg-type]


def _colours(raw: Any, source: SourceMap) -> tuple[dict[str, str], list[Finding]]:
    if not isinstance(raw, dict):
        return {}, [_at(source, ("colours",), "error", f"give the colours: {', '.join(COLOURS)}")]
    found = []
    colours: dict[str, str] = {}
    for name in COLOURS:
        value = raw.get(name)
        if value is None:
            found.append(
                _at(
                    source,
                    ("colours",),
                    "error",
                    f'colour `{name}` is missing, e.g. {name}: "#1b3a5c"',
                )
            )
        elif not isinstance(value, str) or not _HEX.fullmatch(value):
            found.append(
                _at(
                    source,
                    ("colours", name),
                    "error",
                    f'{value!r} is not a colour: write it as "#rrggbb" (in quotes: YAML reads '
                    "an unquoted # as a comment)",
                )
            )
        else:
            colours[name] = value.lower()
    for name in raw:
        if name not in COLOURS:
            found.append(
                _at(
                    source,
                    ("colours", name),
                    "error",
                    f"unknown colour `{name}`: the colours are {', '.join(COLOURS)}",
                )
            )
    return colours, found


def _fonts(raw: Any, source: SourceMap) -> tuple[dict[str, str], list[Finding]]:
    fonts = {"screen": "Helvetica,Arial,sans-serif", "print": "Lato"}
    if raw is None:
        return fonts, []
    if not isinstance(raw, dict):
        return fonts, [_at(source, ("fonts",), "error", "give `screen:` and `print:` fonts")]
    found = []
    for name, value in raw.items():
        if name not in FONTS:
            found.append(
                _at(source, ("fonts", name), "error", f"unknown font `{name}`: use screen or print")
            )
        elif not isinstance(value, str) or not value.strip() or re.search(r"[;{}<>\"\\]", value):
            found.append(
                _at(
                    source,
                    ("fonts", name),
                    "error",
                    "a font is a CSS font list, e.g. Arial,sans-serif",
                )
            )
        else:
            fonts[name] = value.strip()
    if fonts["print"] != "Lato":
        found.append(
            _at(
                source,
                ("fonts", "print"),
                "error",
                "the PDF embeds only Lato (it is installed with nyhetsbrev and meets PDF/UA): "
                "write print: Lato",
            )
        )
    return fonts, found


def _logo(raw: Any, source: SourceMap, folder: Path) -> tuple[Logo, list[Finding]]:
    if raw is None:
        return Logo(), []
    if not isinstance(raw, dict):
        return Logo(), [_at(source, ("logo",), "error", "give `svg:`, `png:` and `width:`")]
    found: list[Finding] = []
    width = raw.get("width", 200)
    if not isinstance(width, int) or isinstance(width, bool) or not 40 <= width <= 600:
        found.append(_at(source, ("logo", "width"), "error", "width is in CSS pixels, 40 to 600"))
        width = 200
    files: dict[str, bytes | None] = {"svg": None, "png": None}
    for kind in files:
        name = raw.get(kind)
        if name in (None, ""):
            continue
        if (
            not isinstance(name, str)
            or "/" in name
            or "\\" in name
            or not name.lower().endswith(f".{kind}")
        ):
            found.append(
                _at(
                    source,
                    ("logo", kind),
                    "error",
                    f"name a .{kind} file next to brand.yaml, e.g. logo.{kind}",
                )
            )
            continue
        path = folder / name
        if not path.is_file():
            found.append(
                _at(source, ("logo", kind), "error", f"{name} does not exist next to brand.yaml")
            )
            continue
        data = path.read_bytes()
        if kind == "svg" and not is_svg(data):
            found.append(_at(source, ("logo", kind), "error", f"{name} is not an SVG image"))
            continue
        if kind == "png":
            size = png_size(data)
            if size is None:
                found.append(_at(source, ("logo", kind), "error", f"{name} is not a PNG image"))
                continue
            if size[0] < 2 * width:
                found.append(
                    _at(
                        source,
                        ("logo", kind),
                        "warning",
                        f"{name} is {size[0]}×{size[1]} pixels: for sharp screens make it at "
                        f"least {2 * width} pixels wide (twice the shown width, {width})",
                    )
                )
        files[kind] = data
    if (files["svg"] is None) != (files["png"] is None):
        missing = "png" if files["png"] is None else "svg"
        found.append(
            _at(
                source,
                ("logo", missing),
                "warning",
                f"the logo has no {missing}: the editions that need it (the email needs the PNG; "
                "the web and the PDF the SVG) show the publisher's name instead",
            )
        )
    return Logo(files["svg"], files["png"], width), found


def _contrast(colours: dict[str, str], source: SourceMap) -> list[Finding]:
    found = []
    for fg, bg in TEXT_ON:
        ratio = contrast_ratio(colours[fg], colours[bg])
        if ratio < AA_TEXT:
            found.append(
                _at(
                    source,
                    ("colours", fg),
                    "warning",
                    f"{fg} ({colours[fg]}) on {bg} ({colours[bg]}) has a contrast of "
                    f"{ratio:.2f}:1, below WCAG AA's {AA_TEXT}:1 for text: readers with weak "
                    f"sight cannot read it — choose a darker or lighter colour",
                )
            )
    return found
