"""`nyhetsbrev contacts …`: keep the contact list (each command parses, calls the store, prints)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from nyhetsbrev.cli_support import AppContext, pass_app
from nyhetsbrev.contacts.cli_options import (
    FilterOptions,
    actor_option,
    filter_options,
    opened,
)
from nyhetsbrev.contacts.cli_transfer import export, import_
from nyhetsbrev.contacts.model import (
    CONSENT_SOURCES,
    LANGUAGES,
    NEW_STATUSES,
    UNSUBSCRIBE_SOURCES,
    ContactStatus,
    current_actor,
)
from nyhetsbrev.errors import ContactsError

# The database (SQLAlchemy) and rich load in the commands that use them, so that
# `nyhetsbrev contacts --help` and every `contacts VERB --help` import neither.
if TYPE_CHECKING:
    from nyhetsbrev.contacts import traces


@click.group()
def contacts() -> None:
    """Keep the contact list: who receives KOM's mailings, and their consent.

    \b
    The database is contacts/contacts.sqlite, or NYHETSBREV_DATABASE_URL (e.g. PostgreSQL).
    Topics: nyhetsbrev, rettsavgjorelser, tilstandsrapport (or `topics:` in the publication).
    """


@contacts.command()
@click.argument("email")
@click.option("--name")
@click.option("--org", "organisation", metavar="ORGANISATION")
@click.option("--sector", help="e.g. departement, direktorat, politi, frivillig organisasjon.")
@click.option("--lang", "language", type=click.Choice(LANGUAGES), default="nb", show_default=True)
@click.option("--topic", "topics", multiple=True, help="Repeat for several. Default: nyhetsbrev.")
@click.option("--status", type=click.Choice([s.value for s in NEW_STATUSES]), default="subscribed")
@click.option("--notes")
@click.option("--source", type=click.Choice(CONSENT_SOURCES), default="manual", show_default=True)
@click.option("--evidence", help="Of their consent: e.g. the request's Message-ID or date.")
@click.option("--privacy-notice", metavar="VERSION", help="Default: the publication's.")
@click.option(
    "--lift-suppression", is_flag=True, help="Add an erased address again (fresh consent)."
)
@actor_option
@pass_app
def add(
    app: AppContext,
    email: str,
    name: str | None,
    organisation: str | None,
    sector: str | None,
    language: str,
    topics: tuple[str, ...],
    status: str,
    notes: str | None,
    source: str,
    evidence: str | None,
    privacy_notice: str | None,
    lift_suppression: bool,
    actor: str | None,
) -> None:
    """Add a person who asked to be on the list, with a consent record."""
    with opened(app) as store:
        contact = store.add(
            email,
            actor=current_actor(actor),
            name=name,
            organisation=organisation,
            sector=sector,
            language=language,
            topics=topics or None,
            status=ContactStatus(status),
            notes=notes,
            source=source,
            evidence=evidence,
            privacy_notice_version=privacy_notice,
            lift_suppression=lift_suppression,
        )
    given = f', evidence "{evidence}"' if evidence else ""
    click.echo(
        f"Added {contact.email} ({contact.status}; topics: {', '.join(contact.topics)}; "
        f"consent: {source}{given})."
    )


@contacts.command("list")
@filter_options
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table")
@click.option("--limit", type=click.IntRange(min=1), help="At most this many.")
@pass_app
def list_(app: AppContext, filters: FilterOptions, fmt: str, limit: int | None) -> None:
    """List contacts, filtered by status, topic, sector, language or text."""
    from nyhetsbrev.contacts import exporting, report  # heavy
    from nyhetsbrev.contacts.database import read_transaction
    from nyhetsbrev.contacts.queries import last_events

    with opened(app) as store:
        found = store.query(filters.criteria(store), limit=limit)
        out = sys.stdout  # streamed: rows are written as they are read
        if fmt == "csv":
            exporting.write_csv(
                store.engine, filters.criteria(store), out, delimiter=",", bom=False,
                consent=False, limit=limit,
            )  # fmt: skip
        elif fmt == "json":
            exporting.write_list_json(found, out)
        elif tuple(filters.statuses) == (ContactStatus.BOUNCED,):  # say when and why
            listed = list(found)
            with read_transaction(store.engine) as conn:
                why = last_events(conn, [c.id for c in listed], "bounced")
            count = report.bounced_table(listed, why)
            click.echo(
                f"{count} contact{'' if count == 1 else 's'}." if count else "No contacts match."
            )
        else:
            count = report.contact_table(found)
            click.echo(
                f"{count} contact{'' if count == 1 else 's'}." if count else "No contacts match."
            )


@contacts.command()
@click.argument("email")
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@actor_option
@pass_app
def show(app: AppContext, email: str, fmt: str, actor: str | None) -> None:
    """Everything held about one person; --format json answers a GDPR access request."""
    from nyhetsbrev.contacts import exporting, report  # heavy

    with opened(app) as store:
        if store.get(email) is None and (erased := store.suppression(email)) is not None:
            raise ContactsError(
                f"{email.strip()} was erased on {erased.created_at:%Y-%m-%d}: nothing is held "
                "about it but a keyed hash of the address, on the suppression list"
            )
        contact = store.find(email)
        if fmt == "json":
            store.record_export(
                [contact.id], actor=current_actor(actor), detail="show --format json"
            )
            record = exporting.person_record(store, contact)
            click.echo(json.dumps(record, ensure_ascii=False, indent=2))
            return
        lines = report.person(contact, store.consents(contact.id), store.events(contact.id))
    click.echo("\n".join(lines))


@contacts.command()
@click.argument("email")
@click.option("--email", "new_email", metavar="ADDRESS", help="A new address.")
@click.option("--name")
@click.option("--org", "organisation", metavar="ORGANISATION")
@click.option("--sector")
@click.option("--lang", "language", type=click.Choice(LANGUAGES))
@click.option("--topic", "topics", multiple=True, help="Replace the topics (repeat for several).")
@click.option("--add-topic", multiple=True, metavar="TOPIC")
@click.option("--remove-topic", multiple=True, metavar="TOPIC")
@click.option("--notes")
@actor_option
@pass_app
def edit(
    app: AppContext,
    email: str,
    new_email: str | None,
    name: str | None,
    organisation: str | None,
    sector: str | None,
    language: str | None,
    topics: tuple[str, ...],
    add_topic: tuple[str, ...],
    remove_topic: tuple[str, ...],
    notes: str | None,
    actor: str | None,
) -> None:
    """Change a contact's details; an empty value ("") clears a field."""
    add_topics, remove_topics = add_topic, remove_topic
    if topics and (add_topics or remove_topics):
        raise click.UsageError("use --topic to replace the topics, or --add-topic/--remove-topic")
    given = {
        "email": new_email,
        "name": name,
        "organisation": organisation,
        "sector": sector,
        "language": language,
        "notes": notes,
    }
    changes: dict[str, str | Sequence[str]] = {k: v for k, v in given.items() if v is not None}
    with opened(app) as store:
        if topics:
            changes["topics"] = topics
        elif add_topics or remove_topics:
            contact = store.find(email)
            removed = set(store.check_topics(remove_topics)) if remove_topics else set()
            changes["topics"] = [*(set(contact.topics) - removed), *add_topics]
        if not changes:
            raise click.UsageError("say what to change, e.g. --name or --add-topic")
        contact, changed = store.edit(email, changes, actor=current_actor(actor))
    if changed:
        click.echo(f"Changed {contact.email}: {', '.join(changed)}.")
    else:
        click.echo(f"Nothing changed: {contact.email} already has these values.")


@contacts.command()
@click.argument("email", required=False)
@click.option(
    "--token",
    metavar="TOKEN",
    help="Apply a personal unsubscribe link: its token (after /unsubscribe/) or the whole link.",
)
@click.option(
    "--source", type=click.Choice(UNSUBSCRIBE_SOURCES), default="manual", show_default=True
)
@click.option("--reason", help="Their words, or why (recorded in the event log).")
@actor_option
@pass_app
def unsubscribe(
    app: AppContext,
    email: str | None,
    token: str | None,
    source: str,
    reason: str | None,
    actor: str | None,
) -> None:
    """Take a person off the list (they stay on it as unsubscribed, so imports skip them)."""
    if (email is None) == (token is None):
        raise click.UsageError(
            "name the contact: nyhetsbrev contacts unsubscribe EMAIL (or --token TOKEN)"
        )
    who: str | int = email or 0
    if token is not None:
        from nyhetsbrev.contacts.tokens import InvalidToken, read_token

        try:
            who = read_token(token.strip().rsplit("/", 1)[-1], "unsubscribe")
        except InvalidToken as exc:
            raise ContactsError(f"this unsubscribe token cannot be used: {exc}") from None
        if click.get_current_context().get_parameter_source("source") is ParameterSource.DEFAULT:
            source = "link"  # they used their personal link
    with opened(app) as store:
        changed = store.unsubscribe(who, actor=current_actor(actor), source=source, reason=reason)
        contact = store.find(who)
    if changed:
        click.echo(f"Unsubscribed {contact.email}.")
    else:
        click.echo(f"{contact.email} was already unsubscribed; nothing changed.")


@contacts.command()
@click.argument("email")
@click.option("--evidence", required=True, help="Of their fresh consent: Message-ID or date.")
@click.option("--source", type=click.Choice(CONSENT_SOURCES), default="email-request")
@click.option("--privacy-notice", metavar="VERSION")
@actor_option
@pass_app
def resubscribe(
    app: AppContext,
    email: str,
    evidence: str,
    source: str,
    privacy_notice: str | None,
    actor: str | None,
) -> None:
    """Subscribe an unsubscribed or bounced person again, on their fresh consent."""
    with opened(app) as store:
        changed = store.resubscribe(
            email,
            actor=current_actor(actor),
            evidence=evidence,
            source=source,
            privacy_notice_version=privacy_notice,
        )
        contact = store.find(email)
    if changed:
        click.echo(f'Resubscribed {contact.email} (consent: {source}, evidence "{evidence}").')
    else:
        click.echo(f"{contact.email} is already subscribed; nothing changed.")


@contacts.command()
@click.argument("email")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@actor_option
@pass_app
def erase(app: AppContext, email: str, yes: bool, actor: str | None) -> None:
    """Delete everything about a person; keep only a keyed hash so no import brings them back."""
    from nyhetsbrev.contacts import traces  # heavy

    with opened(app) as store:
        contact = store.get(email)
        if contact is None and store.suppression(email) is not None:
            scrubbed = traces.scrub(app.workspace.root, traces.traces_of(store.engine, None, email))
            if scrubbed.rewritten or scrubbed.deleted:
                click.echo(f"{email.strip()} was already erased from the database.")
                _say_scrubbed(app, scrubbed)
            else:
                click.echo(f"{email.strip()} is already erased; nothing to do.")
            return
        if contact is None:
            question = (
                f"{email.strip()} is not on the list. Suppress it, so that no import or add "
                "ever subscribes it?"
            )
        else:
            who = ", ".join(x for x in (contact.name, contact.organisation) if x)
            question = (
                f"Erase {contact.email}{f' ({who})' if who else ''}: delete the contact, "
                "its consent records and event log for good?"
            )
        if not yes:
            click.confirm(question, abort=True)
        # files first: the Message-IDs that name the person are read before the rows go
        needles = traces.traces_of(store.engine, contact, email)
        scrubbed = traces.scrub(app.workspace.root, needles)
        erasure = store.erase(email, actor=current_actor(actor))
    scrubbed.left = traces.leftovers(app.workspace.root, needles)
    if erasure.contact_id is None:
        click.echo(f"Suppressed {email.strip()}: no import or add will subscribe it.")
    else:
        click.echo(
            f"Erased {email.strip()}: contact #{erasure.contact_id}, {erasure.consents} consent "
            f"record(s) and {erasure.events} event(s) deleted. Only a keyed hash of the address "
            "is kept, so no import or add will subscribe it again."
        )
    _say_scrubbed(app, scrubbed)


def _say_scrubbed(app: AppContext, scrubbed: traces.Scrubbed) -> None:
    ws = app.workspace
    if scrubbed.rewritten:
        names = ", ".join(ws.relative(p) for p in scrubbed.rewritten)
        click.echo(f"Removed the address from {len(scrubbed.rewritten)} report(s): {names}")
    if scrubbed.deleted:
        names = ", ".join(ws.relative(p) for p in scrubbed.deleted)
        click.echo(f"Deleted {len(scrubbed.deleted)} message file(s) naming it: {names}")
    if scrubbed.left:
        names = ", ".join(ws.relative(p) for p in scrubbed.left)
        click.echo(f"Still naming it, outside contacts/reports/ (delete or edit them): {names}")


@contacts.command()
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
@pass_app
def stats(app: AppContext, fmt: str) -> None:
    """Counts by status, topic, sector and language."""
    from nyhetsbrev.contacts import report  # heavy

    with opened(app) as store:
        numbers = store.stats()
    click.echo(
        report.stats_json(numbers) if fmt == "json" else "\n".join(report.stats_lines(numbers))
    )


contacts.add_command(import_)
contacts.add_command(export)
