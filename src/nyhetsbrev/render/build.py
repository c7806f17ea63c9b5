"""`nyhetsbrev build`: check the issue, render every edition in memory, then replace build/<id>/."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from nyhetsbrev.errors import IssueError, RenderError
from nyhetsbrev.issue.findings import Finding, sort_key, summary
from nyhetsbrev.issue.lint import lint
from nyhetsbrev.issue.load import LoadedIssue, load_or_fail
from nyhetsbrev.render.assets import issue_images
from nyhetsbrev.render.email import GMAIL_CLIP_BYTES, clip_warning, render_email
from nyhetsbrev.render.pdf import render_pdf
from nyhetsbrev.render.text import render_text
from nyhetsbrev.render.web import META, archive_entry, read_archive, render_archive, render_web
from nyhetsbrev.theme import Theme, find_theme
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
    loaded, findings = load_or_fail(ws, issue_id)
    findings = sorted([*findings, *lint(loaded)], key=sort_key)
    errors = [f for f in findings if f.level == "error"]
    if errors or (strict and findings):
        stopping = findings if strict else errors
        lines = "\n".join(f.format() for f in stopping)
        why = "--strict stops on warnings too" if strict and not errors else "fix the errors"
        raise IssueError(
            f"{lines}\n{summary(findings)}: {why}, then build again (nothing was written)."
        )
    return loaded, findings


def render_outputs(loaded: LoadedIssue, theme: Theme, options: BuildOptions) -> dict[str, bytes]:
    """Every file of build/<id>/, rendered in memory: file name → content."""
    files: dict[str, bytes] = {}
    email = render_email(loaded, theme)
    files["email.html"] = email.html.encode("utf-8")
    files["email.txt"] = render_text(loaded, theme).encode("utf-8")
    if options.keep_intermediate:
        files["email.mjml"] = email.mjml.encode("utf-8")
    # The PDF edition is rendered here, before the web edition, which then links to it.
    edition = render_pdf(loaded, theme, options.pdf_standard)
    pdf_name = pdf_file_name(loaded)
    files[pdf_name] = edition.pdf
    if options.keep_intermediate:
        files[pdf_name.removesuffix(".pdf") + ".typ"] = edition.source.encode("utf-8")
    files["index.html"] = render_web(loaded, theme, pdf_name=pdf_name).encode("utf-8")
    files.update(issue_images(loaded))
    return files


def pdf_file_name(loaded: LoadedIssue) -> str:
    """kom-nyhetsbrev-2024-q4.pdf: the publication's id, so a downloaded copy says whose it is."""
    return f"{loaded.publication_id}-nyhetsbrev-{loaded.id}.pdf"


def build(ws: Workspace, loaded: LoadedIssue, options: BuildOptions) -> BuildResult:
    """Render everything, then replace build/<id>/ and regenerate build/index.html."""
    theme = find_theme(ws, loaded.publication.theme)
    files = render_outputs(loaded, theme, options)
    warnings: list[str] = []
    clip = clip_warning(files["email.html"].decode("utf-8"), loaded)
    if clip and options.strict:
        raise RenderError(f"{clip}\n--strict stops here (nothing was written).")
    if clip:
        warnings.append(clip)
    pdf = next((name for name in files if name.endswith(".pdf")), None)
    entry = archive_entry(loaded, pdf)
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
        warnings=warnings,
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
