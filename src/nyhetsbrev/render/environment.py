"""The one Jinja environment (per theme), built in one place, and the typed template context."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import os
import sys
from functools import lru_cache
from pathlib import Path
from typing import Any, TypedDict

import jinja2
from jinja2.bccache import Bucket
from markupsafe import Markup

from nyhetsbrev import __version__, i18n
from nyhetsbrev.brand import Brand, load_brand
from nyhetsbrev.errors import RenderError
from nyhetsbrev.issue import markdown
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.issue.model import CourtDecision, Event, Publication, Section
from nyhetsbrev.issue.typography import typeset_issue
from nyhetsbrev.render import typstcode
from nyhetsbrev.theme import Theme

AUTOESCAPED = (".html.j2", ".mjml.j2")


class TemplateContext(TypedDict):
    """What every template of a theme receives."""

    issue: LoadedIssue
    publication: Publication
    sections: list[Section]
    language: str
    labels: dict[str, str]
    title: str
    period_label: str
    brand: Brand
    extra: dict[str, Any]


def typeset(loaded: LoadedIssue) -> LoadedIssue:
    """The issue with its plain fields (titles, event names…) in its language's typography;
    every edition renders this (the Markdown fields get theirs as they are parsed)."""
    return dataclasses.replace(loaded, issue=typeset_issue(loaded.issue, loaded.language))


def context(loaded: LoadedIssue, theme: Theme, **extra: Any) -> TemplateContext:
    return TemplateContext(
        issue=loaded,
        publication=loaded.publication,
        sections=list(loaded.issue.sections),
        language=loaded.language,
        labels=theme.labels(loaded.language),
        title=loaded.title,
        period_label=loaded.period_label,
        brand=load_brand(theme.path),
        extra=dict(extra),
    )


def _autoescape(name: str | None) -> bool:
    return bool(name and name.endswith(AUTOESCAPED))


def md_html(text: str | None, link_attrs: str = "", language: str | None = None) -> Markup:
    """Markdown → HTML; every character of content is escaped, raw HTML never passes through.
    With a `language`, that language's typography (quotation marks, dashes)."""
    if not text:
        return Markup("")
    return Markup(markdown.blocks_html(markdown.parse(text, language), link_attrs))


def md_blocks(text: str | None, language: str | None = None) -> tuple[markdown.Block, ...]:
    return markdown.parse(text, language) if text else ()


def _in_language(function: Any) -> Any:
    """A filter that gets the template's `language` (for its typography) as a keyword."""

    @jinja2.pass_context
    def filter_(ctx: jinja2.runtime.Context, value: Any, *args: Any) -> Any:
        return function(value, *args, language=ctx.get("language"))

    return filter_


def day(value: dt.date | dt.datetime, language: str) -> str:
    return i18n.format_day(i18n.as_date(value), language)


def date_range(
    start: dt.date | dt.datetime, end: dt.date | dt.datetime | None, language: str
) -> str:
    return i18n.format_range(i18n.as_date(start), i18n.as_date(end) if end else None, language)


def numeric_date(value: dt.date, language: str) -> str:
    return i18n.format_numeric(value, language)


def event_when(event: Event, language: str, labels: dict[str, str]) -> str:
    """When (and how or where) an event happens: "15.–16. januar 2025, digitalt, Oslo"."""
    parts = [date_range(event.start, event.end, language)]
    if event.online:
        parts.append(label(labels, "online"))
    if event.location:
        parts.append(event.location)
    return ", ".join(parts)


def decision_details(decision: CourtDecision, language: str) -> str:
    """What goes in brackets after a case name: "application no. 22512/21, 10.10.2024"."""
    parts = [decision.reference] if decision.reference else []
    parts.append(numeric_date(decision.date, language))
    return ", ".join(parts)


def label(labels: dict[str, str], key: str, **values: Any) -> str:
    """`labels[key]` with {placeholders} filled; a missing key is an error, never a blank."""
    try:
        return labels[key].format(**values)
    except KeyError as exc:
        raise jinja2.UndefinedError(f"the theme has no label {exc} for this language") from exc


class TemplateCache(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept on disk between processes; any failure to read or write the
    cache only means compiling again (Jinja checks each entry against the template's source)."""

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except OSError:
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        with contextlib.suppress(OSError):  # a full disk, a read-only home: compile next time
            super().dump_bytecode(bucket)


def cache_dir() -> Path:
    """Where compiled templates live: the user's cache folder, one subfolder per version of
    nyhetsbrev and of Python (e.g. ~/.cache/nyhetsbrev/jinja-0.1.0-py3.11 on Linux)."""
    from platformdirs import user_cache_dir  # only when a template is rendered

    python = f"py{sys.version_info.major}.{sys.version_info.minor}"
    return Path(user_cache_dir("nyhetsbrev")) / f"jinja-{__version__}-{python}"


@lru_cache(maxsize=1)
def template_cache() -> jinja2.BytecodeCache | None:
    """The machine's template cache, or None (compile in memory) if its folder cannot be made
    or written, or NYHETSBREV_TEMPLATE_CACHE=off."""
    if os.environ.get("NYHETSBREV_TEMPLATE_CACHE", "").lower() in ("off", "0", "no"):
        return None
    try:
        folder = cache_dir()
        folder.mkdir(parents=True, exist_ok=True)
        if not os.access(folder, os.W_OK | os.X_OK):
            return None
    except (OSError, ImportError):
        return None
    return TemplateCache(str(folder))


@lru_cache(maxsize=8)
def get_env(theme_path: str) -> jinja2.Environment:
    """The Jinja environment of one theme folder: StrictUndefined, autoescaping for HTML/MJML."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(theme_path),
        autoescape=_autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=True,
        bytecode_cache=template_cache(),  # each template compiled once per machine, not per run
    )
    env.filters.update(
        md_html=_in_language(md_html),
        md_blocks=_in_language(md_blocks),
        day=day,
        date_range=date_range,
        numeric_date=numeric_date,
        event_when=event_when,
        decision_details=decision_details,
    )
    env.filters.update(  # the PDF edition: content only as Typst string literals
        typst_str=typstcode.typst_str,
        typst_md=_in_language(typstcode.md_typst),
        typst_fmt=typstcode.typst_fmt,
    )
    env.globals.update(label=label)
    env.tests["dead_link"] = markdown.is_dead_link
    return env


def environment(theme: Theme) -> jinja2.Environment:
    return get_env(str(theme.path))


def render(theme: Theme, name: str, ctx: TemplateContext) -> str:
    """Render one template of the theme; a template error becomes a `RenderError` naming where."""
    try:
        return environment(theme).get_template(name).render(ctx)
    except jinja2.TemplateSyntaxError as exc:
        raise RenderError(
            f"{exc.filename or theme.file(name)}:{exc.lineno}: template syntax error: {exc.message}"
        ) from exc
    except jinja2.TemplateNotFound as exc:
        raise RenderError(
            f'the theme "{theme.name}" ({theme.path}) has no template {exc.name}: '
            "add it, or copy it from the shipped theme"
        ) from exc
    except jinja2.UndefinedError as exc:
        raise RenderError(
            f"{theme.file(name)}: {exc.message} — the template uses a value the issue does not "
            "have: fix the template (or add the label to labels.yaml)"
        ) from exc
