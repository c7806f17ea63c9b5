"""Typography per language: quotation marks, apostrophes, dashes and ellipses, as each writes them.

markdown-it's typographer does the work (its `smartquotes` and `replacements` rules), for the
Markdown bodies as they are parsed and for the plain one-line fields (titles, subtitles, event
names, the preheader) through the same rules, so every edition sets the same characters:

    nb, nn  «sitat» with ‹…› inside (typed as '…')    sv  ”citat”, ’…’    en  “quote”, ‘…’
    it's → it’s      -- → – (en dash)      --- → — (em dash)      ... → …   ((c) stays)
"""

from __future__ import annotations

import re
from functools import lru_cache

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from nyhetsbrev.issue.model import Article, CourtDecision, Event, Issue, Section

#: markdown-it's `quotes` option: double open, double close, single open, single close.
QUOTES: dict[str, str] = {"nb": "«»‹›", "nn": "«»‹›", "sv": "””’’", "en": "“”‘’"}
# markdown-it's own `replacements` also turns (c), (r), (tm) and +- into ©, ®, ™ and ±, which
# would change legal references such as "§ 257 (c)": only the dashes and the ellipsis, here.
_DASHES = (
    (re.compile(r"(^|[^-])---(?=[^-]|$)", re.M), "\\1\u2014"),
    (re.compile(r"(^|\s)--(?=\s|$)", re.M), "\\1\u2013"),
    (re.compile(r"(^|[^-\s])--(?=[^-\s]|$)", re.M), "\\1\u2013"),
    (re.compile(r"\.{3}"), "\u2026"),
)


# Date ranges written with a hyphen take an en dash: "21.-23. oktober", "2023-2024",
# "oktober-desember". Case numbers ("TTRO-2024-127230") and dates ("2024-10-21") keep theirs.
_DAY_RANGE = re.compile(r"(?<![\d.-])(\d{1,2}\.)-(\d{1,2}\.)(?![\d-])")
_YEAR_RANGE = re.compile(r"(?<![\w-])((?:19|20)\d\d)-((?:19|20)\d\d)(?![\w-])")


@lru_cache(maxsize=8)
def _month_range(language: str) -> re.Pattern[str]:
    from babel.dates import get_month_names

    names = {
        str(name).lower()
        for lang in (language, "en")
        for name in get_month_names("wide", locale=lang).values()
    }
    months = "|".join(sorted(names, key=len, reverse=True))
    return re.compile(rf"\b({months})-({months})\b", re.I)


def _dashes(state: StateCore) -> None:
    months = _month_range(state.md.options.get("language", "en"))
    for token in state.tokens:
        if token.type != "inline":
            continue
        for child in token.children or []:
            if child.type != "text" or not ("-" in child.content or "..." in child.content):
                continue
            text = child.content
            for pattern, replacement in _DASHES:
                text = pattern.sub(replacement, text)
            for pattern in (_DAY_RANGE, _YEAR_RANGE, months):
                text = pattern.sub("\\1\u2013\\2", text)
            child.content = text


def enable_typography(md: MarkdownIt, language: str) -> MarkdownIt:
    """Switch on the typographer with `language`'s quotation marks (English for any other)."""
    md.options["typographer"] = True
    md.options["quotes"] = QUOTES.get(language, QUOTES["en"])
    md.options["language"] = language
    md.core.ruler.before("smartquotes", "dashes", _dashes)
    md.enable(["smartquotes", "dashes"])
    return md


@lru_cache(maxsize=8)
def _plain(language: str) -> MarkdownIt:
    # "zero": no Markdown syntax at all, so a title's * or [ stays as it is.
    return enable_typography(MarkdownIt("zero", {"html": False}), language)


@lru_cache(maxsize=8192)
def typeset(text: str, language: str) -> str:
    """One line of plain text with `language`'s typography: "«KOM» -- nå" for nb."""
    if not any(c in text for c in "\"'-.(+?!,"):
        return text
    tokens = _plain(language).parseInline(text)
    return "".join(child.content for token in tokens for child in token.children or [])


def typeset_issue(issue: Issue, language: str) -> Issue:
    """The issue with its plain one-line fields typeset (Markdown fields are typeset as parsed)."""

    def opt(value: str | None) -> str | None:
        return typeset(value, language) if value else value

    def event(item: Event) -> Event:
        return item.model_copy(
            update={
                "title": typeset(item.title, language),
                "organiser": opt(item.organiser),
                "location": opt(item.location),
            }
        )

    def decision(item: CourtDecision) -> CourtDecision:
        return item.model_copy(update={"title": typeset(item.title, language)})

    def article(item: Article) -> Article:
        return item.model_copy(
            update={
                "title": typeset(item.title, language),
                "events": [event(e) for e in item.events],
                "decisions": [decision(d) for d in item.decisions],
            }
        )

    def section(item: Section) -> Section:
        return item.model_copy(
            update={
                "title": typeset(item.title, language),
                "subtitle": opt(item.subtitle),
                "articles": [article(a) for a in item.articles],
            }
        )

    return issue.model_copy(
        update={
            "title": opt(issue.title),
            "preheader": opt(issue.preheader),
            "closing": opt(issue.closing),
            "sections": [section(s) for s in issue.sections],
        }
    )
