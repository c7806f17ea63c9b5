"""The `build` verb: check an issue, then write its email, text, PDF and web editions."""

from __future__ import annotations

import click

from nyhetsbrev.cli_support import AppContext, human_size, pass_app
from nyhetsbrev.render.standards import DEFAULT_STANDARD
from nyhetsbrev.render.standards import STANDARDS as PDF_STANDARDS


@click.command()
@click.argument("issue_id", metavar="ID")
@click.option(
    "--strict", is_flag=True, help="Stop on warnings too (editorial checks, the email's size)."
)
@click.option(
    "--keep-intermediate",
    is_flag=True,
    help="Also write the generated email.mjml and the PDF's Typst source (.typ), for people "
    "working on a theme.",
)
@click.option(
    "--pdf-standard",
    type=click.Choice(list(PDF_STANDARDS), case_sensitive=False),
    default=DEFAULT_STANDARD,
    show_default=True,
    help="ua-1: accessible PDF/UA-1. a-2a,ua-1: the archive copy, PDF/A-2a as well.",
)
@pass_app
def build(
    app: AppContext, issue_id: str, strict: bool, keep_intermediate: bool, pdf_standard: str
) -> None:
    """Build an issue: build/ID/email.html, email.txt, the PDF and index.html (the web edition).

    Runs the checks of `nyhetsbrev check` first: errors stop the build, warnings are listed
    (--strict stops on them). Nothing is written unless every edition renders and passes its
    checks; then build/ID/ is replaced at once and build/index.html (the archive) regenerated.
    """
    # Here, not at the top: `build --help` imports neither Jinja nor Typst.
    from nyhetsbrev.issue.findings import print_findings, summary
    from nyhetsbrev.render.build import BuildOptions, check_for_build, clip_share
    from nyhetsbrev.render.build import build as build_issue

    ws = app.workspace
    options = BuildOptions(
        strict=strict, keep_intermediate=keep_intermediate, pdf_standard=pdf_standard.lower()
    )
    loaded, findings = check_for_build(ws, issue_id, strict=strict)
    print_findings(findings, err=True)
    if findings:
        counted = summary(findings).removeprefix("0 errors, ")
        click.echo(f"{counted}: the build goes on (--strict stops on them)", err=True)
    result = build_issue(ws, loaded, options)
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    rows = [*result.files, result.archive]
    width = max(len(ws.relative(row.path)) for row in rows)
    for row in rows:
        line = f"{ws.relative(row.path):<{width}}  {human_size(row.size):>9}"
        if row.path == result.folder / "email.html":
            line += f"  ({clip_share(row.size)})"
        click.echo(line)
    click.echo(f"Built {issue_id}: open {ws.relative(result.folder / 'index.html')} in a browser.")
