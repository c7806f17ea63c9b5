"""Benchmark: is the build linear in the issue's size? The reference issue at 1×, 5× and 20× its
sections, the time per article for email+text+web and for the PDF, each next to MRML or typst
alone on the same input. Goal (issue 13): per article at 20× no more than 1.25× the 1× figure.

    python -m tests.bench.scaling          (or `python -m tests.bench scaling`)
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from collections.abc import Callable

SCALES = (1, 5, 20)
GOAL = 1.25
ISSUE = "2024-q4"


def _median(work: Callable[[], object], runs: int) -> float:
    """Median seconds of `runs` runs after one warm-up run."""
    work()
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def run() -> list[str]:
    import mjml
    import typst

    from nyhetsbrev.issue.load import load_or_fail
    from nyhetsbrev.render import pdf
    from nyhetsbrev.render.email import render_email, render_mjml
    from nyhetsbrev.render.text import render_text
    from nyhetsbrev.render.web import render_web
    from nyhetsbrev.theme import find_theme
    from nyhetsbrev.workspace import Workspace
    from tests.conftest import REPO

    os.environ.setdefault("SOURCE_DATE_EPOCH", "1735000000")
    ws = Workspace(REPO)
    loaded, _ = load_or_fail(ws, ISSUE)
    theme = find_theme(ws, loaded.publication.theme)
    fonts = pdf.load_fonts(pdf.font_dir())

    rows: list[tuple[int, int, float, float, float, float, int]] = []
    for scale in SCALES:
        sections = [
            section.model_copy(update={"title": f"{section.title} ({copy + 1})"})
            for copy in range(scale)
            for section in loaded.issue.sections
        ]
        issue = loaded.issue.model_copy(update={"sections": sections})
        big = dataclasses.replace(loaded, issue=issue)
        articles = sum(len(s.articles) for s in sections)
        runs = max(3, 15 // scale)

        def editions(big: object = big) -> None:
            render_email(big, theme)  # type: ignore[arg-type]
            render_text(big, theme)  # type: ignore[arg-type]
            render_web(big, theme, pdf_name="x.pdf")  # type: ignore[arg-type]

        source = render_mjml(big, theme)
        typ = pdf.typst_source(big, theme).encode("utf-8")

        def typst_alone(typ: bytes = typ) -> object:
            return typst.compile(
                typ, root=str(loaded.dir), font_paths=fonts, pdf_standards=["ua-1"]
            )

        ours = _median(editions, runs)
        mrml = _median(lambda source=source: mjml.mjml2html(source, fonts={}), runs)
        whole_pdf = _median(lambda big=big: pdf.render_pdf(big, theme), max(2, runs // 3))
        alone = _median(typst_alone, max(2, runs // 3))
        pages = pdf.render_pdf(big, theme).pdf.count(b"/Type /Page\n")
        rows.append((scale, articles, ours, mrml, whole_pdf, alone, pages))

    lines = []
    for scale, articles, ours, mrml, whole_pdf, alone, _ in rows:
        lines.append(
            f"{scale:>2}× ({articles:>4} articles): email+text+web {ours / articles * 1e3:6.3f} ms"
            f"/article (MRML alone {mrml / articles * 1e3:6.3f}); PDF "
            f"{whole_pdf / articles * 1e3:6.2f} ms/article (typst alone "
            f"{alone / articles * 1e3:6.2f})"
        )
    first, last = rows[0], rows[-1]
    for name, index in (("email+text+web", 2), ("PDF", 4)):
        ratio = (last[index] / last[1]) / (first[index] / first[1])
        verdict = "within" if ratio <= GOAL else "OVER"
        lines.append(
            f"{name}: per article at {last[0]}× is {ratio:.2f}× the 1× figure "
            f"({verdict} the {GOAL}× goal)"
        )
    return lines


if __name__ == "__main__":
    for line in run():
        print(line)
