"""SpamAssassin's local rules (no network tests) on the reference issue as the SMTP sink got it."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import require_tool
from tests.delivery.conftest import ISSUE, Sink

SEND = ("send", ISSUE, "--confirm", "--allow-warnings", "--allow-placeholder-links", "--rate", "0")
_SCORE = re.compile(r"Content analysis details:\s+\((-?\d+(?:\.\d+)?) points", re.S)
_RULE = re.compile(r"^\s*(-?\d+\.\d+)\s+([A-Z0-9_]+)\s", re.M)


def spamassassin_report(message: bytes, home: Path) -> tuple[float, list[tuple[str, float]]]:
    """The score and the rules that hit, from `spamassassin -t -L` (local tests only: no DNS,
    no network). Debian ships the rules in /usr/share/spamassassin, so no sa-update is needed;
    `-p` keeps the user preferences file it creates out of the real home folder."""
    tool = require_tool("spamassassin")
    done = subprocess.run(
        [tool, "-t", "-L", "-p", str(home / "user_prefs")],
        input=message,
        capture_output=True,
        timeout=120,
        check=True,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
    )
    report = done.stdout.decode("utf-8", "replace")
    found = _SCORE.search(report)
    assert found, report[-2000:]
    details = report[found.end() :]
    rules = [(name, float(points)) for points, name in _RULE.findall(details)]
    return float(found[1]), rules


def test_a_sent_reference_issue_scores_nothing(
    send_ws: Path,
    cli: Any,
    contacts: Callable[..., list[int]],
    smtp_sink: Sink,
    tmp_path: Path,
) -> None:
    contacts(1)
    result = cli(*SEND)
    assert result.exit_code == 0, result.output
    [received] = smtp_sink.received
    score, rules = spamassassin_report(received.data, tmp_path)
    scoring = [(name, points) for name, points in rules if points > 0]
    assert scoring == [] and score <= 0.0, rules
