"""The `nyhetsbrev` command: a thin click group; each verb parses, calls one function, prints."""

from __future__ import annotations

import importlib
import traceback
from typing import Any

import click

from nyhetsbrev import __version__
from nyhetsbrev.cli_support import AppContext, debug_requested
from nyhetsbrev.errors import NyhetsbrevError

# Verbs load their module only when used, so `nyhetsbrev check` never imports the SMTP, PDF or
# web stacks. name → "module:attribute" (a click command or group).
COMMANDS: dict[str, str] = {
    "init": "nyhetsbrev.issue.commands:init",
    "check": "nyhetsbrev.issue.commands:check",
    "new": "nyhetsbrev.issue.commands:new",
    "schema": "nyhetsbrev.issue.commands:schema",
    "preview": "nyhetsbrev.web.cli:preview",
    "serve": "nyhetsbrev.web.cli:serve",
    "build": "nyhetsbrev.render.commands:build",
    "contacts": "nyhetsbrev.contacts.cli:contacts",
    "send": "nyhetsbrev.delivery.cli:send",
    "campaigns": "nyhetsbrev.delivery.reports:campaigns",
}


class NyhetsbrevGroup(click.Group):
    """Loads verbs lazily and turns any unexpected exception into one clear line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = COMMANDS.get(cmd_name)
        if target is None:
            return None
        module_name, attribute = target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NyhetsbrevError:
            if debug_requested():
                traceback.print_exc()
            raise
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception as exc:  # a bug or an unforeseen environment: one line, not a traceback
            if debug_requested():
                raise
            raise NyhetsbrevError(
                f"unexpected {type(exc).__name__}: {exc}\n"
                "Run the same command with --debug for the traceback, and report it."
            ) from exc


@click.group(cls=NyhetsbrevGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nyhetsbrev")
@click.option(
    "--root",
    metavar="DIR",
    envvar="NYHETSBREV_ROOT",
    help="The workspace folder (holding newsletters/). Default: this folder or a parent.",
)
@click.option(
    "--debug", is_flag=True, envvar="NYHETSBREV_DEBUG", help="Show tracebacks for errors."
)
@click.pass_context
def main(ctx: click.Context, root: str | None, debug: bool) -> None:
    """Write a newsletter issue as YAML; check it; build its email, web and PDF editions;
    keep the contact list; send the issue.

    \b
    The editor's quarter:
      nyhetsbrev new 2025-q1        start the next issue from the last one
      nyhetsbrev check 2025-q1      every error and editorial warning at once
      nyhetsbrev build 2025-q1      email, text, web and PDF editions in build/2025-q1/
      nyhetsbrev send 2025-q1       a dry run; add --confirm to send
    """
    ctx.obj = AppContext(root=root, debug=debug)
