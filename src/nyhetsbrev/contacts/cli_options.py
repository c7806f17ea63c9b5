"""What the contacts commands share: the opened store, the common options, the filter."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from nyhetsbrev.cli_support import AppContext
from nyhetsbrev.contacts.model import (
    LANGUAGES,
    STATUSES,
    ContactStatus,
    load_list_settings,
    publication_file,
)
from nyhetsbrev.contacts.queries import ContactFilter
from nyhetsbrev.contacts.store import ContactStore, open_store

F = TypeVar("F", bound=Callable[..., Any])


@contextmanager
def opened(app: AppContext) -> Iterator[ContactStore]:
    """The workspace's contact store, with the publication's topics; closed afterwards."""
    ws = app.workspace
    pub = publication_file(ws.newsletters)
    settings = load_list_settings(ws.newsletters, ws.relative(pub) if pub else None)
    store = open_store(
        ws.database_url(),
        topics=settings.topics,
        privacy_notice_version=settings.privacy_notice_version,
    )
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


def filter_options(func: F) -> F:
    """`--status --topic --sector --lang --search`, for `list` and `export`."""
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
    for option in reversed(options):
        func = option(func)
    return func


def criteria(store: ContactStore, kw: dict[str, Any]) -> ContactFilter:
    """The filter named by `filter_options`."""
    topics = store.check_topics(kw["topics"]) if kw["topics"] else None
    statuses = [ContactStatus(s) for s in kw["statuses"]]
    return ContactFilter(statuses, topics, kw["sectors"], kw["languages"], kw["search"])


def repeat_args(kw: dict[str, Any]) -> list[str]:
    """The options of this import, to repeat in the 'run it with --apply' hint."""
    args: list[str] = []
    for item in kw["mapping"]:
        args += ["--map", item]
    for topic in kw["topics"]:
        args += ["--topic", topic]
    for name in ("status", "language", "evidence", "privacy_notice", "delimiter", "encoding"):
        value = kw[name]
        if value is not None and not (name == "status" and value == "subscribed"):
            flag = {"language": "--lang"}.get(name, "--" + name.replace("_", "-"))
            args += [flag, value]
    return args
