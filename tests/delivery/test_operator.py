"""The operator's view: progress lines in a log, an interrupted campaign in `nyhetsbrev
campaigns`, and resume commands that repeat the options the campaign began with, run verbatim."""

from __future__ import annotations

import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.delivery.conftest import Sink, wait_for
from tests.delivery.test_crash import start

from nyhetsbrev.delivery.operator import ProgressLog, resume_flags


def test_progress_lines_every_100_messages_or_30_seconds() -> None:
    clock = [0.0]
    lines: list[str] = []
    log = ProgressLog(1300, lines.append, clock=lambda: clock[0])
    for number in range(250):  # fast: a line per 100 messages
        clock[0] += 0.1
        log.tick("failed" if number == 7 else "sent")
    log.tick("deferred")  # a retry later is not a message done
    assert lines == [
        "Sending: 100/1300 (99 sent, 1 failed), 600.0/min, about 2 min left",
        "Sending: 200/1300 (199 sent, 1 failed), 600.0/min, about 2 min left",
    ]
    for _ in range(3):  # slow: a line per 30 seconds
        clock[0] += 15.0
        log.tick("sent")
    # 252 messages in 55 s: 274.9 a minute
    assert lines[2:] == ["Sending: 252/1300 (251 sent, 1 failed), 274.9/min, about 4 min left"]
    assert log.rate() == 253 / clock[0] * 60  # the rate shown is the rate measured


def test_resume_flags_repeat_what_differs_from_the_defaults() -> None:
    assert resume_flags(None) == []
    options = {"rate": 0.0, "daily_cap": 500, "max_errors": 10, "retry_delay": 5.0}
    assert resume_flags({**options, "allow_warnings": True}) == [
        "--rate=0",
        "--daily-cap=500",
        "--retry-delay=5",
        "--allow-warnings",
    ]


def test_interrupted_campaign_is_shown_and_its_resume_command_works_verbatim(
    send_ws: Path, cli: Any, contacts: Callable[..., list[int]], smtp_sink: Sink
) -> None:
    contacts(150)
    smtp_sink.delay = 0.002
    options = ("--rate", "0", "--daily-cap", "500", "--retry-delay", "5")
    process = start(send_ws, "--confirm", *options)  # output to a pipe: not a terminal
    wait_for(lambda: smtp_sink.count() >= 110 or process.poll() is not None, 60)
    process.send_signal(signal.SIGKILL)
    output = process.communicate(timeout=30)[0]
    assert re.search(r"^Sending: 100/150 \(100 sent\), [\d.]+/min", output, re.M), output
    listing = cli("campaigns").output
    assert re.search(r"^\s+1  2024-q4  interrupted ", listing, re.M), listing
    command = listing.rsplit("Continue it with: ", 1)[1].strip()
    assert command == (
        "nyhetsbrev send 2024-q4 --resume --rate=0 --daily-cap=500 --retry-delay=5 --allow-warnings --allow-placeholder-links"
    )
    assert re.search(r"Campaign 1 was interrupted: its sender \(\S+@\S+\) is gone\.", listing)
    words = shlex.split(command)
    resumed = subprocess.run(
        [sys.executable, "-m", *words], cwd=send_ws, capture_output=True, text=True, timeout=120
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    received = smtp_sink.per_recipient()
    assert len(received) >= 149 and max(received.values()) == 1  # at most one uncertain
    assert "finished" in cli("campaigns").output
