"""The loader: issue and publication files → the typed model, every error a located finding.

It reads the YAML with line marks (`yamlsource`), catches what YAML does to Markdown texts,
lets the model validate (pydantic errors are translated by `explain`) and runs the model's
checks beyond its types (`validate`). Everything wrong is reported at once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from nyhetsbrev.errors import IssueError
from nyhetsbrev.i18n import period_label
from nyhetsbrev.issue.buildable import build_blockers
from nyhetsbrev.issue.explain import explain
from nyhetsbrev.issue.findings import Finding, sort_key, summary
from nyhetsbrev.issue.localized import (
    gap_findings,
    masthead_language_tags,
    missing_own_language,
    own_language,
    resolve,
)
from nyhetsbrev.issue.masthead import check_publication, shown
from nyhetsbrev.issue.model import ISSUE_ID as ISSUE_ID
from nyhetsbrev.issue.model import (
    ISSUE_YEARS,
    Issue,
    Publication,
    PublicationFile,
    Strict,
    quarter_period,
)
from nyhetsbrev.issue.validate import check_content
from nyhetsbrev.issue.yamlsource import SourceMap, YamlProblem, dotted, read_yaml
from nyhetsbrev.workspace import Workspace

MARKDOWN_FIELDS = frozenset({"body", "after", "description"})
EMPTY_PUBLICATION = (
    "file is empty: the publication file holds the masthead (name, title, sender, contact_email, "
    "website, contact, about, contact_list …): start from the one `nyhetsbrev init` writes, "
    "see docs/authoring.md"
)
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class LoadedIssue:
    """An issue with its publication, ready to lint and render."""

    id: str
    path: Path
    issue: Issue
    publication: Publication
    publication_id: str
    publication_path: Path
    source: SourceMap
    token_scope: str | None = None  # the publication, in a workspace with several
    #: `check`'s warnings for masthead texts the issue's language lacks (they fell back).
    masthead_gaps: tuple[Finding, ...] = ()

    @property
    def dir(self) -> Path:
        return self.path.parent

    @property
    def language(self) -> str:
        return self.issue.language or self.publication.language

    @property
    def period(self) -> tuple[dt.date, dt.date]:
        return quarter_period(self.id)

    @property
    def period_label(self) -> str:
        return period_label(*self.period, self.language)

    @property
    def title(self) -> str:
        return self.issue.title or self.publication.title


def check_issue_id(issue_id: str) -> None:
    match = ISSUE_ID.match(issue_id)
    if not match:
        raise IssueError(
            f"{shown(issue_id)} is not an issue id: write the year and quarter as YYYY-qN with "
            "ASCII digits, e.g. 2025-q1"
        )
    if int(match["year"]) not in ISSUE_YEARS:
        raise IssueError(
            f"{shown(issue_id)}: the year {match['year']} is out of range "
            f"({ISSUE_YEARS.start}–{ISSUE_YEARS.stop - 1}): write the issue's year, e.g. 2025-q1"
        )


def find_publication(ws: Workspace) -> tuple[str, Path]:
    """The publication masthead: the one `newsletters/*.yaml` file (with several publications,
    `newsletters/<name>/publication.yaml`, and the publication's id is its folder's name)."""
    candidates = sorted(p for p in ws.newsletters.glob("*.yaml") if p.is_file())
    if not candidates:
        raise IssueError(
            f"{ws.relative(ws.newsletters)}/ has no publication file (e.g. kom.yaml): "
            "create one with `nyhetsbrev init`"
        )
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise IssueError(
            f"{ws.relative(ws.newsletters)}/ has several publication files ({names}): give each "
            "publication its own folder, newsletters/<name>/publication.yaml with its issues "
            "in newsletters/<name>/<id>/; `nyhetsbrev migrate` moves the first one there "
            "(see docs/authoring.md, Several publications)"
        )
    return ws.publication or candidates[0].stem, candidates[0]


def load_publication(ws: Workspace) -> tuple[str, Path, Publication | None, list[Finding]]:
    """The publication in its own language (None if its file has errors)."""
    pub_id, path, raw, _, findings = load_masthead(ws)
    return pub_id, path, resolve(raw, own_language(raw))[0] if raw else None, findings


def load_masthead(
    ws: Workspace,
) -> tuple[str, Path, Strict | None, SourceMap | None, list[Finding]]:
    """The publication file as written (texts per language), for `localized.resolve`."""
    pub_id, path = find_publication(ws)
    where = ws.relative(path)
    raw, source, findings = _load_model(path, where, PublicationFile)
    if raw is not None:
        findings += missing_own_language(raw, source, where)  # type: ignore[arg-type]
        findings += masthead_language_tags(raw, source, where)  # type: ignore[arg-type]
    if raw is not None and source is not None and not findings:
        # the rules beyond the types, on the texts of the publication's own language
        findings += check_publication(resolve(raw, own_language(raw))[0], source)  # type: ignore[arg-type]
    if any(f.level == "error" for f in findings):
        return pub_id, path, None, source, findings
    return pub_id, path, raw, source, findings  # type: ignore[return-value]


def load(ws: Workspace, issue_id: str) -> tuple[LoadedIssue | None, list[Finding]]:
    """Load an issue and its publication. Returns the issue (None if it has errors) and findings."""
    check_issue_id(issue_id)
    path = ws.issue_file(issue_id)
    if not path.exists():
        known = sorted(p.parent.name for p in ws.newsletters.glob("*/issue.yaml"))
        hint = f" Issues here: {', '.join(known)}." if known else ""
        raise IssueError(
            f"{ws.relative(path)} does not exist: start it with `nyhetsbrev new {issue_id}`.{hint}"
        )
    pub_id, pub_path, raw, pub_source, findings = load_masthead(ws)
    issue, source, issue_findings = _load_model(path, ws.relative(path), Issue)
    findings += issue_findings
    if issue is None or source is None:
        return None, sorted(findings, key=sort_key)
    assert isinstance(issue, Issue)
    findings += check_content(issue, issue_id, path.parent, source)
    findings += build_blockers(issue, source)  # what `build` would refuse: errors here
    if raw is None or any(f.level == "error" for f in findings):
        return None, sorted(findings, key=sort_key)
    publication, gaps = resolve(raw, issue.language or own_language(raw))
    masthead = tuple(gap_findings(gaps, pub_source, ws.relative(pub_path)))
    loaded = LoadedIssue(
        issue_id,
        path,
        issue,
        publication,
        pub_id,
        pub_path,
        source,
        ws.token_scope,
        masthead_gaps=masthead,
    )
    return loaded, sorted(findings, key=sort_key)


def load_or_fail(ws: Workspace, issue_id: str) -> tuple[LoadedIssue, list[Finding]]:
    """Load, or raise one `IssueError` listing every error."""
    loaded, findings = load(ws, issue_id)
    if loaded is None:
        errors = [f for f in findings if f.level == "error"]
        lines = "\n".join(f.format() for f in errors)
        raise IssueError(f"{lines}\n{summary(errors)}: fix these, then run the command again.")
    return loaded, findings


def _load_model(
    path: Path, shown: str, model: type[BaseModel]
) -> tuple[BaseModel | None, SourceMap | None, list[Finding]]:
    try:
        data, source, findings = read_yaml(path, shown)
    except YamlProblem as problem:
        finding = problem.finding
        if model in (Publication, PublicationFile) and finding.message.startswith("file is empty"):
            finding = dataclasses.replace(finding, message=EMPTY_PUBLICATION)
        return None, None, [finding]
    findings += _surrogates(source)
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single value ({data!r:.40})"
        return (
            None,
            source,
            [
                Finding(
                    shown,
                    1,
                    1,
                    "error",
                    f"expected fields (`key: value` lines) at the top, "
                    f"found {kind}: see docs/authoring.md for the format",
                )
            ],
        )
    findings += _markdown_traps(data, source)
    if findings:  # duplicate keys etc.: the data is not what the editor wrote; stop here
        return None, source, findings
    try:
        return model.model_validate(data), source, []
    except ValidationError as exc:
        return None, source, explain(exc, data, source, model)


def _markdown_traps(data: Any, source: SourceMap) -> list[Finding]:
    found = []
    for path, info in source.scalars.items():
        folded = info.style != "|" and info.end_line > info.start.line and info.raw.strip()
        if not (path and path[-1] in MARKDOWN_FIELDS and folded):
            continue
        how = "folded it into one line" if info.style in (None, ">") else "joined its lines"
        message = (
            f"this text spans several lines but is not a `|` block, so YAML {how} "
            f"(paragraphs and lists are lost): write `{path[-1]}: |` and indent the text below it"
        )
        found.append(
            Finding(source.file, info.start.line, info.start.col, "error", message, dotted(path))
        )
    return found


def _surrogates(source: SourceMap) -> list[Finding]:
    """A `\\ud800`-style escape in a quoted text is half of a character pair: no character."""
    found = []
    for path, info in source.scalars.items():
        bad = _SURROGATE.search(info.raw)
        if bad:
            escape = f"\\u{ord(bad.group()):04x}"
            message = (
                f"{escape} is half of a character pair (a lone surrogate), not a character: "
                "type the character itself, or write it as one escape, e.g. \\U0001F600"
            )
            found.append(
                Finding(
                    source.file, info.start.line, info.start.col, "error", message, dotted(path)
                )
            )
    return found
