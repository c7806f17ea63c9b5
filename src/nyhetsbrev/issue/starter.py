"""`nyhetsbrev init`: a new workspace that works without this repository.

By default it is neutral, in the language asked for (nb, nn, en or sv): a masthead, boxes and
an example issue written for that language from `starter/<language>/`, with the team's name,
title and address filled in, and nothing of KOM's. `--example kom` writes KOM's instead.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from nyhetsbrev.errors import WorkspaceError
from nyhetsbrev.issue.lint import today
from nyhetsbrev.issue.model import write_schemas

STARTER = Path(__file__).resolve().parent.parent / "starter"
STARTER_LANGUAGES = ("nb", "nn", "en", "sv")
GITIGNORE = "build/\ncontacts/*.sqlite*\ncontacts/*/*.sqlite*\n.venv/\n"
_FIELD = re.compile(r"\{\{ (\w+) \}\}")
_EMAIL = re.compile(r"[^@\s<>()\[\]]+@[^@\s<>()\[\]]+\.[a-z]{2,}", re.IGNORECASE)
_URL = re.compile(r"https?://[^\s<>()\[\]]+")

#: What a starter says until the team names itself (it reads as a draft, not as someone else's).
DEFAULTS = {
    "nb": ("Vår organisasjon", "Nyhetsbrev"),
    "nn": ("Organisasjonen vår", "Nyheitsbrev"),
    "en": ("Our organisation", "Newsletter"),
    "sv": ("Vår organisation", "Nyhetsbrev"),
}


@dataclass(frozen=True)
class Masthead:
    """What `init` asks for: the language and who publishes."""

    language: str = "nb"
    name: str | None = None
    title: str | None = None
    email: str = "post@example.org"
    website: str = "https://example.org"
    short_name: str | None = None

    def fields(self) -> dict[str, str]:
        if self.language not in STARTER_LANGUAGES:
            raise WorkspaceError(
                f'--language "{self.language}": the starters are in '
                f"{', '.join(STARTER_LANGUAGES)}; choose one of them"
            )
        if not _EMAIL.fullmatch(self.email):
            raise WorkspaceError(f'--email "{self.email}" is not an address like post@example.org')
        if not _URL.fullmatch(self.website):
            raise WorkspaceError(
                f'--website "{self.website}" is not an address like https://example.org'
            )
        name, title = DEFAULTS[self.language]
        name = (self.name or name).strip()
        title = (self.title or title).strip()
        if not name or not title or "\n" in name + title:
            raise WorkspaceError("--name and --title must be one line of text each")
        return {
            "name": name,
            "title": title,
            "short_name": (self.short_name or short_name(name)).strip(),
            "email": self.email,
            "website": self.website,
            "email_text": self.email,
            "website_text": self.website,
        }


def short_name(name: str) -> str:
    """The name itself when short, else its initials: "Svenska Sällskapet för X" → "SSX"."""
    if len(name) <= 24:
        return name
    initials = "".join(word[0] for word in name.split() if word[0].isupper())
    return initials if len(initials) >= 2 else name[:24].rstrip()


def fill(template: str, values: dict[str, str]) -> str:
    """The starter with the team's values: YAML-quoted in fields, as they are in Markdown."""

    def value(match: re.Match[str]) -> str:
        key = match[1]
        text = values[key]
        return text if key.endswith("_text") else json.dumps(text, ensure_ascii=False)

    return _FIELD.sub(value, template)


@dataclass(frozen=True)
class Created:
    """What `nyhetsbrev init` made: the example issue's id, and one line per thing made."""

    issue_id: str
    made: list[str]


def create_workspace(
    directory: Path, masthead: Masthead | None = None, *, example: str | None = None
) -> Created:
    """Create the folders, masthead, schemas and an example issue; say what was made."""
    if example not in (None, "kom"):
        raise WorkspaceError(f'--example "{example}": the only example is kom')
    values = (masthead or Masthead()).fields() if example is None else {}
    now = today()
    issue_id = f"{now.year}-q{(now.month - 1) // 3 + 1}"
    for name in ("newsletters", "templates", "contacts", "build"):
        (directory / name).mkdir(parents=True, exist_ok=True)
    newsletters = directory / "newsletters"
    issue_dir = newsletters / issue_id
    issue_dir.mkdir()
    if example == "kom":
        masthead_name = "kom.yaml"
        shutil.copyfile(STARTER / "kom.yaml", newsletters / masthead_name)
        shutil.copyfile(STARTER / "example-issue.yaml", issue_dir / "issue.yaml")
    else:
        language = (masthead or Masthead()).language
        masthead_name = "publication.yaml"
        for source, target in (
            ("publication.yaml", newsletters / masthead_name),
            ("issue.yaml", issue_dir / "issue.yaml"),
        ):
            text = (STARTER / language / source).read_text(encoding="utf-8")
            target.write_text(fill(text, values), encoding="utf-8")
    write_schemas(newsletters)
    # The theme stays in the package, so an upgrade brings its fixes; `nyhetsbrev theme copy`
    # puts an editable copy in templates/ for a team that wants its own look.
    (directory / ".gitignore").write_text(GITIGNORE, encoding="utf-8")
    return Created(
        issue_id,
        [
            f"newsletters/{masthead_name}  (the masthead: edit names, addresses, about text)",
            "newsletters/issue.schema.json, publication.schema.json  (editor completion)",
            "templates/  (empty: the packaged theme is used; `nyhetsbrev theme copy` to edit it)",
            "contacts/, build/",
            f"newsletters/{issue_id}/issue.yaml  (an example issue)",
        ],
    )
