"""Benchmark: the email, text and web editions of the reference issue rendered in one warm
process (what the preview does on every save), each part interleaved with MRML alone."""

from __future__ import annotations

from collections.abc import Iterator

import mjml

from nyhetsbrev.issue.load import load_or_fail
from nyhetsbrev.render.email import render_email, render_mjml
from nyhetsbrev.render.text import render_text
from nyhetsbrev.render.web import render_web
from nyhetsbrev.theme import find_theme
from nyhetsbrev.workspace import Workspace
from tests.bench.harness import QUICK, REPO, Figure, in_process, pair

RUNS = 11 if QUICK else 31
GOAL_SECONDS = 0.1


def run() -> Iterator[Figure | str]:
    """Render only (no lint, no disk writes), warm, in one process."""
    ws = Workspace(REPO)
    loaded, _ = load_or_fail(ws, "2024-q4")
    theme = find_theme(ws, loaded.publication.theme)
    source = render_mjml(loaded, theme)
    floor = in_process(lambda: mjml.mjml2html(source, fonts={}))

    def editions() -> None:
        render_email(loaded, theme)
        render_text(loaded, theme)
        render_web(loaded, theme)

    yield pair(
        "email + text + web, reference issue, warm in-process",
        in_process(editions),
        "mjml-python alone on the same MJML",
        floor,
        runs=RUNS,
        goal_seconds=GOAL_SECONDS,
    )
    for name, part in (
        ("email (Jinja → MRML → css-inline → checks)", lambda: render_email(loaded, theme)),
        ("text", lambda: render_text(loaded, theme)),
        ("web", lambda: render_web(loaded, theme)),
    ):
        yield pair(f"  part: {name}", in_process(part), "mjml-python alone", floor, runs=RUNS)
    size = len(render_email(loaded, theme).html.encode("utf-8"))
    yield f"email.html: {size / 1024:.1f} KB (Gmail clips at 102 KB)"
