"""PDF benchmark: the reference issue to PDF (model → Typst source → PDF) vs Typst alone; memory."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ISSUE = "2024-q4"
RUNS = 11
GOAL_SECONDS = 1.0

_PEAK = """
import resource, sys
from pathlib import Path
from nyhetsbrev.workspace import Workspace
from nyhetsbrev.issue.load import load_or_fail
from nyhetsbrev.theme import find_theme
ws = Workspace(Path(sys.argv[1]))
loaded, _ = load_or_fail(ws, sys.argv[2])
theme = find_theme(ws, loaded.publication.theme)
if sys.argv[3] == "pdf":
    from nyhetsbrev.render.pdf import render_pdf
    render_pdf(loaded, theme)
# Linux carries ru_maxrss over exec (a big parent inflates it); VmHWM is this process's own peak.
try:
    status = open("/proc/self/status").read()
    print(next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM")))
except OSError:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(peak if sys.platform != "darwin" else peak // 1024)
"""


def _time(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _median(action: Callable[[], object], runs: int = RUNS) -> tuple[float, float]:
    """(first run, median of the next `runs`) in seconds."""
    started = time.perf_counter()
    action()
    first = time.perf_counter() - started
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return first, statistics.median(times)


def _peak_kib(mode: str) -> int:
    """Peak resident memory of a fresh process that loads the issue (and renders the PDF)."""
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1735000000"}
    out = subprocess.run(
        [sys.executable, "-c", _PEAK, str(REPO), ISSUE, mode],
        check=True,
        capture_output=True,
        text=True,
        cwd=REPO,
        env=env,
    )
    return int(out.stdout.strip())


def run() -> list[str]:
    """Figures for `make bench`: medians, the ratio to Typst alone, pages, size, peak memory."""
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

    cold = _time(lambda: pdf.render_pdf(loaded, theme))
    edition = pdf.render_pdf(loaded, theme)
    _, source_only = _median(lambda: pdf.typst_source(loaded, theme, dated=True))
    fonts = pdf.load_fonts(pdf.font_dir())
    data = edition.source.encode("utf-8")
    timestamp = int(os.environ["SOURCE_DATE_EPOCH"])

    def typst_alone() -> object:
        return typst.compile(
            data, root=str(loaded.dir), font_paths=fonts, pdf_standards=["ua-1"],
            timestamp=timestamp,
        )  # fmt: skip

    # Interleaved, so that a busy machine slows both sides alike.
    fulls, alones = [], []
    for _ in range(RUNS):
        fulls.append(_time(lambda: pdf.render_pdf(loaded, theme)))
        alones.append(_time(typst_alone))
    full, alone = statistics.median(fulls), statistics.median(alones)
    _, archive = _median(lambda: pdf.render_pdf(loaded, theme, "a-2a,ua-1"), runs=5)
    pages = len(pypdf.PdfReader(__import__("io").BytesIO(edition.pdf)).pages)
    baseline, peak = _peak_kib("load"), _peak_kib("pdf")
    verdict = "under" if full < GOAL_SECONDS else "OVER"
    return [
        f"reference issue {ISSUE}: {pages} pages, {len(edition.pdf) / 1024:.0f} KB, "
        f"Typst source {len(data) / 1024:.0f} KB",
        f"model → Typst source → PDF/UA-1 (median of {RUNS}): {full * 1000:.0f} ms "
        f"({verdict} the {GOAL_SECONDS:.0f} s goal; first run in a process {cold * 1000:.0f} ms)",
        f"  Jinja → Typst source alone: {source_only * 1000:.1f} ms",
        f"  typst compiling the same source alone: {alone * 1000:.0f} ms "
        f"→ ratio {full / alone:.2f}× (our share {(full - alone) * 1000:.0f} ms)",
        f"archive copy PDF/A-2a + PDF/UA-1 (median of 5): {archive * 1000:.0f} ms",
        f"peak memory (VmHWM / ru_maxrss of a fresh process): {peak / 1024:.0f} MiB rendering, "
        f"{baseline / 1024:.0f} MiB for loading the issue alone (+{(peak - baseline) / 1024:.0f} MiB)",
    ]


if __name__ == "__main__":
    for line in run():
        print(line)
