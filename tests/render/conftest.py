"""Render test helpers: the small fixture workspace, rendered editions, and golden-file compare."""

from __future__ import annotations

import difflib
import re
import shutil
from dataclasses import dataclass
from functools import cache
from html import unescape
from pathlib import Path

import pytest
import yaml
from tests.conftest import REPO

from nyhetsbrev.issue.load import LoadedIssue, load_or_fail
from nyhetsbrev.render.editions import render_editions
from nyhetsbrev.render.environment import typeset
from nyhetsbrev.theme import Theme, find_theme
from nyhetsbrev.workspace import Workspace

SMALL = REPO / "tests" / "data" / "small"
GOLDEN = REPO / "tests" / "golden"
ARTIFACTS = REPO / "tests" / "artifacts"
EDITIONS = ("email.html", "email.txt", "index.html")
DIFF_LINES = 80


@dataclass(frozen=True)
class Rendered:
    """An issue with its theme and every file `render_editions` makes for build/<id>/, decoded where text."""

    loaded: LoadedIssue
    theme: Theme
    files: dict[str, bytes]

    def text(self, name: str) -> str:
        return self.files[name].decode("utf-8")


@cache
def rendered(root: Path, issue_id: str) -> Rendered:
    """Render once per test session (the outputs are pure functions of the files)."""
    ws = Workspace(root)
    loaded, _ = load_or_fail(ws, issue_id)
    theme = find_theme(ws, loaded.publication.theme)
    files = render_editions(loaded, theme).files()
    return Rendered(typeset(loaded), theme, files)  # the issue as the editions set it


@pytest.fixture
def small() -> Rendered:
    return rendered(SMALL, "2025-q1")


@pytest.fixture
def reference() -> Rendered:
    return rendered(REPO, "2024-q4")


@pytest.fixture
def small_workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of tests/data/small as the current workspace."""
    root = tmp_path / "small"
    shutil.copytree(SMALL, root)
    (root / "build").mkdir()
    monkeypatch.chdir(root)
    monkeypatch.delenv("NYHETSBREV_ROOT", raising=False)
    monkeypatch.setenv("NYHETSBREV_TODAY", "2024-12-20")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735000000")
    return root


def visible_text(html: str) -> str:
    """The words of an HTML document: tags removed (inline ones leave no gap), entities decoded,
    whitespace collapsed. Head, style and the preheader's filler are dropped."""
    body = html.split("<body", 1)[-1]
    body = re.sub(r"<style\b.*?</style>", " ", body, flags=re.S)
    return squash(unescape(re.sub(r"<[^>]+>", "", body)))


def squash(text: str) -> str:
    return " ".join(text.split())


#: A Markdown link `[text](address)`, found in the YAML's text without the production parser.
MARKDOWN_LINK = re.compile(r"\[[^\]\n]*\]\(\s*([^)\s]+)\s*\)")


def yaml_link_addresses(loaded: LoadedIssue) -> set[str]:
    """Every real link address the issue and masthead files hold, read from the YAML itself.

    Independent of the code under test: the files are parsed with plain `yaml.safe_load`, every
    text is searched for `[text](address)`, and every `url:` value is taken, wherever it is. "#"
    placeholders lead nowhere and are left out.
    """
    found: set[str] = set()

    def walk(value: object, key: object = None) -> None:
        if isinstance(value, dict):
            for k, v in value.items():
                walk(v, k)
        elif isinstance(value, list):
            for item in value:
                walk(item, key)
        elif isinstance(value, str):
            if key == "url":
                found.add(value.strip())
            found.update(MARKDOWN_LINK.findall(value))

    for path in (loaded.path, loaded.publication_path):
        walk(yaml.safe_load(path.read_text(encoding="utf-8")))
    return {url for url in found if url not in ("", "#")}


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` (relative name → bytes), hidden ones included."""
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def assert_golden(name: str, file: str, actual: bytes, update: bool) -> None:
    """Compare with tests/golden/<name>/<file>; `pytest --update-golden` rewrites it."""
    path = GOLDEN / name / file
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(actual)
        return
    if not path.exists():
        pytest.fail(f"{path.relative_to(REPO)} does not exist: run `pytest --update-golden`")
    expected = path.read_bytes()
    if expected == actual:
        return
    diff = difflib.unified_diff(
        _lines_for_diff(expected.decode("utf-8", "replace"), file),
        _lines_for_diff(actual.decode("utf-8", "replace"), file),
        fromfile=f"golden/{name}/{file}",
        tofile="rendered now",
        lineterm="",
    )
    shown = list(diff)
    more = f"\n… and {len(shown) - DIFF_LINES} more diff lines" if len(shown) > DIFF_LINES else ""
    pytest.fail(
        f"{file} of {name} differs from its golden file:\n"
        + "\n".join(shown[:DIFF_LINES])
        + more
        + "\nIf the change is intended, run `pytest tests/render --update-golden` and commit it.",
        pytrace=False,
    )


def _lines_for_diff(text: str, file: str) -> list[str]:
    """Lines to diff; compiled HTML is mostly one long line, so it is cut between tags."""
    if file.endswith(".html"):
        text = re.sub(r">\s*<", ">\n<", text)
    return text.splitlines()
