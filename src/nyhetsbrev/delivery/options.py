"""What `nyhetsbrev send` was asked to do, as one typed value, and the rules its flags obey."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # `send --help` reads this module: the campaign's database stays unimported
    from nyhetsbrev.delivery.campaign import Audience, Limits

#: The limits' defaults (also the click options' defaults); a resume command repeats the others.
DEFAULT_RATE: float = 30  # an int, so that --help shows "30"
DEFAULT_DAILY_CAP = 10_000
DEFAULT_MAX_ERRORS = 10
DEFAULT_RETRY_DELAY: float = 60


@dataclass(frozen=True)
class SendOptions:
    """The options of one `nyhetsbrev send`, as the command line gave them."""

    issue_id: str
    confirm: bool = False
    tests: tuple[str, ...] = ()
    resume: bool = False
    resend_uncertain: bool = False
    retry_failed: bool = False
    retry_permanent: bool = False
    new_campaign: bool = False
    again: bool = False
    attach_pdf: bool = False
    topics: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    allow_warnings: bool = False
    write_eml: Path | None = None
    rate: float = DEFAULT_RATE
    daily_cap: int = DEFAULT_DAILY_CAP
    max_errors: int = DEFAULT_MAX_ERRORS
    retry_delay: float = DEFAULT_RETRY_DELAY
    actor: str | None = None  # who sends (--actor / NYHETSBREV_ACTOR), for the four-eyes rule
    allow_placeholder_links: bool = False

    @property
    def real(self) -> bool:
        """A send to the list (a new campaign or a resumed one), not a dry run or a test."""
        return self.confirm or self.resume

    @property
    def dry_run(self) -> bool:
        return not (self.real or self.tests)

    def audience(self) -> Audience:
        from nyhetsbrev.delivery.campaign import Audience

        return Audience(self.topics or ("nyhetsbrev",), self.sectors, self.languages, self.again)

    def limits(self) -> Limits:
        from nyhetsbrev.delivery.campaign import Limits

        return Limits(self.rate, self.daily_cap, self.max_errors, retry_delay=self.retry_delay)

    def check_usage(self) -> None:
        """`click.UsageError` (exit 2) for flags that do not go together."""
        given = {"confirm": self.confirm, "test": bool(self.tests), "resume": self.resume}
        modes = [name for name, on in given.items() if on]
        if len(modes) > 1:
            raise click.UsageError(f"choose one of --{' or --'.join(modes)}")
        rules = (
            ("--resend-uncertain", self.resend_uncertain, "resume", self.resume),
            ("--retry-failed", self.retry_failed, "resume", self.resume),
            ("--retry-permanent", self.retry_permanent, "retry-failed", self.retry_failed),
            ("--new-campaign", self.new_campaign, "confirm", self.confirm),
        )
        for flag, on, needs, present in rules:
            if on and not present:
                raise click.UsageError(f"{flag} goes with --{needs}")
        if self.write_eml and modes:
            raise click.UsageError(
                "--write-eml is for the dry run: leave out --confirm/--test/--resume"
            )
        if self.resume and (
            self.topics or self.sectors or self.languages or self.again or self.attach_pdf
        ):
            raise click.UsageError(
                "--resume continues the campaign with the audience and attachment it began "
                "with: leave out --topic, --sector, --lang, --again and --attach-pdf"
            )

    def audience_flags(self) -> list[str]:
        """The audience and attachment flags, as a command line repeats them."""
        flags = [f"--topic={t}" for t in self.topics] + [f"--sector={s}" for s in self.sectors]
        flags += [f"--lang={code}" for code in self.languages]
        flags += [f for f, on in (("--attach-pdf", self.attach_pdf), ("--again", self.again)) if on]
        return flags

    def limit_flags(self) -> list[str]:
        """The limits that differ from the defaults, as a resume command repeats them."""
        limits = (
            ("--rate", self.rate, DEFAULT_RATE),
            ("--daily-cap", self.daily_cap, DEFAULT_DAILY_CAP),
            ("--max-errors", self.max_errors, DEFAULT_MAX_ERRORS),
            ("--retry-delay", self.retry_delay, DEFAULT_RETRY_DELAY),
        )
        return [f"{flag}={value:g}" for flag, value, default in limits if value != default]
