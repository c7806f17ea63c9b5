"""Benchmark: what an editor waits for — whole commands in a fresh interpreter, each next to its
baseline in the same run: `--help` and `check` against `python -c pass`, `build` against a fresh
Python process that only runs `typst.compile` on the same source with the same fonts and PDF/UA-1.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tests.bench.harness import REPO, Figure, bare_python, cli, pair, python_process

ISSUE = "2024-q4"
ENV = {"SOURCE_DATE_EPOCH": "1735000000", "NYHETSBREV_TODAY": "2024-12-20"}

# The floor of `build`: a fresh interpreter, typst imported, Lato loaded, the same PDF/UA-1.
TYPST = """
import sys, typst
source, root, fonts = sys.argv[1:4]
book = typst.Fonts(include_system_fonts=False, include_embedded_fonts=False, font_paths=[fonts])
pdf = typst.compile(open(source, "rb").read(), root=root, font_paths=book,
                    pdf_standards=["ua-1"], timestamp=1735000000)
assert len(pdf) > 10000
"""


def workspace(folder: Path) -> Path:
    """A copy of the reference workspace, so `build` writes into a temporary build/."""
    for name in ("newsletters", "templates"):
        shutil.copytree(REPO / name, folder / name, symlinks=True)
    (folder / "build").mkdir()
    return folder


def typst_source(root: Path, folder: Path) -> tuple[Path, Path, Path]:
    """The Typst source `build` compiles, written to a file; (source, root, font folder)."""
    os.environ.update(ENV)
    from nyhetsbrev.issue.load import load_or_fail
    from nyhetsbrev.render import pdf
    from nyhetsbrev.theme import find_theme
    from nyhetsbrev.workspace import Workspace

    ws = Workspace(root)
    loaded, _ = load_or_fail(ws, ISSUE)
    theme = find_theme(ws, loaded.publication.theme)
    source = folder / "issue.typ"
    source.write_text(pdf.render_pdf(loaded, theme).source, encoding="utf-8")
    return source, loaded.dir, pdf.font_dir()


def run() -> Iterator[Figure | str]:
    with tempfile.TemporaryDirectory() as tmp:
        root = workspace(Path(tmp) / "ws")
        env = {**ENV, "NYHETSBREV_ROOT": str(root)}
        yield pair(
            "nyhetsbrev --help",
            lambda: cli(["--help"], env=env),
            "python -c pass",
            bare_python,
            goal_ratio=4,
        )
        yield pair(
            f"nyhetsbrev check {ISSUE}",
            lambda: cli(["--root", str(root), "check", ISSUE], env=env),
            "python -c pass",
            bare_python,
            goal_ratio=8,
        )
        source, issue_dir, fonts = typst_source(root, Path(tmp))
        typst_args = [str(source), str(issue_dir), str(fonts)]
        yield pair(
            f"nyhetsbrev build {ISSUE} (email, text, web, PDF)",
            lambda: cli(["--root", str(root), "build", ISSUE], env=env),
            "fresh python: typst.compile, same source, fonts, PDF/UA-1",
            lambda: python_process(TYPST, typst_args),
            goal_ratio=4,
        )
