"""Why css-inline and not premailer: both run on MRML's output of the reference issue.

Not part of `make bench` (premailer is not a dependency). To repeat the measurement:
    .venv/bin/pip install premailer && .venv/bin/python -m tests.bench inliners
"""

from __future__ import annotations

import logging
import re
import statistics
import time
from collections.abc import Callable

from nyhetsbrev.issue.load import load_or_fail
from nyhetsbrev.render.email import compile_mjml, content_css, inline_content_css, render_mjml
from nyhetsbrev.theme import find_theme
from nyhetsbrev.workspace import Workspace
from tests.conftest import REPO

RUNS = 7


def facts(html: str) -> str:
    """What MRML's layout and Outlook need, counted (CSS comments aside)."""
    blocks = [
        re.sub(r"/\*.*?\*/", "", block, flags=re.S)
        for block in re.findall(r"<style[^>]*>(.*?)</style>", html, re.S)
    ]
    return (
        f"{len(html.encode()):,} B, <style> blocks {len(blocks)}, "
        f"@media {sum(b.count('@media') for b in blocks)}, "
        f"!important {sum(b.count('!important') for b in blocks)}, "
        f"mso conditionals {html.count('<!--[if')}, "
        f"style attributes {len(re.findall(r' style=', html))}, "
        f"doctype {html[:15].lower().startswith('<!doctype html')}"
    )


def run() -> list[str]:
    try:
        import premailer  # type: ignore[import-untyped,import-not-found,unused-ignore]
    except ModuleNotFoundError:
        return ["premailer is not installed (not a dependency): pip install premailer"]
    ws = Workspace(REPO)
    loaded, _ = load_or_fail(ws, "2024-q4")
    theme = find_theme(ws, loaded.publication.theme)
    mrml = compile_mjml(render_mjml(loaded, theme), theme)
    css = content_css(theme)
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage())

    logging.getLogger("CSSUTILS").addHandler(Collect())

    def with_premailer() -> str:
        # As premailer is used for MJML output: the content CSS added, MRML's <style> kept.
        result: str = premailer.Premailer(
            mrml, css_text=css, keep_style_tags=True, cssutils_logging_level=logging.WARNING
        ).transform()
        return result

    def with_css_inline() -> str:
        return inline_content_css(mrml, css)

    runners: dict[str, Callable[[], str]] = {
        "css-inline": with_css_inline,
        "premailer": with_premailer,
    }
    times: dict[str, list[float]] = {name: [] for name in runners}
    outputs = {name: work() for name, work in runners.items()}  # warm up
    for _ in range(RUNS):  # interleaved: A B A B …
        for name, work in runners.items():
            started = time.perf_counter()
            work()
            times[name].append((time.perf_counter() - started) * 1000)
    lines = [f"MRML output: {facts(mrml)}"]
    for name in runners:
        spread = times[name]
        lines.append(
            f"{name}: median {statistics.median(spread):.1f} ms "
            f"(min {min(spread):.1f}, max {max(spread):.1f}, {RUNS} runs); {facts(outputs[name])}"
        )
    ratios = [p / c for p, c in zip(times["premailer"], times["css-inline"], strict=True)]
    lines.append(f"premailer / css-inline per pair: median {statistics.median(ratios):.0f}×")
    lines.append(f"cssutils messages during one premailer run: {len(set(messages))} distinct")
    lines += [f"  {m}" for m in sorted(set(messages))[:8]]
    return lines
