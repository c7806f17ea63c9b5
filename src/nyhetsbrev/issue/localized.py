"""The masthead in one language: a publication file's per-language texts (`title: {nb: …,
en: …}`) resolved for an issue, with a note of every text that had to fall back.

An issue uses its own language's text; where the file has none, the publication's language's
(which every per-language text must have: a located error otherwise), and `check` warns, naming
the field and the missing language.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nyhetsbrev.issue.content import languages_in
from nyhetsbrev.issue.findings import Finding
from nyhetsbrev.issue.model import LOCALIZED_BLOCKS, LOCALIZED_FIELDS, Publication, Strict
from nyhetsbrev.issue.validate import language_tag_problem
from nyhetsbrev.issue.yamlsource import FieldPath, SourceMap, dotted


@dataclass(frozen=True)
class Gap:
    """A per-language text without the wanted language: `path` fell back to `used`."""

    path: FieldPath
    wanted: str
    used: str


def _texts(raw: Strict) -> list[tuple[FieldPath, Any]]:
    """Every localizable value of the file with its path."""
    out: list[tuple[FieldPath, Any]] = []
    for name in LOCALIZED_FIELDS:
        out.append(((name,), getattr(raw, name)))
    for name in LOCALIZED_BLOCKS:
        block = getattr(raw, name)
        out.append(((name, "title"), block.title))
        out.append(((name, "body"), block.body))
    return out


def own_language(raw: Strict) -> str:
    """The publication's `language:` (PublicationFile is built at run time: no typed fields)."""
    return str(getattr(raw, "language"))  # noqa: B009


def missing_own_language(raw: Strict, source: SourceMap | None, shown: str) -> list[Finding]:
    """Errors: a per-language text without the publication's own language (the fallback)."""
    own = own_language(raw)
    found = []
    for path, value in _texts(raw):
        if isinstance(value, dict) and own not in value:
            mark = source.mark(path) if source is not None else None
            written = ", ".join(value)
            found.append(
                Finding(
                    shown,
                    mark.line if mark else 1,
                    mark.col if mark else 1,
                    "error",
                    f"has texts for {written} but not for {own}, the publication's language "
                    f"(`language: {own}`), which issues in other languages fall back to: "
                    f"add `{own}: …`",
                    dotted(path),
                    "masthead-language",
                )
            )
    return found


def masthead_language_tags(raw: Strict, source: SourceMap | None, shown: str) -> list[Finding]:
    """Errors: a `{lang=…}` in the masthead's boxes that is not a language tag."""
    if source is None:
        return []
    found = []
    for path, value in _texts(raw):
        if path[-1] != "body":
            continue
        texts = value.items() if isinstance(value, dict) else [(None, value)]
        for language, text in texts:
            at = (*path, language) if language else path
            for _, code, line, col in languages_in(at, text or "", source):
                problem = language_tag_problem(code)
                if problem:
                    found.append(Finding(shown, line, col, "error", problem, dotted(at)))
    return found


def resolve(raw: Strict, language: str) -> tuple[Publication, list[Gap]]:
    """The publication in `language`, and the texts that fell back to the publication's own."""
    own = own_language(raw)
    gaps: list[Gap] = []

    def pick(path: FieldPath, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        if language in value:
            return value[language]
        gaps.append(Gap(path, language, own))
        return value[own]

    data = raw.model_dump()
    for name in LOCALIZED_FIELDS:
        data[name] = pick((name,), data[name])
    for name in LOCALIZED_BLOCKS:
        block = data[name]
        block["title"] = pick((name, "title"), block["title"])
        block["body"] = pick((name, "body"), block["body"])
    return Publication.model_validate(data, strict=False), gaps


def gap_findings(gaps: list[Gap], source: SourceMap | None, shown: str) -> list[Finding]:
    """`check`'s warnings for the texts an issue's language lacks, at each field."""
    found = []
    for gap in gaps:
        mark = source.mark(gap.path) if source is not None else None
        found.append(
            Finding(
                shown,
                mark.line if mark else 1,
                mark.col if mark else 1,
                "warning",
                f"has no {gap.wanted} text, so this {gap.wanted} issue shows the {gap.used} one: "
                f"add `{gap.wanted}: …` under it",
                dotted(gap.path),
                "masthead-fallback",
            )
        )
    return found
