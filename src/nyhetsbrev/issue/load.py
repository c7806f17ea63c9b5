"""YAML → typed model; every error located (`file:line:col`), explained, and reported at once."""

from __future__ import annotations

import datetime as dt
import difflib
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from nyhetsbrev.errors import IssueError
from nyhetsbrev.i18n import period_label
from nyhetsbrev.issue.findings import Finding, sort_key, summary
from nyhetsbrev.issue.model import ISSUE_ID as ISSUE_ID
from nyhetsbrev.issue.model import Issue, Publication, quarter_period
from nyhetsbrev.issue.yamlsource import FieldPath, SourceMap, YamlProblem, read_yaml
from nyhetsbrev.issue.yamlsource import dotted as dotted
from nyhetsbrev.render import markdown
from nyhetsbrev.workspace import Workspace

MARKDOWN_FIELDS = frozenset({"body", "after", "description"})
URL_OK = re.compile(
    r"^(https?://[^\s/]+\.[^\s]*|https?://localhost[^\s]*|mailto:[^\s@]+@[^\s]+|#)$"
)
ISO_DAY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")


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

    def shows_contact_box_after(self, index: int) -> bool:
        """Whether the "Kontakt oss" box follows section `index`: the one marked `contact_box`,
        or, when none is, the last section — so every edition shows it exactly once."""
        sections = self.issue.sections
        if any(s.contact_box for s in sections):
            return sections[index].contact_box
        return index == len(sections) - 1


def check_issue_id(issue_id: str) -> None:
    if not ISSUE_ID.match(issue_id):
        raise IssueError(
            f'"{issue_id}" is not an issue id: write the year and quarter as YYYY-qN, e.g. 2025-q1'
        )


def find_publication(ws: Workspace) -> tuple[str, Path]:
    """The publication masthead: the one `newsletters/*.yaml` file."""
    candidates = sorted(p for p in ws.newsletters.glob("*.yaml") if p.is_file())
    if not candidates:
        raise IssueError(
            f"{ws.relative(ws.newsletters)}/ has no publication file (e.g. kom.yaml): "
            "create one with `nyhetsbrev init`"
        )
    if len(candidates) > 1:
        names = ", ".join(p.name for p in candidates)
        raise IssueError(f"{ws.relative(ws.newsletters)}/ has several publication files ({names})")
    return candidates[0].stem, candidates[0]


def load_publication(ws: Workspace) -> tuple[str, Path, Publication | None, list[Finding]]:
    pub_id, path = find_publication(ws)
    model, _, findings = _load_model(path, ws.relative(path), Publication)
    return pub_id, path, model, findings  # type: ignore[return-value]


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
    pub_id, pub_path, publication, findings = load_publication(ws)
    issue, source, issue_findings = _load_model(path, ws.relative(path), Issue)
    findings += issue_findings
    if issue is None or source is None:
        return None, sorted(findings, key=sort_key)
    assert isinstance(issue, Issue)
    findings += _semantic(issue, issue_id, path.parent, source)
    if publication is None or any(f.level == "error" for f in findings):
        return None, sorted(findings, key=sort_key)
    loaded = LoadedIssue(issue_id, path, issue, publication, pub_id, pub_path, source)
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
        return None, None, [problem.finding]
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
        return None, source, _explain(exc, data, source, model)


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


def _data_path(loc: tuple[Any, ...], data: Any, kind: str) -> FieldPath:
    """Keep the parts of a pydantic location that name real keys/indices in the data."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        in_dict = isinstance(node, dict) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and part < len(node)
        if in_dict or in_list:
            node = node[part]
            path.append(part)
        elif kind in ("missing", "extra_forbidden") and i == len(loc) - 1 and isinstance(part, str):
            path.append(part)
    return tuple(path)


def _model_at(model: type[BaseModel], path: FieldPath) -> type[BaseModel] | None:
    current: Any = model
    for part in path:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:
            return None
        current = _unwrap(info.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    origin = typing.get_origin(annotation)
    if origin in (list, tuple):
        return _unwrap(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if arg is not type(None):
                inner = _unwrap(arg)
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    return inner
        return None
    return annotation


def _explain(
    exc: ValidationError, data: Any, source: SourceMap, model: type[BaseModel]
) -> list[Finding]:
    findings: dict[FieldPath, Finding] = {}
    for err in exc.errors(include_url=False):
        kind = err["type"]
        path = _data_path(err["loc"], data, kind)
        if path in findings:
            continue
        message = _message(err, path, source, model)
        mark = (
            source.mark(path) if kind in ("missing", "extra_forbidden") else source.value_mark(path)
        )
        if kind == "missing":
            mark = source.mark(path[:-1])
        findings[path] = Finding(source.file, mark.line, mark.col, "error", message, dotted(path))
    return list(findings.values())


def _message(err: Any, path: FieldPath, source: SourceMap, model: type[BaseModel]) -> str:
    kind, value = err["type"], err.get("input")
    info = source.scalars.get(path)
    raw = info.raw if info else repr(value)
    name = str(path[-1]) if path else "file"
    if kind == "missing":
        return f"`{name}` is required here: add `{name}: …`"
    if kind == "extra_forbidden":
        parent = _model_at(model, path[:-1])
        allowed = sorted(parent.model_fields) if parent else []
        close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
        hint = f'did you mean "{close[0]}"?' if close else f"allowed here: {', '.join(allowed)}"
        return f"unknown field `{name}`: {hint}"
    if isinstance(value, bool) and info and info.style is None and kind != "bool_type":
        if name == "language":
            return (
                f"YAML reads `{raw}` as {str(value).lower()}, not a language: write one of "
                "nb, nn, en, sv (Norwegian Bokmål is nb)"
            )
        word = str(value).lower()
        return f'YAML reads `{raw}` as {word} (a yes/no value): put it in quotes: "{raw}"'
    if kind in (
        "date_type",
        "datetime_type",
        "date_parsing",
        "date_from_datetime_inexact",
        "date_from_datetime_parsing",
        "datetime_parsing",
    ):
        if isinstance(value, str) and ISO_DAY.match(value.strip()):
            return (
                f'"{value}" is in quotes, so YAML reads it as text, not a date: remove the quotes'
            )
        if isinstance(value, dt.datetime):
            return f"`{raw}` has a time of day; write only the date: {value.date().isoformat()}"
        return f'"{raw}" is not a date: write it as YYYY-MM-DD, e.g. 2025-01-17'
    if kind == "string_type":
        if isinstance(value, dt.date):
            return f'YAML reads `{raw}` as a date, but text is expected: put it in quotes: "{raw}"'
        if isinstance(value, int | float):
            return (
                f'YAML reads `{raw}` as a number, but text is expected: put it in quotes: "{raw}"'
            )
        if value is None:
            return "is empty: write the text after the colon, or remove the line"
        return f"expected text, found {_kind(value)}"
    if kind == "literal_error":
        expected = err.get("ctx", {}).get("expected", "")
        choices = re.findall(r"'([^']*)'", expected)
        close = difflib.get_close_matches(str(value), choices, n=1, cutoff=0.5)
        hint = f' — did you mean "{close[0]}"?' if close else ""
        return f'"{raw}" is not one of {", ".join(choices)}{hint}'
    if kind == "bool_type":
        return f"expected true or false, not `{raw}`"
    if kind == "list_type":
        return f"expected a list (one `- ` line per item), found {_kind(value)}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"expected fields (`key: value` lines) here, found {_kind(value)}"
    if kind == "string_too_short":
        return "must not be empty"
    message = str(err.get("msg", "is not valid"))
    return message.removeprefix("Value error, ")


def _kind(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "fields (a mapping)"
    if isinstance(value, str):
        return f'the text "{value[:40]}"'
    return f"`{value}`"


def _semantic(issue: Issue, issue_id: str, folder: Path, source: SourceMap) -> list[Finding]:
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


def markdown_fields(issue: Issue) -> list[tuple[FieldPath, str]]:
    """Every Markdown text of an issue with its field path."""
    out: list[tuple[FieldPath, str]] = []
    for s, section in enumerate(issue.sections):
        for a, article in enumerate(section.articles):
            base: FieldPath = ("sections", s, "articles", a)
            out.append(((*base, "body"), article.body))
            for e, event in enumerate(article.events):
                if event.description:
                    out.append(((*base, "events", e, "description"), event.description))
            out.append(((*base, "after"), article.after))
    return [(path, text) for path, text in out if text]


def markdown_links(
    issue: Issue, source: SourceMap
) -> list[tuple[tuple[FieldPath, str], int, int, str]]:
    """Every link in the issue's Markdown: ((field path, link text), line, col, href)."""
    found = []
    for path, text in markdown_fields(issue):
        info = source.scalars.get(path)
        used: set[tuple[int, int]] = set()
        for link, block_line in markdown.links(markdown.parse(text)):
            line, col = _link_position(source, info, block_line, link, used)
            used.add((line, col))
            found.append(((path, link.text), line, col, link.href))
    return found


def _link_position(
    source: SourceMap, info: Any, block_line: int, link: markdown.Link, used: set[tuple[int, int]]
) -> tuple[int, int]:
    if info is None:
        return 1, 1
    # a `|` block's text starts on the line after `body: |`
    first = info.start.line + 1 if info.style == "|" else info.start.line
    needle = f"[{link.text}"
    for offset in range(block_line, min(block_line + 40, len(source.lines))):
        number = first + offset
        if 0 < number <= len(source.lines):
            col = source.lines[number - 1].find(needle)
            while col >= 0 and (number, col + 1) in used:
                col = source.lines[number - 1].find(needle, col + 1)
            if col >= 0:
                return number, col + 1
    return first + block_line, info.start.col
