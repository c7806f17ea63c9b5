"""Editorial checks: what is valid YAML but wrong for readers. Each warning says how to fix it."""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter

from nyhetsbrev.issue import markdown
from nyhetsbrev.issue.content import markdown_links
from nyhetsbrev.issue.crossrefs import page_references
from nyhetsbrev.issue.findings import Finding, sort_key
from nyhetsbrev.issue.hints import hints, is_vague_link
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.issue.yamlsource import FieldPath, dotted

PREHEADER_MAX = 130
TODAY_ENV = "NYHETSBREV_TODAY"
PLACEHOLDER_HOST = markdown.PLACEHOLDER_HOST
PLACEHOLDER_WORD = markdown.PLACEHOLDER_WORD


def today() -> dt.date:
    """The date checks compare against: `NYHETSBREV_TODAY` (YYYY-MM-DD) or the real date."""
    value = os.environ.get(TODAY_ENV)
    return dt.date.fromisoformat(value) if value else dt.date.today()


def lint(loaded: LoadedIssue, *, on: dt.date | None = None) -> list[Finding]:
    """Every editorial warning of an issue (and its publication), grouped: one line per kind."""
    now = on or today()
    issue, source = loaded.issue, loaded.source
    found: list[Finding] = list(loaded.masthead_gaps)

    def warn(path: FieldPath, code: str, message: str, *, line: int = 0, col: int = 0) -> None:
        if not line:
            mark = source.value_mark(path)
            line, col = mark.line, mark.col
        found.append(Finding(source.file, line, col, "warning", message, dotted(path), code))

    good_link = hints(loaded.language).good_link
    for (path, text), line, col, href in markdown_links(issue, source):
        _check_link(warn, path, text, href, line, col, good_link)
    found += page_references(issue, source)
    for s, section in enumerate(issue.sections):
        if not section.articles:
            warn(
                ("sections", s),
                "empty-section",
                "section has no articles yet: add articles, or remove the section",
            )
        for a, article in enumerate(section.articles):
            base: FieldPath = ("sections", s, "articles", a)
            for e, event in enumerate(article.events):
                path = (*base, "events", e)
                if event.url is not None:
                    _check_link(warn, (*path, "url"), event.title, event.url, 0, 0, good_link)
                if event.last_day < now:
                    warn(
                        path,
                        "event-past",
                        f"event is already over (today is {now.isoformat()}): "
                        "remove it, or move it to a report of what happened",
                    )
                elif event.last_day < loaded.period[1]:
                    warn(
                        path,
                        "event-early",
                        "event ends before this issue's period ends, so "
                        "it may be over when readers get the issue: check it belongs here",
                    )
            for d, decision in enumerate(article.decisions):
                if decision.url is not None:
                    _check_link(
                        warn,
                        (*base, "decisions", d, "url"),
                        decision.title,
                        decision.url,
                        0,
                        0,
                        good_link,
                    )
            if article.deadline is not None and article.deadline < now:
                warn(
                    (*base, "deadline"),
                    "deadline-past",
                    f"deadline has passed (today is {now.isoformat()}): remove or update the item",
                )
            for field in ("title", "body", "after"):
                value = getattr(article, field)
                if value and PLACEHOLDER_WORD.search(value):
                    warn(
                        (*base, field),
                        "placeholder-text",
                        "text still has a TODO/XXX marker: finish the text",
                    )
    titles = Counter(a.title.strip().casefold() for s in issue.sections for a in s.articles)
    seen: set[str] = set()
    for s, section in enumerate(issue.sections):
        for a, article in enumerate(section.articles):
            key = article.title.strip().casefold()
            if titles[key] > 1 and key in seen:
                warn(
                    ("sections", s, "articles", a, "title"),
                    "duplicate-title",
                    f'article title "{article.title}" is used more than once: '
                    "give each article its own title, or merge them",
                )
            seen.add(key)
    if not issue.preheader or not issue.preheader.strip():
        warn(
            (),
            "preheader-missing",
            "no preheader: add `preheader:` — one sentence the inbox shows after the subject",
            line=1,
            col=1,
        )
    elif len(issue.preheader) > PREHEADER_MAX:
        warn(
            ("preheader",),
            "preheader-long",
            f"preheader is {len(issue.preheader)} characters; inboxes show about "
            f"{PREHEADER_MAX}: shorten it",
        )
    url = loaded.publication.public_url
    if url and PLACEHOLDER_HOST.match(url):
        pub = os.path.relpath(loaded.publication_path)
        found.append(
            Finding(
                pub.replace(os.sep, "/"),
                _line_of(loaded, "public_url"),
                1,
                "warning",
                f"is a placeholder ({url}): set it to where `nyhetsbrev serve` runs before sending",
                "public_url",
                "placeholder-public-url",
            )
        )
    return group(found)


def _check_link(
    warn: object, path: FieldPath, text: str, href: str, line: int, col: int, good_link: str
) -> None:
    assert callable(warn)
    target = href.strip()
    if markdown.is_placeholder_link(target):
        shown = target or "(empty)"
        warn(
            path,
            "placeholder-link",
            f'link goes to "{shown}", a placeholder (`send --confirm` refuses it; a "#" link '
            "shows as plain text): give it the real address",
            line=line,
            col=col,
        )
    elif target.lower().startswith("http://"):
        warn(
            path,
            "http-link",
            f"link uses http:// ({target}): use https:// if the site has it",
            line=line,
            col=col,
        )
    if is_vague_link(text):
        warn(
            path,
            "vague-link-text",
            f'link text "{text.strip()}" does not say where it leads '
            f"(WCAG 2.4.4): link the words that name the target, e.g. {good_link}",
            line=line,
            col=col,
        )


def _line_of(loaded: LoadedIssue, key: str) -> int:
    try:
        lines = loaded.publication_path.read_text(encoding="utf-8-sig").splitlines()
    except OSError:
        return 1
    for number, text in enumerate(lines, 1):
        if text.startswith(f"{key}:"):
            return number
    return 1


def group(findings: list[Finding]) -> list[Finding]:
    """One finding per (file, code, message); the other places go into `others`."""
    groups: dict[tuple[str, str, str], list[Finding]] = {}
    for finding in sorted(findings, key=sort_key):
        groups.setdefault((finding.file, finding.code, finding.message), []).append(finding)
    out = []
    for items in groups.values():
        first = items[0]
        others = tuple((f.line, f.col) for f in items[1:])
        out.append(
            Finding(
                first.file,
                first.line,
                first.col,
                first.level,
                first.message,
                first.field,
                first.code,
                others,
            )
        )
    return sorted(out, key=sort_key)
