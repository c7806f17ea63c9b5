"""What the model checks beyond its types: the period against the id, link addresses, images.

The types (pydantic, strict) say what a field may hold; these checks need more than one field,
or the issue's folder. Each problem is a located error finding.
"""

from __future__ import annotations

import re
from pathlib import Path

from babel import Locale, UnknownLocaleError

from nyhetsbrev.issue.content import markdown_languages, markdown_links
from nyhetsbrev.issue.findings import Finding
from nyhetsbrev.issue.model import Issue, quarter_period
from nyhetsbrev.issue.yamlsource import FieldPath, SourceMap, dotted

URL_OK = re.compile(
    r"^(https?://[^\s/]+\.[^\s]*|https?://localhost[^\s]*|mailto:[^\s@]+@[^\s]+|#)$"
)


def check_content(issue: Issue, issue_id: str, folder: Path, source: SourceMap) -> list[Finding]:
    """Errors the types cannot express: period vs id, link addresses, image files."""
    out: list[Finding] = []

    def add(path: FieldPath, message: str, *, key: bool = False) -> None:
        mark = source.mark(path) if key else source.value_mark(path)
        out.append(Finding(source.file, mark.line, mark.col, "error", message, dotted(path)))

    start, end = quarter_period(issue_id)
    if issue.period and (issue.period.start, issue.period.end) != (start, end):
        add(
            ("period",),
            f"does not match the id {issue_id}: it is {start.isoformat()} to "
            f"{end.isoformat()}; write `start: {start.isoformat()}` and `end: {end.isoformat()}`"
            " (or remove `period`: it follows from the id)",
            key=True,
        )
    for (path, _text), line, col, href in markdown_links(issue, source):
        if not URL_OK.match(href) and href.strip():
            out.append(
                Finding(
                    source.file,
                    line,
                    col,
                    "error",
                    f'not a link address: "{href}" — write it in full with https://',
                    dotted(path),
                )
            )
    for path, code, line, col in markdown_languages(issue, source):
        problem = language_tag_problem(code)
        if problem:
            out.append(Finding(source.file, line, col, "error", problem, dotted(path)))
    for s, section in enumerate(issue.sections):
        for a, article in enumerate(section.articles):
            base: FieldPath = ("sections", s, "articles", a)
            if article.image is not None:
                src = article.image.src
                target = (folder / src).resolve()
                if ".." in Path(src).parts or Path(src).is_absolute():
                    add(
                        (*base, "image", "src"),
                        "the image must be a file inside the issue "
                        "folder: write its name only, e.g. bilde.png",
                    )
                elif not target.is_file():
                    add(
                        (*base, "image", "src"),
                        f'image file "{src}" not found in '
                        f"{folder.name}/: put the file there or fix the name",
                    )
            for kind in ("events", "decisions"):
                for i, item in enumerate(getattr(article, kind)):
                    if item.url and not URL_OK.match(item.url):
                        add(
                            (*base, kind, i, "url"),
                            f'not a link address: "{item.url}" — write it in full with https://',
                        )
    return out


def language_tag_problem(code: str) -> str | None:
    """Why `{lang=CODE}` is not a language tag readers' tools know, or None when it is one.

    A BCP 47 tag (sv, en-GB, nn-NO) that Babel has data for; the language itself two or three
    letters, as the PDF edition (Typst) and screen readers need it.
    """
    how = (
        "write a language tag such as sv, en, nn, da or en-GB, "
        "e.g. [Från ord till handling]{lang=sv}"
    )
    language = code.split("-")[0]
    if not (2 <= len(language) <= 3 and language.isalpha()):
        return f'"{code}" is not a language tag: {how}'
    try:
        Locale.parse(code, sep="-")
    except (ValueError, UnknownLocaleError):
        return f'"{code}" is not a language Babel knows: {how}'
    return None
