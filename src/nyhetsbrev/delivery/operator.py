"""What the person running a send sees: the options a campaign keeps, the command that resumes it,
progress lines for a log, and what to do next with each group of deliveries left.

A campaign stores the options it was started with (`rate`, `daily_cap`, `max_errors`,
`retry_delay`, `allow_warnings`, `allow_placeholder_links`); `--resume` uses them unless the
command line says otherwise,
and every resume command printed repeats them, so it works run verbatim in a new shell.
"""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Mapping
from typing import Any

from nyhetsbrev.delivery.options import (
    DEFAULT_DAILY_CAP,
    DEFAULT_MAX_ERRORS,
    DEFAULT_RATE,
    DEFAULT_RETRY_DELAY,
)
from nyhetsbrev.delivery.schema import Campaign

#: The send options a campaign keeps, with the command line's defaults.
DEFAULTS: dict[str, Any] = {
    "rate": DEFAULT_RATE,
    "daily_cap": DEFAULT_DAILY_CAP,
    "max_errors": DEFAULT_MAX_ERRORS,
    "retry_delay": DEFAULT_RETRY_DELAY,
    "allow_warnings": False,
    "allow_placeholder_links": False,
}
PROGRESS_SECONDS = 30.0
PROGRESS_MESSAGES = 100


def stored_options(opts: Mapping[str, Any]) -> dict[str, Any]:
    """The options to keep on a new campaign (from the command line's values)."""
    return {name: opts[name] for name in DEFAULTS if name in opts}


def resume_flags(options: Mapping[str, Any] | None) -> list[str]:
    """The flags that repeat `options` where they differ from the defaults."""
    flags = []
    for name, default in DEFAULTS.items():
        value = (options or {}).get(name, default)
        if isinstance(default, bool):  # --allow-warnings, --allow-placeholder-links
            if value:
                flags.append(f"--{name.replace('_', '-')}")
        elif value != default:
            number = f"{value:g}" if isinstance(value, float) else str(value)
            flags.append(f"--{name.replace('_', '-')}={number}")
    return flags


def resume_command(issue_id: str, campaign: Campaign | None, root: str | None, *more: str) -> str:
    """The exact command that continues the issue's campaign with the options it began with."""
    words = ["nyhetsbrev"] + (["--root", root] if root else []) + ["send", issue_id, "--resume"]
    return shlex.join([*words, *more, *resume_flags(campaign.options if campaign else None)])


class ProgressLog:
    """A progress line every `PROGRESS_SECONDS` or `PROGRESS_MESSAGES` messages (for cron and
    log files, where a progress bar would be noise); the rate is messages over elapsed time."""

    def __init__(
        self,
        total: int,
        echo: Callable[[str], None],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total, self.echo, self._clock = total, echo, clock
        self.started = self._last = clock()
        self.counts: dict[str, int] = {}
        self.done = 0
        self._since_line = 0

    def tick(self, outcome: str) -> None:
        if outcome == "deferred":
            return
        self.done += 1
        self.counts[outcome] = self.counts.get(outcome, 0) + 1
        self._since_line += 1
        at = self._clock()
        if self._since_line >= PROGRESS_MESSAGES or at - self._last >= PROGRESS_SECONDS:
            self.echo(self.line(at))
            self._last, self._since_line = at, 0

    def rate(self, at: float | None = None) -> float:
        """Messages a minute so far."""
        elapsed = (self._clock() if at is None else at) - self.started
        return self.done / elapsed * 60 if elapsed > 0 else 0.0

    def line(self, at: float) -> str:
        rate = self.rate(at)
        others = ", ".join(
            f"{count} {state}" for state, count in sorted(self.counts.items()) if state != "sent"
        )
        left = max(0, self.total - self.done)
        eta = f", {_minutes(left / rate * 60)} left" if rate > 0 and left else ""
        return (
            f"Sending: {self.done}/{self.total} ({self.counts.get('sent', 0)} sent"
            + (f", {others}" if others else "")
            + f"), {rate:.1f}/min{eta}"
        )


def next_steps(
    issue_id: str,
    campaign: Campaign,
    root: str | None,
    *,
    failed_temporary: int,
    failed_permanent: int,
    uncertain: int,
) -> list[str]:
    """What to do next for each group of deliveries that did not go out."""
    steps = []
    if failed_temporary:
        command = resume_command(issue_id, campaign, root, "--retry-failed")
        steps.append(
            f"{failed_temporary} failed for now (4xx, still after every try): the server may "
            f"take them later; try them again with: {command}"
        )
    if failed_permanent:
        command = resume_command(issue_id, campaign, root, "--retry-failed", "--retry-permanent")
        steps.append(
            f"{failed_permanent} refused (5xx: the address or the message; see the report): "
            "correct or remove those addresses; to try them anyway: " + command
        )
    if uncertain:
        command = resume_command(issue_id, campaign, root, "--resend-uncertain")
        steps.append(
            f"{uncertain} uncertain (the connection broke after the message was sent): look up "
            "their Message-ID (in the report) in the SMTP server's log (Exchange: message trace); "
            f"to send those not found again: {command}"
        )
    return steps


def _minutes(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"about {minutes} min" if minutes else "under a minute"
