"""The web edition: one standalone, semantic HTML5 page per issue, and the archive of all issues."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

from nyhetsbrev.errors import RenderError
from nyhetsbrev.issue.load import LoadedIssue
from nyhetsbrev.render.assets import pictures
from nyhetsbrev.render.environment import context, render, typeset
from nyhetsbrev.render.layout import contact_box_after
from nyhetsbrev.theme import Theme

TEMPLATE = "web.html.j2"
ARCHIVE_TEMPLATE = "archive.html.j2"
META = "meta.json"
IMAGE_MAX_WIDTH = 1280  # width/height attributes reserve the space; CSS scales the picture down


@dataclass(frozen=True)
class ArchiveEntry:
    """One built issue as the archive lists it; stored as build/<id>/meta.json."""

    id: str
    title: str
    period_label: str
    language: str
    pdf: str | None = None
    summary: str | None = None  # the preheader: one line on what the issue holds

    def to_json(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n").encode("utf-8")


def render_web(loaded: LoadedIssue, theme: Theme, *, pdf_name: str | None = None) -> str:
    """The web edition of an issue; links to the PDF edition when `pdf_name` is given."""
    loaded = typeset(loaded)

    ctx = context(
        loaded,
        theme,
        picture=pictures(loaded, absolute=False, max_width=IMAGE_MAX_WIDTH),
        pdf_name=pdf_name,
        contact_box_after=contact_box_after(loaded.issue.sections),
    )
    return render(theme, TEMPLATE, ctx)


def archive_entry(loaded: LoadedIssue, pdf_name: str | None = None) -> ArchiveEntry:
    return ArchiveEntry(
        loaded.id,
        loaded.title,
        loaded.period_label,
        loaded.language,
        pdf_name,
        loaded.issue.preheader or None,
    )


def render_archive(loaded: LoadedIssue, theme: Theme, entries: list[ArchiveEntry]) -> str:
    """build/index.html: every built issue, newest first, in the publication's language."""
    ordered = sorted(entries, key=lambda entry: entry.id, reverse=True)
    ctx = context(loaded, theme, entries=ordered)
    ctx["language"] = loaded.publication.language
    ctx["labels"] = theme.labels(loaded.publication.language)
    return render(theme, ARCHIVE_TEMPLATE, ctx)


def read_archive(build_dir: Path) -> list[ArchiveEntry]:
    """The entries of every issue folder in build/ that has a meta.json."""
    entries = []
    for meta in sorted(build_dir.glob(f"*/{META}")):
        if meta.parent.name.startswith("."):
            continue
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            entries.append(ArchiveEntry(**data))
        except (OSError, ValueError, TypeError) as exc:
            raise RenderError(
                f"{meta}: cannot read this built issue's metadata ({exc}): rebuild it with "
                f"`nyhetsbrev build {meta.parent.name}`, or delete the folder"
            ) from exc
    return entries
