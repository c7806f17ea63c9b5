"""The email edition: Jinja → MJML → HTML (mjml-python) → content CSS inlined → output checks."""

from __future__ import annotations

import html as htmllib
import re
from dataclasses import dataclass
from functools import lru_cache

import css_inline
import jinja2
import mjml
from markupsafe import Markup

from nyhetsbrev.brand import LOGO_PNG, load_brand
from nyhetsbrev.errors import RenderError
from nyhetsbrev.issue.content import issue_urls
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.render import placeholders
from nyhetsbrev.render.assets import pdf_edition_url, pictures, web_edition_url
from nyhetsbrev.render.environment import context, environment, render, typeset
from nyhetsbrev.render.layout import contact_box_after
from nyhetsbrev.theme import Theme

TEMPLATE = "email.mjml.j2"
CONTENT_CSS = "email.css"
GMAIL_CLIP_BYTES = 102 * 1024  # Gmail hides everything past this behind "[Message clipped]"
CONTENT_WIDTH = 560  # the 600 px column less 20 px of padding on each side
PREHEADER_MAX = 130
# After the preheader: invisible characters, so the inbox preview does not go on into the body.
PREHEADER_FILLER = Markup("&#847;&zwnj;&nbsp;" * 90)

_IMG = re.compile(r"<img\b[^>]*>", re.I)
_ALT = re.compile(r"\salt\s*=", re.I)
_HTML_LANG = re.compile(r"<html\b[^>]*?\slang=\"([^\"]*)\"", re.I)
_C1 = re.compile("[\x80-\x9f]")
_TEXT_NODE = re.compile(r">([^<]+)<")
_HREF = re.compile(r'\shref="([^"]+)"')


@dataclass(frozen=True)
class EmailEdition:
    """The finished email HTML and the MJML it was compiled from (kept with --keep-intermediate)."""

    html: str
    mjml: str


def render_email(loaded: LoadedIssue, theme: Theme) -> EmailEdition:
    """Render, compile, inline and check the email of an issue; RenderError if a check fails."""
    loaded = typeset(loaded)
    source = render_mjml(loaded, theme)
    compiled = compile_mjml(source, theme)
    html = inline_content_css(compiled, content_css(theme))
    check_email(html, loaded)
    return EmailEdition(html=html, mjml=source)


def render_mjml(loaded: LoadedIssue, theme: Theme) -> str:
    """The theme's MJML template filled with the issue (absolute image URLs, placeholders)."""

    ctx = context(
        loaded,
        theme,
        preheader=preheader(loaded),
        filler=PREHEADER_FILLER,
        picture=pictures(loaded, absolute=True, max_width=CONTENT_WIDTH),
        web_url=web_edition_url(loaded),
        logo_url=logo_url(loaded, theme),
        pdf_url=pdf_edition_url(loaded),
        unsubscribe_url=placeholders.UNSUBSCRIBE_URL,
        preferences_url=placeholders.PREFERENCES_URL,
        contact_box_after=contact_box_after(loaded.issue.sections),
    )
    return render(theme, TEMPLATE, ctx)


def preheader(loaded: LoadedIssue) -> str:
    """The issue's preheader, or else its section titles, at most ~130 characters."""
    text = loaded.issue.preheader
    if not text:
        titles = dict.fromkeys(s.subtitle or s.title for s in loaded.issue.sections)
        text = " · ".join(titles) or loaded.period_label
    if len(text) > PREHEADER_MAX:
        text = text[: PREHEADER_MAX - 1].rsplit(" ", 1)[0] + "…"
    return text


def compile_mjml(source: str, theme: Theme) -> str:
    """MJML → HTML with MRML; `fonts={}` so no web font is fetched or linked."""
    try:
        return mjml.mjml2html(source, fonts={})
    except Exception as exc:  # MRML raises a plain exception naming the place in the source
        raise RenderError(
            f"{theme.file(TEMPLATE)}: the generated MJML does not compile: {exc} — build with "
            "--keep-intermediate after fixing what you can, and read email.mjml"
        ) from exc


def content_css(theme: Theme) -> str:
    """email.css, a template taking its colours from the theme's brand."""
    path = theme.file(CONTENT_CSS)
    try:
        template = environment(theme).get_template(CONTENT_CSS)
    except jinja2.TemplateNotFound:
        raise RenderError(f"{path}: cannot read the email's content CSS: no such file") from None
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(f"{path}:{exc.lineno}: template syntax error: {exc.message}") from exc
    try:
        return template.render(brand=load_brand(theme.path))
    except jinja2.UndefinedError as exc:
        raise RenderError(f"{path}: {exc.message} (see the colours in brand.yaml)") from exc


def logo_url(loaded: LoadedIssue, theme: Theme) -> str | None:
    """Where the email's logo is served: `{public_url}/{id}/brand-logo.png`, the same address
    for every reader (nothing personal: never a tracking pixel). None without a PNG logo or a
    public_url: then the masthead shows the publisher's name."""
    base = web_edition_url(loaded)
    return f"{base}{LOGO_PNG}" if base and load_brand(theme.path).logo.png else None


@lru_cache(maxsize=8)
def _inliner(css: str) -> css_inline.CSSInliner:
    return css_inline.CSSInliner(
        inline_style_tags=False,  # MRML's own <style> blocks (@media, !important) stay untouched
        keep_style_tags=True,
        keep_link_tags=True,
        load_remote_stylesheets=False,
        extra_css=css,
    )


def inline_content_css(html: str, css: str) -> str:
    """Put the theme's content CSS (links, paragraphs, lists, headings) into style attributes."""
    return _inliner(css).inline(html)


def check_email(html: str, loaded: LoadedIssue) -> None:
    """The output checks: alt on every image, a real `lang`, no C1 controls, nothing dropped."""
    problems: list[str] = []
    for tag in _IMG.findall(html):
        if not _ALT.search(tag):
            problems.append(f"an image has no alt attribute: {tag[:120]}")
    lang = _HTML_LANG.search(html)
    if lang is None or lang.group(1) in ("", "und"):
        found = f'"{lang.group(1)}"' if lang else "missing"
        problems.append(f"<html lang> is {found}: the template must set <mjml lang=…>")
    c1 = _C1.search(html)
    if c1:
        around = html[max(0, c1.start() - 40) : c1.end() + 40]
        problems.append(
            f"a C1 control character U+{ord(c1.group()):04X} is in the output (near {around!r}); "
            "it usually comes from text pasted from Word in the wrong encoding: retype it"
        )
    # Nothing dropped: every title and link must be in the (unescaped) output. Not one search of
    # the whole HTML per title and per link (that grows with the square of the issue): a scan
    # collects its text nodes and link addresses, and only what is not among them is searched.
    titles = article_titles(loaded)
    urls = issue_urls(loaded.issue, loaded.publication)
    present = _pieces(html)
    missing = {n for n in [*(t for _, t in titles), *urls] if n not in present}
    if missing:
        text = htmllib.unescape(html)
        missing = {n for n in missing if n not in text}
    problems += [f"the title of {where} is missing: {t!r}" for where, t in titles if t in missing]
    problems += [f"the link {url!r} is missing" for url in urls if url in missing]
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        raise RenderError(
            f"build/{loaded.id}/email.html fails its output checks:\n{listed}\n"
            "MJML drops content placed where it is not allowed, without a word: fix the theme's "
            f"{TEMPLATE} around it (nothing was written)."
        )


def _pieces(html: str) -> set[str]:
    """The distinct text nodes (stripped) and href values of `html`, unescaped.

    Each is a substring of the unescaped document (neither `<` nor `>` is inside an entity),
    so a title or link found among them is in the output.
    """
    found = {htmllib.unescape(node).strip() for node in set(_TEXT_NODE.findall(html))}
    found.update(htmllib.unescape(href) for href in set(_HREF.findall(html)))
    return found


def article_titles(loaded: LoadedIssue) -> list[tuple[str, str]]:
    """(field path, title) of every article of the issue."""
    return [
        (f"sections[{s}].articles[{a}]", article.title)
        for s, section in enumerate(loaded.issue.sections)
        for a, article in enumerate(section.articles)
    ]


def section_sizes(html: str, loaded: LoadedIssue) -> list[tuple[str, int]]:
    """Bytes of the email HTML each section takes, from its heading to the next one's."""
    starts: list[tuple[str, int]] = []
    position = 0
    for section in loaded.issue.sections:
        found = html.find(f">{htmllib.escape(section.title, quote=False)}</h2>", position)
        if found >= 0:
            starts.append((section.title, found))
            position = found + 1
    ends = [start for _, start in starts[1:]] + [len(html)]
    return [
        (title, len(html[start:end].encode("utf-8")))
        for (title, start), end in zip(starts, ends, strict=True)
    ]


def clip_warning(html: str, loaded: LoadedIssue) -> str | None:
    """A warning when the email is over Gmail's clip limit, naming the biggest sections."""
    size = len(html.encode("utf-8"))
    if size <= GMAIL_CLIP_BYTES:
        return None
    biggest = sorted(section_sizes(html, loaded), key=lambda item: -item[1])[:3]
    named = ", ".join(f"{title} ({_kb(n)})" for title, n in biggest)
    return (
        f"build/{loaded.id}/email.html is {_kb(size)}, over Gmail's clip limit of "
        f"{_kb(GMAIL_CLIP_BYTES)}: Gmail shows only the start, behind “[Message clipped]”. "
        f"Biggest sections: {named} — shorten them, or link to the web edition for long texts."
    )


def _kb(size: int) -> str:
    return f"{size / 1024:.1f} KB"
