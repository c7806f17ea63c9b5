"""The `nyhetsbrev` command: a thin click group; each verb parses, calls one function, prints."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any, NamedTuple

import click
import click.formatting

from nyhetsbrev import __version__
from nyhetsbrev.cli_support import AppContext, debug_requested
from nyhetsbrev.errors import NyhetsbrevError


class Verb(NamedTuple):
    """One verb of the command table: where it lives and its line in `nyhetsbrev --help`."""

    target: str  # "module:attribute" of a click command or group
    summary: str


# The verbs in the order of the editor's quarter. A verb loads its module only when it runs or
# shows its own help, so `nyhetsbrev check` never imports the SMTP, PDF or web stacks, and
# `nyhetsbrev --help` imports none of them: the summaries live here, not in the modules.
COMMANDS: dict[str, Verb] = {
    "init": Verb(
        "nyhetsbrev.issue.commands:init", "Create a workspace: masthead, theme, an example."
    ),
    "new": Verb("nyhetsbrev.issue.commands:new", "Start the next issue from the latest one."),
    "check": Verb("nyhetsbrev.issue.commands:check", "Every error and editorial warning at once."),
    "build": Verb(
        "nyhetsbrev.render.commands:build", "Build the email, text, web and PDF editions."
    ),
    "preview": Verb("nyhetsbrev.web.cli:preview", "Preview an issue in the browser as you write."),
    "send": Verb("nyhetsbrev.delivery.cli:send", "Send an issue (a dry run without --confirm)."),
    "approve": Verb(
        "nyhetsbrev.delivery.approval.cli:approve",
        "Approve this exact build for sending (four eyes).",
    ),
    "approvals": Verb(
        "nyhetsbrev.delivery.approval.cli:approvals", "List an issue's approvals and sends."
    ),
    "campaigns": Verb("nyhetsbrev.delivery.reports:campaigns", "List the sends and their outcome."),
    "archive": Verb(
        "nyhetsbrev.records.cli:archive", "Write the archive copy of a sent issue (BagIt)."
    ),
    "contacts": Verb("nyhetsbrev.contacts.cli:contacts", "Keep the contact list and its consent."),
    "bounces": Verb(
        "nyhetsbrev.bounces.cli:bounces", "Read the bounces that come back; mark them."
    ),
    "serve": Verb("nyhetsbrev.web.cli:serve", "Serve the archive, sign-up and unsubscribe pages."),
    "schema": Verb(
        "nyhetsbrev.issue.commands:schema", "Write the JSON Schemas for editors' tools."
    ),
    "theme": Verb("nyhetsbrev.theme_commands:theme", "Copy the packaged theme here to change it."),
    "migrate": Verb(
        "nyhetsbrev.theme_commands:migrate",
        "Move this publication into newsletters/NAME/, to add a second one.",
    ),
}


def suggestion(name: str) -> str | None:
    """The verb a mistyped `name` most likely meant, if any is close enough."""
    import difflib  # only on this path: `--help` should import as little as it can

    close = difflib.get_close_matches(name, list(COMMANDS), n=1, cutoff=0.6)
    return close[0] if close else None


def terminal_columns() -> int:
    """What `shutil.get_terminal_size().columns` gives ($COLUMNS, else the terminal, else 80),
    without importing shutil (and with it bz2, lzma, fnmatch) to print `--help`."""
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class HelpFormatter(click.HelpFormatter):
    """click's formatter at click's own width, found without shutil."""

    def __init__(
        self, indent_increment: int = 2, width: int | None = None, max_width: int | None = None
    ) -> None:
        if width is None and click.formatting.FORCED_WIDTH is None:  # tests force 80
            width = max(min(terminal_columns(), max_width or 80) - 2, 50)
        super().__init__(indent_increment, width, max_width)


class Context(click.Context):
    formatter_class = HelpFormatter


class NyhetsbrevGroup(click.Group):
    """Loads verbs lazily and turns any unexpected exception into one clear line."""

    context_class = Context

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        verb = COMMANDS.get(cmd_name)
        if verb is None:
            return None
        module_name, attribute = verb.target.split(":")
        command = getattr(importlib.import_module(module_name), attribute)
        assert isinstance(command, click.Command)
        return command

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        name = args[0] if args else ""
        if name in COMMANDS or name.startswith("-"):
            return super().resolve_command(ctx, args)
        guess = suggestion(name)
        hint = f" Did you mean {guess!r}?" if guess else ""
        ctx.fail(f"No such command {name!r}.{hint}")

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The table's summaries, whole: click would import every verb and cut each at 45."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, verb.summary) for name, verb in COMMANDS.items()])

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NyhetsbrevError:
            if debug_requested():
                import traceback  # only here: `--help` imports as little as it can

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
    "--publication",
    metavar="NAME",
    envvar="NYHETSBREV_PUBLICATION",
    help="Which publication, in a workspace with several (newsletters/NAME/).",
)
@click.option(
    "--debug", is_flag=True, envvar="NYHETSBREV_DEBUG", help="Show tracebacks for errors."
)
@click.pass_context
def main(ctx: click.Context, root: str | None, publication: str | None, debug: bool) -> None:
    """Write a newsletter issue as YAML; check it; build its email, web and PDF editions;
    keep the contact list; send the issue.

    \b
    The editor's quarter:
      nyhetsbrev new 2025-q1        start the next issue from the last one
      nyhetsbrev check 2025-q1      every error and editorial warning at once
      nyhetsbrev build 2025-q1      email, text, web and PDF editions in build/2025-q1/
      nyhetsbrev send 2025-q1       a dry run; add --confirm to send
    """
    ctx.obj = AppContext(root=root, debug=debug, publication=publication)
