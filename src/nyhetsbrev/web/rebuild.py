"""The preview's in-memory build: findings, email, text and web edition now; the PDF on demand.

It runs the one pipeline (`check_issue`, then `render_editions`) with the preview's options.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from nyhetsbrev.errors import NyhetsbrevError
from nyhetsbrev.issue.check import check_issue
from nyhetsbrev.issue.findings import Finding
from nyhetsbrev.issue.load import LoadedIssue, find_publication, load_publication
from nyhetsbrev.render.assets import pdf_file_name
from nyhetsbrev.render.editions import RenderOptions, render_editions
from nyhetsbrev.theme import Theme, default_theme, find_theme
from nyhetsbrev.workspace import Workspace

log = logging.getLogger("nyhetsbrev.web")
#: Where the preview serves the issue's web edition and pictures: the email's links and pictures
#: point here instead of at `public_url`, so they work before anything is published.
SITE_PREFIX = "/site"
CONTEXT_LINES = 2
#: On every save: the email, text and web edition, linking to the preview's own server.
AT_ONCE = RenderOptions(editions=frozenset({"email", "text", "web"}), site_url=SITE_PREFIX)
#: The PDF takes longest, so it is rendered when its tab asks for it.
ON_DEMAND = RenderOptions(editions=frozenset({"pdf"}))


@dataclass(frozen=True)
class SourceLine:
    """A line of the file a finding is in, for showing an error in place."""

    number: int
    text: str
    marked: bool


@dataclass(frozen=True)
class Snapshot:
    """One build of the issue as it is on disk now; what the preview page shows."""

    generation: int
    built_at: datetime
    issue_id: str
    findings: tuple[Finding, ...]
    loaded: LoadedIssue | None = None
    theme: Theme | None = None
    email_html: str | None = None
    text: str | None = None
    web_html: str | None = None
    images: dict[str, bytes] = field(default_factory=dict)
    problems: tuple[str, ...] = ()  # build errors that are not findings (templates, MJML)
    notes: tuple[str, ...] = ()  # build warnings (Gmail's clip limit)
    email_ms: float = 0.0
    total_ms: float = 0.0

    @property
    def ok(self) -> bool:
        return self.email_html is not None and not self.problems

    @property
    def pdf_name(self) -> str:
        """The PDF's file name, as `nyhetsbrev build` names it."""
        if self.loaded is None:
            return f"nyhetsbrev-{self.issue_id}.pdf"
        return pdf_file_name(self.loaded)

    def excerpt(self, finding: Finding) -> list[SourceLine]:
        """The lines around an error, so the editor sees it where it is."""
        path = Path(finding.file)  # as shown: relative to the current folder
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError):
            return []
        first = max(1, finding.line - CONTEXT_LINES)
        last = min(len(lines), finding.line + CONTEXT_LINES)
        return [SourceLine(n, lines[n - 1], n == finding.line) for n in range(first, last + 1)]


class Previewer:
    """Builds one issue in memory, again and again; thread-safe."""

    def __init__(self, ws: Workspace, issue_id: str) -> None:
        self.ws = ws
        self.issue_id = issue_id
        self._generation = 0
        self._lock = threading.Lock()
        self._pdf_lock = threading.Lock()
        self._pdf: tuple[int, bytes | None, str | None] = (-1, None, None)

    def build(self) -> Snapshot:
        """Load, check and render the issue as it is on disk now (never raises: whatever goes
        wrong is shown in the page, and the preview keeps running)."""
        with self._lock:
            self._generation += 1
            generation = self._generation
        try:
            return self._build(generation)
        except Exception as exc:  # a file caught half-written, or a bug: show it, keep going
            log.exception("preview build #%d failed", generation)
            now = datetime.now().astimezone().replace(microsecond=0)
            problem = f"unexpected {type(exc).__name__}: {exc} (the terminal has the details)"
            return Snapshot(generation, now, self.issue_id, (), problems=(problem,))

    def _build(self, generation: int) -> Snapshot:
        started = time.perf_counter()
        now = datetime.now().astimezone().replace(microsecond=0)
        try:
            checked = check_issue(self.ws, self.issue_id)
        except NyhetsbrevError as exc:
            return Snapshot(generation, now, self.issue_id, (), problems=(exc.message,))
        loaded = checked.loaded
        snapshot = Snapshot(generation, now, self.issue_id, tuple(checked.findings), loaded=loaded)
        if loaded is None:
            return snapshot
        try:
            theme = find_theme(self.ws, loaded.publication.theme)
            snapshot = dataclasses.replace(snapshot, theme=theme)
            editions = render_editions(loaded, theme, AT_ONCE)
            snapshot = dataclasses.replace(
                snapshot,
                email_html=editions.email.html if editions.email else None,
                email_ms=editions.milliseconds.get("email", 0.0),
                notes=editions.warnings,
                text=editions.text,
                web_html=editions.web,
                images=editions.images,
            )
        except NyhetsbrevError as exc:
            snapshot = dataclasses.replace(snapshot, problems=(exc.message,))
        total_ms = (time.perf_counter() - started) * 1000
        return dataclasses.replace(snapshot, total_ms=total_ms)

    def pdf(self, snapshot: Snapshot) -> tuple[bytes | None, str | None]:
        """The PDF edition of a snapshot (rendered once, on first request): (pdf, or an error)."""
        with self._pdf_lock:
            generation, data, error = self._pdf
            if generation == snapshot.generation:
                return data, error
            if snapshot.loaded is None or snapshot.theme is None:
                return None, None
            try:
                edition = render_editions(snapshot.loaded, snapshot.theme, ON_DEMAND).pdf
                data, error = (edition.pdf if edition else None), None
            except NyhetsbrevError as exc:
                data, error = None, exc.message
            self._pdf = (snapshot.generation, data, error)
            return data, error

    def watched(self, snapshot: Snapshot | None) -> tuple[list[Path], list[Path]]:
        """(folders to watch, and within them what matters): the issue folder, the publication
        file and the theme (through a workspace's templates/ symlink, the real folder)."""
        newsletters = self.ws.newsletters.resolve()
        folders = [newsletters]
        relevant = [self.ws.issue_dir(self.issue_id).resolve()]
        try:
            relevant.append(find_publication(self.ws)[1].resolve())
        except NyhetsbrevError:
            relevant.append(newsletters)  # no publication file yet, or several: any change
        theme = snapshot.theme if snapshot is not None else None
        if theme is None:
            theme = self._theme()
        if theme is not None:
            folders.append(theme.path.resolve())
            relevant.append(theme.path.resolve())
        return folders, relevant

    def _theme(self) -> Theme | None:
        """The theme to watch while the issue does not load: the publication's if it names one
        that exists, else the default theme."""
        try:
            publication = load_publication(self.ws)[2]
            if publication is not None:
                return find_theme(self.ws, publication.theme)
        except NyhetsbrevError:
            pass  # no publication file, or a theme that does not exist (yet)
        try:
            return default_theme(self.ws)
        except NyhetsbrevError:
            return None
