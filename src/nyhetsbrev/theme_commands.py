"""`nyhetsbrev theme copy` (the packaged theme in templates/, to change it) and `nyhetsbrev
migrate` (a one-publication workspace into the several-publication layout)."""

from __future__ import annotations

import click

from nyhetsbrev.cli_support import AppContext, pass_app
from nyhetsbrev.theme import copy_theme
from nyhetsbrev.workspace import Workspace


@click.group()
def theme() -> None:
    """The theme: the templates and labels every edition is rendered with.

    Without a templates/NAME/ folder of its own, a workspace uses the theme shipped inside
    nyhetsbrev. `theme copy` puts a copy in templates/NAME/ to edit; from then on that copy
    wins over the shipped one.
    """


@theme.command("copy")
@click.argument("name", default="kom")
@click.option(
    "--force", is_flag=True, help="Replace an existing templates/NAME/ (your changes go)."
)
@click.option(
    "--as",
    "to",
    metavar="NEW",
    help="Copy it to templates/NEW/ instead: a theme of your own (then set `theme: NEW` in "
    "the publication file).",
)
@pass_app
def copy(app: AppContext, name: str, force: bool, to: str | None) -> None:
    """Copy the shipped theme NAME (default: kom) to templates/NAME/ to change it."""
    ws = Workspace.find_root(app.root)  # templates/ is shared by every publication
    target = copy_theme(ws, name, force=force, to=to)
    click.echo(f"Copied the {name} theme to {ws.relative(target)}/: change its colours, fonts")
    click.echo("and logo in brand.yaml, its words in labels.yaml; `nyhetsbrev preview ID`")
    click.echo("shows each change as you save (see docs/look.md).")


@click.command()
@pass_app
def migrate(app: AppContext) -> None:
    """Move the workspace's one publication into newsletters/NAME/ (its issues with it, its
    build/ and contacts/ into build/NAME/ and contacts/NAME/), so that a second publication
    can be added as newsletters/OTHER/publication.yaml. The links already sent keep working."""
    from nyhetsbrev.migrate import migrate as run

    ws = Workspace.find_root(app.root)
    name, notes = run(ws)
    click.echo(f"Moved the publication {name} into newsletters/{name}/:")
    for line in notes:
        click.echo(f"  {line}")
    click.echo(
        "Next: add another publication as newsletters/NAME/publication.yaml (with its issues "
        "in newsletters/NAME/<id>/); commands then take --publication NAME."
    )
