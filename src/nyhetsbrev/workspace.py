"""The workspace: the folder holding newsletters/, templates/, contacts/ and build/.

A workspace holds one publication or several. One (today's layout, unchanged):

    newsletters/kom.yaml            the masthead
    newsletters/2025-q1/issue.yaml  its issues
    build/2025-q1/                  their editions
    contacts/contacts.sqlite        its contact list

Several: each publication has its own folder, holding its masthead and its issues, and its
editions and contact list are kept apart the same way:

    newsletters/kom/publication.yaml      newsletters/kom/2025-q1/issue.yaml
    build/kom/2025-q1/                    contacts/kom/contacts.sqlite

The layout is detected (no setting). A `Workspace` is always for one publication: the paths
below are that publication's; `templates/` (the themes) is shared.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from nyhetsbrev.errors import WorkspaceError

ROOT_ENV = "NYHETSBREV_ROOT"
DATABASE_ENV = "NYHETSBREV_DATABASE_URL"
PUBLICATION_ENV = "NYHETSBREV_PUBLICATION"
PUBLICATION_FILE = "publication.yaml"
#: In the folder of the publication `nyhetsbrev migrate` moved: its links stay signed unscoped.
UNSCOPED_MARKER = ".links-unscoped"
PUBLICATION_NAME = re.compile(r"[a-z0-9][a-z0-9-]*")


def publication_folders(newsletters: Path) -> list[str]:
    """The publications of a several-publication workspace: folders with a publication.yaml."""
    if not newsletters.is_dir():
        return []
    return sorted(p.parent.name for p in newsletters.glob(f"*/{PUBLICATION_FILE}") if p.is_file())


def database_env(publication: str) -> str:
    """`NYHETSBREV_DATABASE_URL_KOM` for publication `kom` (hyphens become underscores)."""
    return f"{DATABASE_ENV}_{publication.upper().replace('-', '_')}"


@dataclass(frozen=True)
class Workspace:
    """Paths of one workspace, for one of its publications. Construct with `Workspace.find()`.

    `publication` is None in a one-publication workspace (today's layout), else the name of the
    publication's folder under newsletters/.
    """

    root: Path
    publication: str | None = None

    @property
    def several(self) -> bool:
        return self.publication is not None

    @property
    def newsletters(self) -> Path:
        """The folder with this publication's masthead and issue folders."""
        top = self.root / "newsletters"
        return top / self.publication if self.publication else top

    @property
    def templates(self) -> Path:
        return self.root / "templates"

    @property
    def contacts_dir(self) -> Path:
        top = self.root / "contacts"
        return top / self.publication if self.publication else top

    @property
    def build_dir(self) -> Path:
        top = self.root / "build"
        return top / self.publication if self.publication else top

    @property
    def token_scope(self) -> str | None:
        """What personal links are signed for: the publication when there are several, so a
        link of one is worthless on another (each has its own contact ids); None otherwise,
        so the links already sent from a one-publication workspace keep working (also after
        `nyhetsbrev migrate` moved it into its folder: the folder then has a .links-unscoped)."""
        if self.publication is None or self.links_unscoped:
            return None
        return self.publication

    @property
    def links_unscoped(self) -> bool:
        return self.publication is not None and (self.newsletters / UNSCOPED_MARKER).is_file()

    def issue_dir(self, issue_id: str) -> Path:
        return self.newsletters / issue_id

    def issue_file(self, issue_id: str) -> Path:
        return self.issue_dir(issue_id) / "issue.yaml"

    def database_url(self) -> str:
        """The contact database: `NYHETSBREV_DATABASE_URL`, or the SQLite file
        `contacts/contacts.sqlite`. With several publications each has its own list:
        `NYHETSBREV_DATABASE_URL_<NAME>` or `contacts/<name>/contacts.sqlite`."""
        if self.publication is None:
            url = os.environ.get(DATABASE_ENV)
            if url:
                return url
            return f"sqlite:///{(self.contacts_dir / 'contacts.sqlite').as_posix()}"
        url = os.environ.get(database_env(self.publication))
        if url:
            return url
        if os.environ.get(DATABASE_ENV):
            raise WorkspaceError(
                f"{DATABASE_ENV} is set, but this workspace has several publications and each "
                f"keeps its own contact list: set {database_env(self.publication)} for "
                f'"{self.publication}" instead (and unset {DATABASE_ENV})'
            )
        return f"sqlite:///{(self.contacts_dir / 'contacts.sqlite').as_posix()}"

    def relative(self, path: Path) -> str:
        """A path as a person should see it: relative to the current folder when possible."""
        try:
            return Path(os.path.relpath(path)).as_posix()
        except ValueError:  # another drive on Windows
            return path.as_posix()

    def publications(self) -> list[str]:
        """Every publication of this workspace ([] for a one-publication workspace)."""
        return publication_folders(self.root / "newsletters")

    def each(self) -> list[Workspace]:
        """This workspace once per publication (itself when it has one)."""
        names = self.publications()
        return [Workspace(self.root, name) for name in names] if names else [self]

    @staticmethod
    def is_workspace(path: Path) -> bool:
        return (path / "newsletters").is_dir()

    @classmethod
    def find(
        cls, root: str | os.PathLike[str] | None = None, publication: str | None = None
    ) -> Workspace:
        """The workspace named by `root`, `NYHETSBREV_ROOT`, or the current folder or a parent;
        for `publication` (or `NYHETSBREV_PUBLICATION`), which may be left out when there is
        only one."""
        return cls.find_root(root).select(publication or os.environ.get(PUBLICATION_ENV) or None)

    def select(self, publication: str | None) -> Workspace:
        """This workspace for `publication`; an error listing them if it is unknown, or if
        there are several and none was named."""
        top = self.root / "newsletters"
        names = publication_folders(top)
        loose = sorted(p.name for p in top.glob("*.yaml") if p.is_file())
        if names and loose:
            raise WorkspaceError(
                f"{self.relative(top)}/ mixes both layouts: {', '.join(loose)} at the top and "
                f"publication folders ({', '.join(names)}). Move the top-level publication into "
                "its own folder with `nyhetsbrev migrate`"
            )
        if not names:
            if publication is not None:
                single = loose[0].removesuffix(".yaml") if len(loose) == 1 else None
                if publication != single:
                    shown = f'"{single}"' if single else "none with that name"
                    raise WorkspaceError(
                        f'there is no publication "{publication}" in {self.relative(top)}/ '
                        f"(it has {shown}): drop --publication, or name one that exists"
                    )
            return Workspace(self.root)
        if publication is None:
            if len(names) == 1:
                return Workspace(self.root, names[0])
            raise WorkspaceError(
                f"this workspace has several publications ({', '.join(names)}): say which "
                f"with --publication NAME (or {PUBLICATION_ENV}=NAME), e.g. "
                f"`nyhetsbrev --publication {names[0]} …`"
            )
        unscoped = [n for n in names if (top / n / UNSCOPED_MARKER).is_file()]
        if len(unscoped) > 1:
            raise WorkspaceError(
                f"{', '.join(f'newsletters/{n}/{UNSCOPED_MARKER}' for n in unscoped)}: only the "
                "publication `nyhetsbrev migrate` moved may sign its links unscoped; delete the "
                "others' marker (their links would work on each other's pages)"
            )
        if publication not in names:
            raise WorkspaceError(
                f'there is no publication "{publication}": the publications here are '
                f"{', '.join(names)}"
            )
        return Workspace(self.root, publication)

    @classmethod
    def find_root(cls, root: str | os.PathLike[str] | None = None) -> Workspace:
        """The workspace folder, not yet for a publication (see `select`, `each`)."""
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
