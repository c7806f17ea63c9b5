"""The workspace: the folder holding newsletters/, templates/, contacts/ and build/."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from nyhetsbrev.errors import WorkspaceError

ROOT_ENV = "NYHETSBREV_ROOT"
DATABASE_ENV = "NYHETSBREV_DATABASE_URL"


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace. Construct with `Workspace.find()`."""

    root: Path

    @property
    def newsletters(self) -> Path:
        return self.root / "newsletters"

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def contacts_dir(self) -> Path:
        return self.root / "contacts"

    @property
    def build_dir(self) -> Path:
        return self.root / "build"

    def issue_dir(self, issue_id: str) -> Path:
        return self.newsletters / issue_id

    def issue_file(self, issue_id: str) -> Path:
        return self.issue_dir(issue_id) / "issue.yaml"

    def database_url(self) -> str:
        """`NYHETSBREV_DATABASE_URL`, or the SQLite file `contacts/contacts.sqlite`."""
        url = os.environ.get(DATABASE_ENV)
        if url:
            return url
        return f"sqlite:///{(self.contacts_dir / 'contacts.sqlite').as_posix()}"

    def relative(self, path: Path) -> str:
        """A path as a person should see it: relative to the current folder when possible."""
        try:
            return Path(os.path.relpath(path)).as_posix()
        except ValueError:  # another drive on Windows
            return path.as_posix()

    @staticmethod
    def is_workspace(path: Path) -> bool:
        return (path / "newsletters").is_dir()

    @classmethod
    def find(cls, root: str | os.PathLike[str] | None = None) -> Workspace:
        """The workspace named by `root`, `NYHETSBREV_ROOT`, or the current folder or a parent."""
        named = root if root is not None else os.environ.get(ROOT_ENV)
        if named:
            path = Path(named).resolve()
            if not cls.is_workspace(path):
                raise WorkspaceError(
                    f"{path} is not a nyhetsbrev workspace (it has no newsletters/ folder). "
                    "Create one with `nyhetsbrev init DIR`."
                )
            return cls(path)
        here = Path.cwd().resolve()
        for candidate in (here, *here.parents):
            if cls.is_workspace(candidate):
                return cls(candidate)
        raise WorkspaceError(
            f"{here} is not inside a nyhetsbrev workspace (no newsletters/ folder here or above): "
            "cd into one, pass --root DIR, or create one with `nyhetsbrev init DIR`."
        )
