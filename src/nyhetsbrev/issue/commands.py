"""The editor's authoring verbs: `init`, `check`, `new`, `schema`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from nyhetsbrev.cli_support import AppContext, pass_app
from nyhetsbrev.errors import IssueError, WorkspaceError
from nyhetsbrev.issue.findings import print_findings, summary
from nyhetsbrev.workspace import Workspace

ISSUE_ARG = click.argument("issue_id", metavar="ID")


@click.command()
@ISSUE_ARG
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="json: one object for tools and editors.",
)
@pass_app
def check(app: AppContext, issue_id: str, strict: bool, fmt: str) -> None:
    """Check an issue: every error and editorial warning at once, as file:line:col.

    Exit status 1 when there are errors (or warnings, with --strict).
    """
    from nyhetsbrev.issue.check import check_issue  # the model (pydantic): not for `--help`

    checked = check_issue(app.workspace, issue_id)
    findings = checked.findings
    errors = len(checked.errors)
    warnings = len(checked.warnings)
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "issue": issue_id,
                    "errors": errors,
                    "warnings": sum(1 + len(f.others) for f in findings if f.level == "warning"),
                    "findings": [f.as_json() for f in findings],
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    else:
        print_findings(findings)
        if errors:
            verdict = "fix the errors above"
        elif strict and warnings:
            verdict = "--strict stops on warnings: fix them, then check again"
        elif warnings:
            verdict = "ready to build (the warnings above are worth a look)"
        else:
            verdict = "ready to build"
        click.echo(f"{issue_id}: {summary(findings)} — {verdict}")
    if errors or (strict and warnings):
        raise SystemExit(1)


@click.command()
@ISSUE_ARG
@click.option(
    "--from", "source_id", metavar="ID", help="Scaffold from this issue instead of the latest."
)
@pass_app
def new(app: AppContext, issue_id: str, source_id: str | None) -> None:
    """Start a new issue from the latest earlier one.

    Keeps section headings, articles marked `recurring: true` and events on or after the new
    period; sets the period from the id; drops everything else. Never overwrites an issue.
    """
    from nyhetsbrev.issue.scaffold import scaffold

    ws = app.workspace
    made = scaffold(ws, issue_id, source_id)
    origin = f"from {made.source_id}" if made.source_id else "(no earlier issue to copy from)"
    click.echo(
        f"Created {ws.relative(made.path)} {origin}: {made.sections} sections, "
        f"{made.articles_kept} recurring articles kept, {made.events_kept} upcoming events "
        "carried over."
    )
    click.echo(f"Next: write the articles, then run `nyhetsbrev check {issue_id}`.")


@click.command()
@click.option("--check", "verify", is_flag=True, help="Exit 1 if the files are out of date.")
@pass_app
def schema(app: AppContext, verify: bool) -> None:
    """Write the JSON Schemas editors' tools use (newsletters/*.schema.json), from the model."""
    from nyhetsbrev.issue.model import json_schemas, write_schemas

    ws = app.workspace
    if verify:
        stale = [
            name
            for name, data in json_schemas().items()
            if not (ws.newsletters / f"{name}.schema.json").exists()
            or json.loads((ws.newsletters / f"{name}.schema.json").read_text("utf-8")) != data
        ]
        if stale:
            raise IssueError(f"out of date: {', '.join(stale)} schema — run `nyhetsbrev schema`")
        click.echo("schemas are up to date")
        return
    for path in write_schemas(ws.newsletters):
        click.echo(f"wrote {ws.relative(path)}")


@click.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--language",
    type=click.Choice(["nb", "nn", "en", "sv"]),
    default="nb",
    show_default=True,
    help="The publication's language: the masthead and example are written in it.",
)
@click.option("--name", help='The publisher, e.g. "Länsstyrelsen i Stockholm".')
@click.option("--title", help='The newsletter\'s title, e.g. "Nyhetsbrev från Länsstyrelsen".')
@click.option("--email", default="post@example.org", help="Contact and sender address.")
@click.option("--website", default="https://example.org", help="The publisher's website.")
@click.option("--short-name", help="A short name (default: the name, or its initials).")
@click.option(
    "--example",
    type=click.Choice(["kom"]),
    help="Write KOM's masthead and example instead (a complete real publication).",
)
def init(
    directory: Path,
    language: str,
    name: str | None,
    title: str | None,
    email: str,
    website: str,
    short_name: str | None,
    example: str | None,
) -> None:
    """Create a new workspace in DIRECTORY: a masthead, boxes and an example issue in your
    language, with your name and address, using the packaged theme."""
    from nyhetsbrev.issue.starter import Masthead, create_workspace

    masthead = Masthead(language, name, title, email, website, short_name)
    if example is None:
        masthead.fields()  # a bad option is reported before anything is made

    if Workspace.is_workspace(directory):
        raise WorkspaceError(f"{directory} is already a workspace (it has newsletters/)")
    if directory.exists() and any(directory.iterdir()):
        raise WorkspaceError(f"{directory} exists and is not empty: name a new or empty folder")
    try:
        created = create_workspace(directory, masthead, example=example)
    except OSError as exc:
        shutil.rmtree(directory, ignore_errors=True)
        raise WorkspaceError(f"cannot create {directory}: {exc.strerror or exc}") from exc
    click.echo(f"Created workspace {directory}:")
    for line in created.made:
        click.echo(f"  {line}")
    click.echo(f"Next: cd {directory} && nyhetsbrev check {created.issue_id}")
