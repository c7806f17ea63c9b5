"""`nyhetsbrev migrate`: a one-publication workspace moved into the several-publication layout,
so a second publication can be added next to it.

    newsletters/kom.yaml            → newsletters/kom/publication.yaml
    newsletters/2024-q4/            → newsletters/kom/2024-q4/   (and the *.schema.json)
    build/*                         → build/kom/*
    contacts/*  (database, reports) → contacts/kom/*

The personal links already sent (unsubscribe, preferences) must keep working: they are signed
without a publication and point at `{public_url}/unsubscribe/…`. So the moved publication gets
a `.links-unscoped` marker (its links stay signed the old way) and `serve` answers the old
paths for it; public_url gains `/kom`, the path it is now served under.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from nyhetsbrev.errors import WorkspaceError
from nyhetsbrev.workspace import PUBLICATION_FILE, UNSCOPED_MARKER, Workspace

_PUBLIC_URL = re.compile(r"^(public_url:[ \t]*)(\S+?)/?([ \t]*(?:#.*)?)$", re.MULTILINE)
MARKER_TEXT = (
    "This publication was moved here by `nyhetsbrev migrate`: its personal links (unsubscribe,\n"
    "preferences) stay signed as before the move, so the ones already sent keep working, and\n"
    "`nyhetsbrev serve` still answers their old addresses. Only one publication may have this.\n"
)


def plan(ws: Workspace) -> tuple[str, list[tuple[Path, Path]]]:
    """The publication's name and every move (source → target), or a WorkspaceError."""
    top = ws.root / "newsletters"
    if ws.publications():
        raise WorkspaceError(
            f"{ws.relative(top)}/ already has publication folders "
            f"({', '.join(ws.publications())}): there is nothing to migrate"
        )
    loose = sorted(p for p in top.glob("*.yaml") if p.is_file())
    if len(loose) != 1:
        found = ", ".join(p.name for p in loose) or "none"
        raise WorkspaceError(
            f"{ws.relative(top)}/ must have exactly one publication file to migrate "
            f"(found {found}): move any other one aside, migrate, then put it in "
            "newsletters/<name>/publication.yaml"
        )
    name = loose[0].stem
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", name):
        raise WorkspaceError(
            f"{loose[0].name}: a publication's name is its folder's, in lower-case letters, "
            "digits and hyphens: rename the file (e.g. kom.yaml), then migrate"
        )
    moves: list[tuple[Path, Path]] = [(loose[0], top / name / PUBLICATION_FILE)]
    for child in sorted(top.iterdir()):
        if child == loose[0]:
            continue
        moves.append((child, top / name / child.name))
    for folder in ("build", "contacts"):
        base = ws.root / folder
        if base.is_dir():
            moves += [(c, base / name / c.name) for c in sorted(base.iterdir())]
    return name, moves


def migrate(ws: Workspace) -> tuple[str, list[str]]:
    """Move everything (a failure puts back what was moved); the name and what was done."""
    name, moves = plan(ws)
    done: list[tuple[Path, Path]] = []
    try:
        for source, target in moves:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(source, target)
            done.append((source, target))
        folder = ws.root / "newsletters" / name
        (folder / UNSCOPED_MARKER).write_text(MARKER_TEXT, encoding="utf-8")
    except OSError as exc:
        for source, target in reversed(done):
            shutil.move(target, source)
        raise WorkspaceError(f"cannot migrate ({exc}); nothing was changed") from exc
    notes = [f"{ws.relative(s)} → {ws.relative(t)}" for s, t in moves]
    masthead = folder / PUBLICATION_FILE
    text = masthead.read_text(encoding="utf-8")
    match = _PUBLIC_URL.search(text)
    if match and not match[2].endswith(f"/{name}"):
        masthead.write_text(
            _PUBLIC_URL.sub(lambda m: f"{m[1]}{m[2]}/{name}{m[3]}", text, count=1),
            encoding="utf-8",
        )
        notes.append(f"public_url: {match[2]} → {match[2]}/{name} (it is served there now)")
    return name, notes
