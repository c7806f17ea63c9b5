"""`nyhetsbrev build`: check the issue, render every edition in memory, then replace build/<id>/.

The checking is `issue.check.check_issue` and the rendering `render.editions.render_editions`,
the one pipeline `check`, `preview` and `send` use too; this module adds the writing.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nyhetsbrev.errors import IssueError, RenderError
from nyhetsbrev.issue.check import check_issue
from nyhetsbrev.issue.findings import Finding, summary
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.render.editions import RenderOptions, render_editions
from nyhetsbrev.render.email import GMAIL_CLIP_BYTES
from nyhetsbrev.render.web import META, archive_entry, read_archive, render_archive
from nyhetsbrev.theme import find_theme
from nyhetsbrev.workspace import Workspace

ARCHIVE = "index.html"


@dataclass(frozen=True)
class BuildOptions:
    """How to build: `--strict`, `--keep-intermediate`, and the PDF edition's standard."""

    strict: bool = False
    keep_intermediate: bool = False
    pdf_standard: str = "ua-1"


@dataclass(frozen=True)
class Written:
    path: Path
    size: int


@dataclass
class BuildResult:
    """What a build wrote (issue files, then the archive page) and what it warned about."""

    issue_id: str
    folder: Path
    files: list[Written]
    archive: Written
    email_size: int
    warnings: list[str] = field(default_factory=list)


def check_for_build(
    ws: Workspace, issue_id: str, *, strict: bool = False
) -> tuple[LoadedIssue, list[Finding]]:
    """The checks of `nyhetsbrev check`: errors stop the build, and warnings too with --strict."""
    checked = check_issue(ws, issue_id)
    findings = checked.findings
    if checked.loaded is None or checked.errors or (strict and findings):
        stopping = findings if strict else checked.errors
        lines = "\n".join(f.format() for f in stopping)
        why = "fix the errors"
        if strict and not checked.errors:
            why = "--strict stops on warnings too"
        raise IssueError(
            f"{lines}\n{summary(findings)}: {why}, then build again (nothing was written)."
        )
    return checked.loaded, findings


def render_options(options: BuildOptions) -> RenderOptions:
    """Every edition, as `options` asks."""
    return RenderOptions(
        keep_intermediate=options.keep_intermediate, pdf_standard=options.pdf_standard
    )


def build(ws: Workspace, loaded: LoadedIssue, options: BuildOptions) -> BuildResult:
    """Render everything, then replace build/<id>/ and regenerate build/index.html."""
    theme = find_theme(ws, loaded.publication.theme)
    editions = render_editions(loaded, theme, render_options(options))
    if editions.warnings and options.strict:
        raise RenderError(
            "\n".join([*editions.warnings, "--strict stops here (nothing was written)."])
        )
    files = editions.files()
    entry = archive_entry(loaded, editions.pdf_name)
    files[META] = entry.to_json()
    others = [e for e in read_archive(ws.build_dir) if e.id != loaded.id]
    archive = render_archive(loaded, theme, [*others, entry]).encode("utf-8")

    folder = ws.build_dir / loaded.id
    replace_folder(folder, files)
    archive_path = ws.build_dir / ARCHIVE
    write_file(archive_path, archive)
    return BuildResult(
        issue_id=loaded.id,
        folder=folder,
        files=[Written(folder / name, len(data)) for name, data in files.items()],
        archive=Written(archive_path, len(archive)),
        email_size=len(files["email.html"]),
        warnings=list(editions.warnings),
    )


def replace_folder(folder: Path, files: dict[str, bytes]) -> None:
    """Write `files` into a new folder beside `folder`, then swap the two with renames.

    A failure at any point leaves the previous build exactly as it was.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}.new-", dir=folder.parent))
    old: Path | None = None
    try:
        for name, data in files.items():
            target = staging / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        os.chmod(staging, 0o755)  # mkdtemp makes it private; a build is for publishing
        if folder.exists():
            old = staging.with_name(staging.name.replace(".new-", ".old-"))
            os.rename(folder, old)
        try:
            os.rename(staging, folder)
        except OSError:
            if old is not None:
                os.rename(old, folder)
                old = None
            raise
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise RenderError(
            f"{folder}: cannot write the build ({exc.strerror or exc}); the previous build, if "
            "any, is unchanged — check the disk and the folder's permissions"
        ) from exc
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def write_file(path: Path, data: bytes) -> None:
    """Write a file whole or not at all (a temporary file beside it, then a rename)."""
    temporary = path.with_name(f".{path.name}.tmp")
    try:
        temporary.write_bytes(data)
        os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise RenderError(f"{path}: cannot write it ({exc.strerror or exc})") from exc


def clip_share(size: int) -> str:
    """'64 % of Gmail's 102 KB clip limit'."""
    share = round(100 * size / GMAIL_CLIP_BYTES)
    return f"{share} % of Gmail's {GMAIL_CLIP_BYTES // 1024} KB clip limit"
