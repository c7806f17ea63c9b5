"""`nyhetsbrev theme copy`: the packaged theme in the workspace's templates/, to change it."""

from __future__ import annotations

import click

from nyhetsbrev.cli_support import AppContext, pass_app
from nyhetsbrev.theme import copy_theme


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
@pass_app
def copy(app: AppContext, name: str, force: bool) -> None:
    """Copy the shipped theme NAME (default: kom) to templates/NAME/ to change it."""
    ws = app.workspace
    target = copy_theme(ws, name, force=force)
    click.echo(f"Copied the {name} theme to {ws.relative(target)}/: edit its templates and")
    click.echo("labels.yaml there; `nyhetsbrev preview ID` shows each change as you save.")
