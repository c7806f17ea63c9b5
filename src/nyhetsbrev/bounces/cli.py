"""`nyhetsbrev bounces import|fetch`: read non-delivery reports, say what they mean, record."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from nyhetsbrev.cli_support import AppContext, pass_app
from nyhetsbrev.workspace import Workspace

if TYPE_CHECKING:
    from nyhetsbrev.contacts.store import ContactStore

REPORTS = "reports"


@contextmanager
def opened(ws: Workspace) -> Iterator[ContactStore]:
    """The workspace's contact store with the ledger and the bounce table migrated."""
    import nyhetsbrev.bounces.schema  # noqa: F401  (registers the migrations)
    from nyhetsbrev.contacts.store import open_workspace_store

    store = open_workspace_store(ws)
    with store:
        yield store


def report_path(ws: Workspace) -> Path:
    """contacts/reports/bounces-YYYYMMDD-HHMMSS.csv (the folder is git-ignored)."""
    from nyhetsbrev.contacts.model import now

    folder = ws.contacts_dir / REPORTS
    folder.mkdir(parents=True, exist_ok=True)
    ignore = folder / ".gitignore"
    if not ignore.exists():
        ignore.write_text("# reports name recipients: keep them out of version control\n*\n")
    return folder / f"bounces-{now():%Y%m%d-%H%M%S}.csv"


@click.group()
def bounces() -> None:
    """Read the non-delivery reports that come back to the sender's mailbox.

    \b
    nyhetsbrev bounces import ~/Nedlastinger/*.eml     .eml files, folders, mbox files
    nyhetsbrev bounces fetch                           over IMAP (NYHETSBREV_IMAP_URL)
    Both are a dry run first; add --apply to record the bounces and mark contacts bounced.
    """


apply_option = click.option(
    "--apply", is_flag=True, help="Record the bounces and mark contacts. Without it: a dry run."
)
verbose_option = click.option("--verbose", "-v", is_flag=True, help="List every message.")
actor_option = click.option(
    "--actor",
    envvar="NYHETSBREV_ACTOR",
    metavar="NAME",
    help="Who makes the change, for the records. Default: your login name.",
)


def current_actor(explicit: str | None) -> str:
    from nyhetsbrev.contacts.model import current_actor as actor

    return actor(explicit)


@bounces.command("import")
@click.argument(
    "paths", nargs=-1, required=True, type=click.Path(path_type=Path), metavar="PATH..."
)
@apply_option
@verbose_option
@actor_option
@pass_app
def import_(
    app: AppContext, paths: tuple[Path, ...], apply: bool, verbose: bool, actor: str | None
) -> None:
    """Read bounce messages from .eml files, folders of them and mbox files."""
    from nyhetsbrev.bounces.record import apply_plan, build_plan
    from nyhetsbrev.bounces.sources import check_paths, read_paths

    ws = app.workspace
    check_paths(paths)
    with opened(ws) as store:
        plan = build_plan(store.engine, read_paths(paths, _shown(ws)))
        if apply:
            apply_plan(store.engine, plan, actor=current_actor(actor), source="import")
    what = ", ".join(_shown(ws)(p) for p in paths[:3]) + (" …" if len(paths) > 3 else "")
    _finish(ws, plan, what, verbose, ["nyhetsbrev", "bounces", "import", *map(str, paths)])


@bounces.command()
@click.option(
    "--move-to",
    metavar="FOLDER",
    help="Move bounces and auto-replies there (created if missing), e.g. Nyhetsbrev/Behandlet.",
)
@click.option("--limit", type=click.IntRange(min=1), help="Read at most this many messages.")
@apply_option
@verbose_option
@actor_option
@pass_app
def fetch(
    app: AppContext,
    move_to: str | None,
    limit: int | None,
    apply: bool,
    verbose: bool,
    actor: str | None,
) -> None:
    """Read bounce messages from the mailbox over IMAP (NYHETSBREV_IMAP_URL).

    Only messages not yet processed are read. With --apply they are recorded, and every message
    read gets the keyword $NyhetsbrevProcessed (and with --move-to, bounces and auto-replies are
    moved), so the next fetch finds only new ones. Nothing is deleted.
    """
    from nyhetsbrev.bounces.imap import ImapSettings, Mailbox
    from nyhetsbrev.bounces.record import apply_plan, build_plan

    ws = app.workspace
    settings = ImapSettings.from_env()
    with opened(ws) as store, Mailbox(settings) as mailbox:
        uids = mailbox.unprocessed(readonly=not apply, limit=limit)
        origins: dict[str, int] = {}

        def messages() -> Iterator[tuple[str, bytes]]:
            for uid, data in mailbox.messages(uids):
                origin = f"{settings.folder} UID {uid}"
                origins[origin] = uid
                yield origin, data

        plan = build_plan(store.engine, messages())
        moved = ""
        if apply:
            apply_plan(store.engine, plan, actor=current_actor(actor), source="imap")
            move = [origins[o] for o in plan.processed if o in plan.recognised]
            moved = mailbox.mark([origins[o] for o in plan.processed], move, move_to)
    if not uids:
        click.echo(f"No new messages in {settings.display}.")
        return
    extra = ["--move-to", move_to] if move_to else []
    _finish(ws, plan, settings.display, verbose, ["nyhetsbrev", "bounces", "fetch", *extra])
    if apply:
        marked = f"Marked {len(plan.processed)} message(s) as processed"
        if moved and move_to:
            count = len(plan.recognised)
            marked += f"; {count} bounce(s) and auto-replies {moved.split(' ')[0]} to {move_to}"
            if moved.startswith("copied"):
                marked += " (the server has no MOVE: the originals stay, marked)"
        click.echo(marked + ".")


def _finish(ws: Workspace, plan: object, what: str, verbose: bool, command: list[str]) -> None:
    from nyhetsbrev.bounces.record import Plan
    from nyhetsbrev.bounces.report import lines, write_csv

    assert isinstance(plan, Plan)
    click.echo("\n".join(lines(plan, what=what, verbose=verbose)))
    if plan.applied:
        if any(not i.erased for i in plan.items):
            path = report_path(ws)
            rows = write_csv(plan, path)
            click.echo(f"Wrote the report ({rows} row(s)) to {ws.relative(path)}")
    elif plan.items:
        click.echo(f"Nothing was changed. To record them, run: {shlex.join([*command, '--apply'])}")


def _shown(ws: Workspace) -> Callable[[Path], str]:
    def shown(path: Path) -> str:
        return ws.relative(path.resolve()) if path.is_absolute() else str(path)

    return shown
