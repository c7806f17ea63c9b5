"""Themes: a folder of templates and labels; the workspace's `templates/<name>/` overrides the
copy shipped inside the package, so a new workspace works without this repository."""

from __future__ import annotations

import re
import shutil
import uuid
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from nyhetsbrev.errors import RenderError, WorkspaceError
from nyhetsbrev.workspace import Workspace

PACKAGED = Path(__file__).resolve().parent / "themes"
REQUIRED_LABEL_LANGUAGES = ("nb", "nn", "en", "sv")


@dataclass(frozen=True)
class Theme:
    name: str
    path: Path

    def labels(self, language: str) -> dict[str, str]:
        """The theme's labels in `language`; a missing one falls back to nb, never to blank."""
        table = _labels(self.path / "labels.yaml")
        base = table.get("nb", {})
        return {**base, **table.get(language, {})}

    def file(self, name: str) -> Path:
        return self.path / name


def packaged_theme_path(name: str) -> Path:
    return PACKAGED / name


def shipped_themes() -> list[str]:
    """The names of the themes inside the package."""
    return sorted(p.name for p in PACKAGED.iterdir() if (p / "labels.yaml").is_file())


def find_theme(ws: Workspace | None, name: str) -> Theme:
    """templates/<name>/ of the workspace if it exists, else the packaged theme."""
    candidates = []
    if ws is not None:
        candidates.append(ws.templates / name)
    candidates.append(packaged_theme_path(name))
    for path in candidates:
        if (path / "labels.yaml").is_file():
            return Theme(name, path)
    raise RenderError(
        f'theme "{name}" not found in templates/ or among the shipped themes '
        f"({', '.join(shipped_themes())}): fix `theme:` in the publication file"
    )


def copy_theme(ws: Workspace, name: str, *, force: bool = False, to: str | None = None) -> Path:
    """Copy the packaged theme `name` to the workspace's templates/<name>/, where it then wins
    over the packaged one. An existing folder is replaced only with `force`, and only once the
    whole copy is made, so a failed copy leaves templates/ as it was."""
    source = packaged_theme_path(name)
    if not (source / "labels.yaml").is_file():
        raise WorkspaceError(
            f'no shipped theme is called "{name}": the shipped themes are '
            f"{', '.join(shipped_themes())}"
        )
    to = to or name
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*", to):
        raise WorkspaceError(
            f'"{to}" is not a theme name: use lower-case letters, digits and hyphens, e.g. lans'
        )
    target = ws.templates / to
    shown = ws.relative(target)
    if (target.exists() or target.is_symlink()) and not force:
        what = "a folder" if target.is_dir() and not target.is_symlink() else "not a folder"
        raise WorkspaceError(
            f"{shown} already exists ({what}); nothing was copied. Keep your changes, or "
            f"replace it with the packaged theme: nyhetsbrev theme copy {name} --force"
            + (f" --as {to}" if to != name else "")
        )
    ws.templates.mkdir(parents=True, exist_ok=True)
    staging = ws.templates / f".{to}.{uuid.uuid4().hex}.new"
    try:
        shutil.copytree(source, staging, ignore=shutil.ignore_patterns("__pycache__"))
        if target.is_dir() and not target.is_symlink():
            old = ws.templates / f".{to}.{uuid.uuid4().hex}.old"
            target.rename(old)
            staging.rename(target)
            shutil.rmtree(old)
        else:
            target.unlink(missing_ok=True)  # a file: the old link, checked out as text
            staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise WorkspaceError(f"cannot copy the theme to {shown}: {exc}") from exc
    return target


@lru_cache(maxsize=16)
def _labels_cached(path: str, mtime: float) -> dict[str, dict[str, str]]:
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    return {
        str(lang): {str(k): str(v) for k, v in (table or {}).items()}
        for lang, table in data.items()
    }


def _labels(path: Path) -> dict[str, dict[str, str]]:
    try:
        return _labels_cached(str(path), path.stat().st_mtime)
    except (OSError, yaml.YAMLError) as exc:
        raise RenderError(f"{path}: cannot read the theme's labels: {exc}") from exc


#: The theme a publication gets when it names none (`Publication.theme`'s default).
DEFAULT_THEME = "kom"


def default_theme(ws: Workspace | None = None) -> Theme:
    """The default theme: the workspace's templates/kom/ if it has one, else the packaged copy.

    With no workspace, always the packaged copy: where the web pages a workspace theme lacks
    (web-*.html.j2, web.css) come from, and what the preview watches before a publication loads.
    """
    return find_theme(ws, DEFAULT_THEME)
