"""Compiled templates are kept in the user's cache folder between processes: the same output as
without the cache, an edited template is never served stale, and a cache folder that cannot be
written (or holds garbage) only means compiling again."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from nyhetsbrev.render import environment

OUTPUTS = ("email.html", "email.txt", "index.html")


@pytest.fixture(autouse=True)
def fresh_environments() -> Iterator[None]:
    """Each test starts (and leaves) with no cached Jinja environment or cache choice."""
    environment.template_cache.cache_clear()
    environment.get_env.cache_clear()
    yield
    environment.template_cache.cache_clear()
    environment.get_env.cache_clear()


def build(root: Path, cache_home: Path, **env: str) -> dict[str, bytes]:
    """`nyhetsbrev build 2024-q4` in a fresh process, with its cache under `cache_home`."""
    done = subprocess.run(
        [sys.executable, "-m", "nyhetsbrev", "--root", str(root), "build", "2024-q4"],
        env={**os.environ, "XDG_CACHE_HOME": str(cache_home), **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return {name: (root / "build" / "2024-q4" / name).read_bytes() for name in OUTPUTS}


def cached_files(cache_home: Path) -> list[Path]:
    return sorted(cache_home.glob("nyhetsbrev/jinja-*/__jinja2_*.cache"))


def test_templates_are_compiled_once_per_machine(workspace: Path, tmp_path: Path) -> None:
    cache_home = tmp_path / "cache"
    first = build(workspace, cache_home)
    files = cached_files(cache_home)
    assert files, "the first build leaves the compiled templates in the cache folder"
    stamps = [f.stat().st_mtime_ns for f in files]
    assert build(workspace, cache_home) == first  # a warm cache: the same bytes
    assert [f.stat().st_mtime_ns for f in files] == stamps  # read, not compiled again
    assert build(workspace, cache_home, NYHETSBREV_TEMPLATE_CACHE="off") == first


def test_an_edited_template_is_compiled_again(workspace: Path, tmp_path: Path) -> None:
    from nyhetsbrev.theme import default_theme

    shutil.copytree(default_theme().path, workspace / "templates" / "kom")  # `theme copy`
    cache_home = tmp_path / "cache"
    build(workspace, cache_home)
    template = workspace / "templates" / "kom" / "web.html.j2"
    text = template.read_text("utf-8")
    assert "</body>" in text
    template.write_text(text.replace("</body>", "<!-- edited after caching --></body>"), "utf-8")
    assert b"edited after caching" in build(workspace, cache_home)["index.html"]


def test_a_cache_folder_that_cannot_be_made_still_builds(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")  # the cache folder would have to be inside a file
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocked))
    assert environment.template_cache() is None
    reference = build(workspace, tmp_path / "cache", NYHETSBREV_TEMPLATE_CACHE="off")
    assert build(workspace, blocked) == reference


def test_garbage_in_the_cache_is_compiled_over(workspace: Path, tmp_path: Path) -> None:
    cache_home = tmp_path / "cache"
    reference = build(workspace, cache_home)
    for file in cached_files(cache_home):
        file.write_bytes(b"garbage")
    assert build(workspace, cache_home) == reference
    for file in cached_files(cache_home):  # an unreadable entry (a folder) is no problem either
        file.unlink()
        file.mkdir()
    assert build(workspace, cache_home) == reference


def test_the_cache_folder_is_per_version(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = environment.cache_dir()
    assert folder.parent == tmp_path / "nyhetsbrev"
    assert folder.name == (
        f"jinja-{environment.__version__}-py{sys.version_info.major}.{sys.version_info.minor}"
    )
