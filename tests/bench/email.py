"""Benchmark: the email, text and web editions of the reference issue, against MRML alone."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import mjml

from nyhetsbrev.issue.load import load_or_fail
from nyhetsbrev.render.email import render_email, render_mjml
from nyhetsbrev.render.text import render_text
from nyhetsbrev.render.web import render_web
from nyhetsbrev.theme import find_theme
from nyhetsbrev.workspace import Workspace
from tests.conftest import REPO

RUNS = 30
GOAL_MS = 100.0


def _median_ms(work: Callable[[], object], runs: int = RUNS) -> float:
    work()  # warm up: templates compiled, Markdown parsed, CSS inliner built
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def run() -> list[str]:
    """Render only (no lint, no disk writes), in one process, median of RUNS runs."""
    ws = Workspace(REPO)
    loaded, _ = load_or_fail(ws, "2024-q4")
    theme = find_theme(ws, loaded.publication.theme)
    source = render_mjml(loaded, theme)

    def editions() -> None:
        render_email(loaded, theme)
        render_text(loaded, theme)
        render_web(loaded, theme)

    whole = _median_ms(editions)
    email = _median_ms(lambda: render_email(loaded, theme))
    text = _median_ms(lambda: render_text(loaded, theme))
    web = _median_ms(lambda: render_web(loaded, theme))
    floor = _median_ms(lambda: mjml.mjml2html(source, fonts={}))
    size = len(render_email(loaded, theme).html.encode("utf-8"))
    verdict = "within" if whole < GOAL_MS else "OVER"
    return [
        f"reference issue 2024-q4, median of {RUNS} runs",
        f"email + text + web: {whole:7.2f} ms  ({verdict} the {GOAL_MS:.0f} ms goal)",
        f"  email (Jinja → MRML → css-inline → checks): {email:7.2f} ms",
        f"  text: {text:7.2f} ms   web: {web:7.2f} ms",
        f"mjml-python alone (the floor): {floor:7.2f} ms  → whole build = {whole / floor:.1f}× the floor",
        f"email.html: {size / 1024:.1f} KB (Gmail clips at 102 KB)",
    ]
