"""What the contacts commands share: the opened store, the common options, the filter."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import click

from nyhetsbrev.cli_support import AppContext
from nyhetsbrev.contacts.model import (
    LANGUAGES,
    STATUSES,
    ContactStatus,
)

if TYPE_CHECKING:  # the database loads when a command runs: `contacts --help` needs none of it
    from nyhetsbrev.contacts.importing import ImportOptions
    from nyhetsbrev.contacts.queries import ContactFilter
    from nyhetsbrev.contacts.store import ContactStore

F = TypeVar("F", bound=Callable[..., object])


@contextmanager
def opened(app: AppContext) -> Iterator[ContactStore]:
    """The workspace's contact store, with the publication's topics; closed afterwards."""
    from nyhetsbrev.contacts.store import open_workspace_store  # heavy

    store = open_workspace_store(app.workspace)
    with store:
        yield store


def actor_option(func: F) -> F:
    """`--actor NAME` (or NYHETSBREV_ACTOR): who makes a change, for the records."""
    return click.option(
        "--actor",
        envvar="NYHETSBREV_ACTOR",
        metavar="NAME",
        help="Who makes the change, for the records. Default: your login name.",
    )(func)


@dataclass(frozen=True)
class FilterOptions:
    """`--status --topic --sector --lang --search` as given (for `list` and `export`)."""

    statuses: tuple[ContactStatus, ...] = ()
    topics: tuple[str, ...] = ()
    sectors: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    search: str | None = None

    def criteria(self, store: ContactStore) -> ContactFilter:
        """The filter, with the topics checked against the publication's."""
        from nyhetsbrev.contacts.queries import ContactFilter  # heavy

        topics = store.check_topics(self.topics) if self.topics else None
        return ContactFilter(self.statuses, topics, self.sectors, self.languages, self.search)


def filter_options(func: Callable[..., None]) -> Callable[..., None]:
    """Add the filter options to a command; it receives them as `filters: FilterOptions`."""

    @functools.wraps(func)
    def with_filters(
        *args: object,
        statuses: tuple[str, ...],
        topics: tuple[str, ...],
        sectors: tuple[str, ...],
        languages: tuple[str, ...],
        search: str | None,
        **kwargs: object,
    ) -> None:
        states = tuple(ContactStatus(s) for s in statuses)
        filters = FilterOptions(states, topics, sectors, languages, search)
        func(*args, filters=filters, **kwargs)

    options = [
        click.option(
            "--status", "statuses", multiple=True, type=click.Choice([s.value for s in STATUSES])
        ),
        click.option("--topic", "topics", multiple=True, metavar="TOPIC"),
        click.option("--sector", "sectors", multiple=True, metavar="SECTOR"),
        click.option("--lang", "languages", multiple=True, type=click.Choice(LANGUAGES)),
        click.option(
            "--search", metavar="TEXT", help="In email, name, organisation, sector, notes."
        ),
    ]
    command: Callable[..., None] = with_filters
    for option in reversed(options):
        command = option(command)
    return command


def repeat_args(options: ImportOptions, topics: tuple[str, ...]) -> list[str]:
    """The options of this import, to repeat in the 'run it with --apply' hint."""
    args: list[str] = []
    for item in options.mapping:
        args += ["--map", item]
    for topic in topics:
        args += ["--topic", topic]
    named = (
        ("--status", None if options.status == ContactStatus.SUBSCRIBED else options.status),
        ("--lang", options.language),
        ("--evidence", options.evidence),
        ("--privacy-notice", options.privacy_notice_version),
        ("--delimiter", options.delimiter),
        ("--encoding", options.encoding),
    )
    for flag, value in named:
        if value is not None:
            args += [flag, value]
    return args
