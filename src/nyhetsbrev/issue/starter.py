"""`nyhetsbrev init`: a new workspace that works without this repository."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from nyhetsbrev.issue.lint import today
from nyhetsbrev.issue.model import write_schemas

STARTER = Path(__file__).resolve().parent.parent / "starter"
GITIGNORE = "build/\ncontacts/*.sqlite*\n.venv/\n"


@dataclass(frozen=True)
class Created:
    """What `nyhetsbrev init` made: the example issue's id, and one line per thing made."""

    issue_id: str
    made: list[str]


def create_workspace(directory: Path) -> Created:
    """Create the folders, masthead, schemas, theme and an example issue; say what was made."""
    now = today()
    issue_id = f"{now.year}-q{(now.month - 1) // 3 + 1}"
    for name in ("newsletters", "templates", "contacts", "build"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STARTER / "kom.yaml", directory / "newsletters" / "kom.yaml")
    write_schemas(directory / "newsletters")
    issue_dir = directory / "newsletters" / issue_id
    issue_dir.mkdir()
    shutil.copyfile(STARTER / "example-issue.yaml", issue_dir / "issue.yaml")
    # The theme stays in the package, so an upgrade brings its fixes; `nyhetsbrev theme copy`
    # puts an editable copy in templates/ for a team that wants its own look.
    (directory / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    return Created(
        issue_id,
        [
            "newsletters/kom.yaml  (the masthead: edit names, addresses, about text)",
            "newsletters/issue.schema.json, publication.schema.json  (editor completion)",
            "templates/  (empty: the packaged theme is used; `nyhetsbrev theme copy` to edit it)",
            "contacts/, build/",
            f"newsletters/{issue_id}/issue.yaml  (an example issue)",
        ],
    )
