"""A finding: one located error or warning, printed as `file:line:col: level: message`."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass
from typing import Any, Literal

import click

Level = Literal["error", "warning"]


@dataclass(frozen=True)
class Finding:
    """One problem at one place. `others` holds further places of a grouped warning."""

    file: str
    line: int
    col: int
    level: Level
    message: str
    field: str = ""
    code: str = ""
    others: tuple[tuple[int, int], ...] = dataclasses.field(default=())

    def format(self) -> str:
        where = f"{self.file}:{self.line}:{self.col}"
        what = f"{self.field}: {self.message}" if self.field else self.message
        text = f"{where}: {self.level}: {what}"
        if self.others:
            lines = ", ".join(str(line) for line, _ in self.others[:12])
            more = f" and {len(self.others) - 12} more" if len(self.others) > 12 else ""
            text += f" (also at lines {lines}{more})"
        return text

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["others"] = [{"line": line, "col": col} for line, col in self.others]
        return data


def summary(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.level == "error")
    warnings = sum(1 + len(f.others) for f in findings if f.level == "warning")
    parts = [f"{errors} error{'s' if errors != 1 else ''}"]
    parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)


def sort_key(finding: Finding) -> tuple[str, int, int, str]:
    return (finding.file, finding.line, finding.col, finding.message)


def print_findings(findings: list[Finding], *, err: bool = False) -> None:
    """Print findings one a line, the level in red (error) or yellow (warning): the one way
    `check`, `build` and `send` show them (colour only on a terminal)."""
    for finding in findings:
        color = "red" if finding.level == "error" else "yellow"
        head, _, rest = finding.format().partition(f": {finding.level}: ")
        level = click.style(finding.level, fg=color, bold=True)
        click.echo(f"{head}: {level}: {rest}", err=err)
