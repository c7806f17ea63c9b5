"""`nyhetsbrev contacts import` and `export`: the list in and out of CSV (and JSON)."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import click

from nyhetsbrev.cli_support import AppContext, pass_app
from nyhetsbrev.contacts.cli_options import (
    FilterOptions,
    actor_option,
    filter_options,
    opened,
    repeat_args,
)
from nyhetsbrev.contacts.model import LANGUAGES, NEW_STATUSES, ContactStatus, current_actor
from nyhetsbrev.errors import ContactsError


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--apply", is_flag=True, help="Write the import (default: a dry run, a report).")
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar='"COLUMN=FIELD"',
    help='e.g. --map "Epostadresse=email".',
)
@click.option("--status", type=click.Choice([s.value for s in NEW_STATUSES]), default="subscribed")
@click.option(
    "--topic", "topics", multiple=True, help="For rows without topics. Default: nyhetsbrev."
)
@click.option(
    "--lang", "language", type=click.Choice(LANGUAGES), help="For rows without a language."
)
@click.option("--evidence", help="Consent evidence for every row. Default: file and line.")
@click.option("--privacy-notice", metavar="VERSION")
@click.option("--delimiter", type=click.Choice([";", ",", "tab"]), help="Default: sniffed.")
@click.option("--encoding", help="Default: UTF-8 (with or without BOM), else Windows-1252.")
@click.option("--strict", is_flag=True, help="Write nothing if any row is rejected.")
@click.option("--verbose", is_flag=True, help="List every updated and skipped row.")
@actor_option
@pass_app
def import_(
    app: AppContext,
    file: Path,
    apply: bool,
    strict: bool,
    verbose: bool,
    actor: str | None,
    mapping: tuple[str, ...],
    status: str,
    topics: tuple[str, ...],
    language: str | None,
    evidence: str | None,
    privacy_notice: str | None,
    delimiter: str | None,
    encoding: str | None,
) -> None:
    """Import a CSV from Excel or Outlook: a dry run unless --apply; never resubscribes anyone."""
    from nyhetsbrev.contacts import report  # heavy: the database and rich load when it runs
    from nyhetsbrev.contacts.importing import ImportOptions, run_import

    with opened(app) as store:
        options = ImportOptions(
            status=ContactStatus(status),
            topics=store.check_topics(topics) if topics else None,
            language=language,
            evidence=evidence,
            privacy_notice_version=privacy_notice,
            actor=current_actor(actor),
            mapping=mapping,
            delimiter=delimiter,
            encoding=encoding,
        )
        plan = run_import(store, file, str(file), options, apply=apply, strict=strict)
    hint = [str(file), *repeat_args(options, topics)]
    command = "nyhetsbrev contacts import " + shlex.join(hint)
    click.echo("\n".join(report.import_report(plan, command, verbose=verbose)))
    if report.all_rejected(plan) and not strict:
        raise ContactsError(report.nothing_usable(plan).removeprefix("Nothing imported: "))
    if strict and plan.rejected:
        raise ContactsError(
            f"{len(plan.rejected)} row{'s' if len(plan.rejected) > 1 else ''} rejected — nothing "
            "was written (--strict); fix the rows listed above and import again"
        )


@click.command()
@click.argument("file", required=False, type=click.Path(dir_okay=False, allow_dash=True))
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    help="Default: from FILE's name, else csv.",
)
@click.option("--delimiter", type=click.Choice([";", ","]), default=";", show_default=True)
@actor_option
@pass_app
def export(
    app: AppContext,
    filters: FilterOptions,
    file: str | None,
    fmt: str | None,
    delimiter: str,
    actor: str | None,
) -> None:
    """Export contacts to CSV (opens in Excel, æøå intact) or JSON (with consent and events)."""
    from nyhetsbrev.contacts import exporting  # heavy: the database loads when it runs

    fmt = fmt or ("json" if file and file.lower().endswith(".json") else "csv")
    with opened(app) as store:
        target = "standard output" if file in (None, "-") else file
        if file in (None, "-"):  # streamed: rows are written as they are read
            ids = exporting.export(
                store, filters.criteria(store), fmt, sys.stdout, delimiter=delimiter
            )
            sys.stdout.flush()
        else:
            ids = exporting.export_to_file(
                store, filters.criteria(store), fmt, Path(file), delimiter=delimiter
            )
        store.record_export(ids, actor=current_actor(actor), detail=f"export ({fmt}) to {target}")
    click.echo(
        f"Exported {len(ids)} contact{'' if len(ids) == 1 else 's'} to {target} ({fmt}).", err=True
    )
