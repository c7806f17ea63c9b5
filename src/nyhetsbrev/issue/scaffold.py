"""`nyhetsbrev new`: the next issue's file, scaffolded from the latest earlier issue."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from nyhetsbrev.errors import IssueError
from nyhetsbrev.issue.load import ISSUE_ID, check_issue_id, load_or_fail
from nyhetsbrev.issue.model import Article, Issue, Section, quarter_period
from nyhetsbrev.workspace import Workspace

SCHEMA_LINE = "# yaml-language-server: $schema=../issue.schema.json\n"


@dataclass(frozen=True)
class Scaffolded:
    path: Path
    source_id: str | None
    sections: int
    articles_kept: int
    events_kept: int


def issue_ids(ws: Workspace) -> list[str]:
    """Every issue id in the workspace, oldest first."""
    ids = [
        p.parent.name for p in ws.newsletters.glob("*/issue.yaml") if ISSUE_ID.match(p.parent.name)
    ]
    return sorted(ids, key=lambda i: (int(i[:4]), int(i[-1])))


def latest_before(ws: Workspace, issue_id: str) -> str | None:
    key = (int(issue_id[:4]), int(issue_id[-1]))
    earlier = [i for i in issue_ids(ws) if (int(i[:4]), int(i[-1])) < key]
    return earlier[-1] if earlier else None


def scaffold(ws: Workspace, issue_id: str, source_id: str | None = None) -> Scaffolded:
    """Write newsletters/<id>/issue.yaml; never overwrites an existing issue."""
    check_issue_id(issue_id)
    target = ws.issue_file(issue_id)
    if target.exists():
        raise IssueError(
            f"{ws.relative(target)} already exists: edit it, or remove it first to start over"
        )
    source_id = source_id or latest_before(ws, issue_id)
    start, _ = quarter_period(issue_id)
    if source_id is None:
        previous = Issue(sections=[])
        language = None
    else:
        check_issue_id(source_id)
        loaded, _ = load_or_fail(ws, source_id)
        previous, language = loaded.issue, loaded.issue.language
    sections, kept, events = [], 0, 0
    for section in previous.sections:
        articles = []
        for article in section.articles:
            upcoming = [e for e in article.events if e.start >= start]
            if article.recurring or upcoming:
                articles.append(article.model_copy(update={"events": upcoming, "decisions": []}))
                kept += 1
                events += len(upcoming)
        sections.append(section.model_copy(update={"articles": articles}))
    end = quarter_period(issue_id)[1]
    data: dict[str, Any] = {"period": {"start": start, "end": end}}
    if language:
        data["language"] = language
    data["preheader"] = ""
    data["sections"] = [_section_data(s) for s in sections]
    text = SCHEMA_LINE + yaml.dump(
        data,
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        width=100,
        default_flow_style=False,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_suffix(".yaml.tmp")
    temp.write_text(text, encoding="utf-8")
    temp.replace(target)
    return Scaffolded(target, source_id, len(sections), kept, events)


def _section_data(section: Section) -> dict[str, Any]:
    data = section.model_dump(exclude_defaults=True, exclude={"articles"})
    data["articles"] = [_article_data(a) for a in section.articles]
    return data


def _article_data(article: Article) -> dict[str, Any]:
    return article.model_dump(exclude_defaults=True)


class _Dumper(yaml.SafeDumper):
    """Multi-line text as `|` blocks, so Markdown stays readable and is not folded."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)  # indent lists under their key, as editors write


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if "\n" in value:
        value = "\n".join(line.rstrip() for line in value.splitlines()) + "\n"
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|")
    return dumper.represent_scalar("tag:yaml.org,2002:str", value)


_Dumper.add_representer(str, _str)
_Dumper.add_representer(dt.date, yaml.SafeDumper.represent_date)
