"""`nyhetsbrev archive`: the archive copy of a sent issue, as a BagIt bag for the records office."""

from __future__ import annotations

from pathlib import Path

import click

from nyhetsbrev.cli_support import AppContext, human_size, pass_app


@click.command()
@click.argument("issue_id", metavar="ID")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="A new or empty folder for the bag.",
)
@click.option("--draft", is_flag=True, help="Archive the current build of an issue not sent yet.")
@pass_app
def archive(app: AppContext, issue_id: str, out: Path, draft: bool) -> None:
    """Write the archive copy of a sent issue: a BagIt bag with the PDF/A, the message as sent
    (no recipient's data), the web edition and Dublin Core metadata.

    \b
      nyhetsbrev archive 2025-q1 --out arkiv/2025-q1
    """
    from nyhetsbrev.delivery.send import open_ledger
    from nyhetsbrev.records.bag import check_target, write_bag
    from nyhetsbrev.records.package import make_package

    ws = app.workspace
    check_target(out)  # before the work of rendering the PDF/A
    with open_ledger(ws) as (store, ledger):
        package = make_package(ws, store, ledger, issue_id, draft=draft)
    bag = write_bag(out, package.files, package.metadata)
    meta = package.metadata
    what = (
        f"as sent by campaign {meta.campaign} to {meta.recipients} recipient(s)"
        if package.campaign
        else "DRAFT: the current build, not sent"
    )
    click.echo(f"Archive copy of {issue_id} ({what}) in {out}/:")
    for name, data in package.files.items():
        click.echo(f"  data/{name:<34} {human_size(len(data)):>9}")
    approved = f"approved by {meta.approved_by}" if meta.approved_by else "no approval recorded"
    click.echo(
        f"BagIt bag with {len(bag.entries)} checksummed files (SHA-256, SHA-512), validated; "
        f"{approved}; content hash {meta.content_hash[:16]}…"
    )
