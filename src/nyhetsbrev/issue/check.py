"""The first half of the one pipeline: load an issue, lint it, sort what was found.

`check`, `build`, `preview` and `send` all start here; each decides for itself what the
findings mean for it (print them, stop the build, show them in the page, refuse to send).
"""

from __future__ import annotations

from dataclasses import dataclass

from nyhetsbrev.issue.findings import Finding, sort_key
from nyhetsbrev.issue.load import LoadedIssue, load
from nyhetsbrev.workspace import Workspace


@dataclass(frozen=True)
class Checked:
    """An issue as loaded (None when it has errors) and every finding, sorted by place."""

    issue_id: str
    loaded: LoadedIssue | None
    findings: list[Finding]

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "error"]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.level == "warning"]


def check_issue(ws: Workspace, issue_id: str) -> Checked:
    """Load and lint: every error and editorial warning of an issue, in file order.

    Raises `IssueError` only when there is nothing to check (a bad id, no such issue, no
    publication file); everything wrong inside the files is a finding.
    """
    from nyhetsbrev.issue.lint import lint

    loaded, findings = load(ws, issue_id)
    if loaded is not None:
        findings = [*findings, *lint(loaded), *brand_findings(ws, loaded.publication.theme)]
    return Checked(issue_id, loaded, sorted(findings, key=sort_key))


def brand_findings(ws: Workspace, theme_name: str) -> list[Finding]:
    """The problems of the workspace theme's brand.yaml (pale colours, missing logo files).
    A packaged theme's brand is the package's (tested there); an unknown theme is the build's
    to report."""
    from nyhetsbrev.brand import check_brand
    from nyhetsbrev.errors import NyhetsbrevError
    from nyhetsbrev.theme import find_theme

    try:
        theme = find_theme(ws, theme_name)
    except NyhetsbrevError:
        return []
    if not theme.path.is_relative_to(ws.templates):
        return []
    return check_brand(theme.path, ws.relative(theme.path / "brand.yaml"))
