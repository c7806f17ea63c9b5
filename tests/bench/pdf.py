"""PDF benchmark: the reference issue to PDF (model → Typst source → PDF) vs Typst alone, warm in
one process, interleaved; and the peak RSS of fresh processes that load the issue (and render)."""

from __future__ import annotations

import io
import os
from collections.abc import Iterator

from tests.bench.harness import QUICK, REPO, Figure, in_process, pair, python_process

ISSUE = "2024-q4"
RUNS = 5 if QUICK else 11
GOAL_SECONDS = 1.0

_LOAD = """
import sys
from pathlib import Path
from nyhetsbrev.workspace import Workspace
from nyhetsbrev.issue.load import load_or_fail
from nyhetsbrev.theme import find_theme
ws = Workspace(Path(sys.argv[1]))
loaded, _ = load_or_fail(ws, sys.argv[2])
theme = find_theme(ws, loaded.publication.theme)
"""
_RENDER = _LOAD + "from nyhetsbrev.render.pdf import render_pdf\nrender_pdf(loaded, theme)\n"


def run() -> Iterator[Figure | str]:
    import pypdf
    import typst

    from nyhetsbrev.issue.load import load_or_fail
    from nyhetsbrev.render import pdf
    from nyhetsbrev.theme import find_theme
    from nyhetsbrev.workspace import Workspace

    os.environ.setdefault("SOURCE_DATE_EPOCH", "1735000000")
    ws = Workspace(REPO)
    loaded, _ = load_or_fail(ws, ISSUE)
    theme = find_theme(ws, loaded.publication.theme)
    edition = pdf.render_pdf(loaded, theme)
    fonts = pdf.load_fonts(pdf.font_dir())
    data = edition.source.encode("utf-8")
    timestamp = int(os.environ["SOURCE_DATE_EPOCH"])

    def typst_alone() -> object:
        return typst.compile(
            data, root=str(loaded.dir), font_paths=fonts, pdf_standards=["ua-1"],
            timestamp=timestamp,
        )  # fmt: skip

    pages = len(pypdf.PdfReader(io.BytesIO(edition.pdf)).pages)
    yield (
        f"reference issue {ISSUE}: {pages} pages, {len(edition.pdf) / 1024:.0f} KB, "
        f"Typst source {len(data) / 1024:.0f} KB"
    )
    yield pair(
        "PDF/UA-1: model → Typst source → PDF, warm in-process",
        in_process(lambda: pdf.render_pdf(loaded, theme)),
        "typst.compile alone, same source",
        in_process(typst_alone),
        runs=RUNS,
        goal_seconds=GOAL_SECONDS,
    )
    yield pair(
        "PDF/A-2a + PDF/UA-1 archive copy, warm in-process",
        in_process(lambda: pdf.render_pdf(loaded, theme, "a-2a,ua-1")),
        "typst.compile alone (PDF/UA-1)",
        in_process(typst_alone),
        runs=5,
    )
    args = [str(REPO), ISSUE]
    yield pair(
        "fresh process: load the issue and render the PDF",
        lambda: python_process(_RENDER, args),
        "fresh process: load the issue only",
        lambda: python_process(_LOAD, args),
        runs=5,
        warmup=False,
    )
