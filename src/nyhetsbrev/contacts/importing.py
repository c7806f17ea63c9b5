"""Importing a CSV: check every row, plan against the list (dry run), apply in one transaction.

The plan sorts each row into added, updated, unchanged, skipped (already unsubscribed or bounced,
erased, duplicate in the file, marked unsubscribed in the file) or rejected (with file:line and
the reason). An import never changes a contact's status, never removes a topic or clears a field,
and never subscribes an unsubscribed, bounced or erased address; so re-importing the same file
changes nothing. Existing contacts, topics and suppression hashes are read in three queries, and
the writes are `executemany` batches: no query per row.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from nyhetsbrev.contacts import addresses, model
from nyhetsbrev.contacts.csvinput import FIELDS, CsvTable, map_columns, read_csv
from nyhetsbrev.contacts.database import insert_many, read_transaction, write_transaction
from nyhetsbrev.contacts.fields import text_problem
from nyhetsbrev.contacts.schema.tables import consents, contact_topics, contacts, events
from nyhetsbrev.contacts.store import ContactStore
from nyhetsbrev.contacts.suppression import Suppressor

BATCH = 5000
T = TypeVar("T")
_UPDATABLE = ("name", "organisation", "sector", "language", "notes")


@dataclass(frozen=True)
class ImportOptions:
    """What the command line says about the rows (defaults for what the file does not say)."""

    status: model.ContactStatus = model.ContactStatus.SUBSCRIBED
    topics: tuple[str, ...] | None = None  # --topic; None: `nyhetsbrev` for new contacts only
    language: str | None = None  # --lang, for new contacts whose row names none
    evidence: str | None = None  # --evidence; None: "imported from FILE, line N"
    source: str = "import"
    privacy_notice_version: str | None = None
    actor: str = "unknown"
    mapping: tuple[str, ...] = ()
    delimiter: str | None = None
    encoding: str | None = None


@dataclass(slots=True)
class Row:
    """One valid row of the file."""

    line: int
    email: str
    normalised: str
    fields: dict[str, str | None]
    topics: tuple[str, ...] | None
    status: model.ContactStatus


@dataclass(frozen=True)
class Outcome:
    """A row that is not simply added: where, whose address, and why."""

    line: int
    email: str
    reason: str


@dataclass(frozen=True)
class Update:
    """An existing contact the row adds to: changed fields, their final values, new topics."""

    row: Row
    contact_id: int
    changes: dict[str, str]
    values: dict[str, Any]
    new_topics: tuple[str, ...]


@dataclass
class ImportPlan:
    """What an import does (or, in a dry run, would do)."""

    table: CsvTable
    added: list[Row] = field(default_factory=list)
    updated: list[Update] = field(default_factory=list)
    unchanged: list[Row] = field(default_factory=list)
    skipped: list[Outcome] = field(default_factory=list)
    rejected: list[Outcome] = field(default_factory=list)
    applied: bool = False

    @property
    def changes(self) -> int:
        return len(self.added) + len(self.updated)


def parse_rows(
    table: CsvTable, options: ImportOptions, known_topics: Sequence[str]
) -> tuple[list[Row], list[Outcome], list[Outcome]]:
    """Check every row: `(valid rows, skipped, rejected)`; duplicates in the file are skipped."""
    width = len(table.header)
    reader = _CellReader(table.columns, options, known_topics, table.header)
    email_at = table.columns["email"]
    rows: list[Row] = []
    skipped: list[Outcome] = []
    rejected: list[Outcome] = []
    first_line: dict[str, int] = {}
    for line, cells in table.rows:
        if len(cells) < width:
            cells = cells + [""] * (width - len(cells))
        raw_email = cells[email_at].strip()
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            reason = (
                f"{len(cells)} fields where the header has {width} — a separator inside a value? "
                "Put that value in quotes, or fix the row"
            )
            rejected.append(Outcome(line, raw_email, reason))
            continue
        try:
            given, normalised = addresses.check_email(raw_email)
        except addresses.InvalidEmail as exc:
            what = f"{exc} — correct the address" if raw_email else "no email address — add one"
            rejected.append(Outcome(line, raw_email, f"{what}, or remove the row"))
            continue
        if normalised in first_line:
            skipped.append(Outcome(line, given, f"duplicate of line {first_line[normalised]}"))
            continue
        first_line[normalised] = line
        try:
            fields, topics, status = reader.values(cells)
        except ValueError as exc:
            rejected.append(Outcome(line, given, f"{given}: {exc}"))
            continue
        if status not in model.NEW_STATUSES:
            skipped.append(Outcome(line, given, f"marked {status} in the file"))
            continue
        rows.append(Row(line, given, normalised, fields, topics or options.topics, status))
    return rows, skipped, rejected


class _CellReader:
    """Turns a row's cells into field values; repeated values (topics, languages, sectors) are
    interpreted once per file, not once per row."""

    def __init__(
        self,
        columns: dict[str, int],
        options: ImportOptions,
        known_topics: Sequence[str],
        header: Sequence[str] = (),
    ) -> None:
        self.columns = columns
        self.header = header
        # the text columns every value of which is checked (fields.text_problem)
        self._checked = [
            (f, i, "name" if f.endswith("_name") else f)
            for f, i in columns.items()
            if f in ("name", "first_name", "last_name", "organisation", "sector", "notes")
        ]
        self.options = options
        self.known_topics = known_topics
        self._topics: dict[str, tuple[str, ...] | ValueError] = {}
        self._languages: dict[str, str | ValueError] = {}
        self._sectors: dict[str, str | None] = {}
        # field → column; a field the file lacks points past the end (an empty cell)
        self._index = {f: columns.get(f, -1) for f in FIELDS}

    def values(
        self, cells: list[str]
    ) -> tuple[dict[str, str | None], tuple[str, ...] | None, model.ContactStatus]:
        """`(fields, topics or None, status)` of one row; ValueError for a value it cannot use."""
        stripped = [c.strip() for c in cells]
        stripped.append("")  # where absent columns point
        index = self._index

        def cell(name: str) -> str:
            return stripped[index[name]]

        for _field, at, rule in self._checked:
            problem = text_problem(rule, stripped[at])
            if problem:
                name = self.header[at] if at < len(self.header) else ""
                raise ValueError(f"column {at + 1} ({name}): {problem}")

        name = cell("name")
        if not name and ("first_name" in self.columns or "last_name" in self.columns):
            name = " ".join(p for p in (cell("first_name"), cell("last_name")) if p)
        sector = cell("sector")
        if sector not in self._sectors:
            self._sectors[sector] = model.clean_sector(sector)
        fields: dict[str, str | None] = {
            "name": name or None,
            "organisation": cell("organisation") or None,
            "sector": self._sectors[sector],
            "language": self._language(cell("language")),
            "notes": cell("notes") or None,
        }
        status = cell("status").lower()
        if status and status not in model.STATUSES:
            raise ValueError(
                f'unknown status "{cell("status")}" — use {", ".join(model.STATUSES)} '
                "or leave it empty"
            )
        state = model.ContactStatus(status) if status else self.options.status
        return fields, self._topic_list(cell("topics")), state

    def _language(self, text: str) -> str | None:
        return _once(self._languages, text, model.parse_language) if text else None

    def _topic_list(self, text: str) -> tuple[str, ...] | None:
        if not text:
            return None
        return _once(self._topics, text, lambda t: model.parse_topics([t], self.known_topics))


def _once(cache: dict[str, T | ValueError], text: str, parse: Callable[[str], T]) -> T:
    """`parse(text)`, computed once per distinct text (its ValueError too)."""
    if text not in cache:
        try:
            cache[text] = parse(text)
        except ValueError as exc:
            cache[text] = exc
    found = cache[text]
    if isinstance(found, ValueError):
        raise found
    return found


def plan_import(
    conn: Connection, table: CsvTable, options: ImportOptions, known: Sequence[str]
) -> ImportPlan:
    """Sort the file's rows against the list as it is in this transaction."""
    rows, skipped, rejected = parse_rows(table, options, known)
    plan = ImportPlan(table, skipped=skipped, rejected=rejected)
    # One query for every existing contact: normalised address → (id, status, *_UPDATABLE).
    columns = [contacts.c.email_normalised, contacts.c.id, contacts.c.status]
    columns += [contacts.c[f] for f in _UPDATABLE]
    existing = {row[0]: row[1:] for row in conn.execute(sa.select(*columns)).all()}
    topics_of: dict[int, set[str]] = {}
    if any(r.normalised in existing for r in rows):
        query = sa.select(contact_topics.c.contact_id, contact_topics.c.topic)
        for contact_id, topic in conn.execute(query).all():
            topics_of.setdefault(contact_id, set()).add(topic)
    suppressor = Suppressor(conn)
    suppressed = suppressor.all_hashes()
    nothing: set[str] = set()
    for row in rows:
        old = existing.get(row.normalised)
        if old is None:
            if suppressed and suppressor.hash(row.normalised) in suppressed:
                plan.skipped.append(Outcome(row.line, row.email, "erased earlier (suppressed)"))
            else:
                plan.added.append(row)
            continue
        contact_id, status, *old_values = old
        if status in (model.ContactStatus.UNSUBSCRIBED, model.ContactStatus.BOUNCED):
            plan.skipped.append(Outcome(row.line, row.email, f"already {status}"))
            continue
        before = dict(zip(_UPDATABLE, old_values, strict=True))
        changes = {f: v for f, v in row.fields.items() if v is not None and v != before[f]}
        new_topics: tuple[str, ...] = ()
        if row.topics:
            new_topics = tuple(sorted(set(row.topics) - topics_of.get(contact_id, nothing)))
        if changes or new_topics:
            plan.updated.append(Update(row, contact_id, changes, {**before, **changes}, new_topics))
        else:
            plan.unchanged.append(row)
    plan.rejected.sort(key=lambda o: o.line)
    plan.skipped.sort(key=lambda o: o.line)
    return plan


def run_import(
    store: ContactStore,
    path: Path,
    shown: str,
    options: ImportOptions,
    *,
    apply: bool,
    strict: bool = False,
) -> ImportPlan:
    """Read `path`, plan the import, and (with `apply`) write it all in one transaction.

    With `strict`, a file with any rejected row writes nothing (the plan is returned unapplied).
    """
    with _no_cycle_collection():
        return _run_import(store, path, shown, options, apply=apply, strict=strict)


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause Python's cycle collector: an import allocates millions of small, acyclic objects,
    and the collector's repeated passes over them cost a third of a dry run's time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _run_import(
    store: ContactStore,
    path: Path,
    shown: str,
    options: ImportOptions,
    *,
    apply: bool,
    strict: bool,
) -> ImportPlan:
    table = read_csv(path, shown, delimiter=options.delimiter, encoding=options.encoding)
    map_columns(table, options.mapping)
    if not apply:
        with read_transaction(store.engine) as conn:
            return plan_import(conn, table, options, store.topics)
    with write_transaction(store.engine) as conn:
        if conn.dialect.name == "postgresql":  # no other writer between plan and write
            conn.execute(sa.text("LOCK TABLE contacts IN SHARE ROW EXCLUSIVE MODE"))
        plan = plan_import(conn, table, options, store.topics)
        if strict and plan.rejected:
            return plan
        _write(conn, plan, options, store, Path(shown).name)
        plan.applied = True
        return plan


def _write(
    conn: Connection, plan: ImportPlan, options: ImportOptions, store: ContactStore, filename: str
) -> None:
    at = model.now()
    actor = options.actor
    version = options.privacy_notice_version or store.privacy_notice_version
    if plan.added:
        before = conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(contacts.c.id), 0))
        ).scalar_one()
        language = options.language or model.DEFAULT_LANGUAGE
        columns = ("email", "email_normalised", "name", "organisation", "sector", "language",
                   "status", "notes")  # fmt: skip
        new_rows = [
            (r.email, r.normalised, r.fields["name"], r.fields["organisation"], r.fields["sector"],
             r.fields["language"] or language, r.status, r.fields["notes"])
            for r in plan.added
        ]  # fmt: skip
        insert_many(conn, contacts, columns, new_rows, same={"created_at": at, "updated_at": at})
        del new_rows
        query = sa.select(contacts.c.email_normalised, contacts.c.id).where(contacts.c.id > before)
        ids = {normalised: contact_id for normalised, contact_id in conn.execute(query)}
        default = (model.DEFAULT_TOPIC,)
        topic_rows: list[tuple[int, str]] = []
        consent_rows: list[tuple[int, str]] = []
        event_rows: list[tuple[int, str]] = []
        for r in plan.added:
            contact_id = ids[r.normalised]
            topic_rows.extend((contact_id, t) for t in r.topics or default)
            evidence = options.evidence or f"imported from {filename}, line {r.line}"
            consent_rows.append((contact_id, evidence))
            event_rows.append((contact_id, f"{filename}, line {r.line} ({r.status})"))
        insert_many(conn, contact_topics, ("contact_id", "topic"), topic_rows)
        same = {"given_at": at, "source": options.source, "actor": actor}
        same["privacy_notice_version"] = version
        insert_many(conn, consents, ("contact_id", "evidence"), consent_rows, same=same)
        same = {"at": at, "kind": "imported", "actor": actor}
        insert_many(conn, events, ("contact_id", "detail"), event_rows, same=same)
    if plan.updated:
        changed = [u for u in plan.updated if u.changes]
        if changed:
            statement = (
                contacts.update()
                .where(contacts.c.id == sa.bindparam("contact_id"))
                .values({f: sa.bindparam(f) for f in (*_UPDATABLE, "updated_at")})
            )
            params = [{"contact_id": u.contact_id, "updated_at": at, **u.values} for u in changed]
            for start in range(0, len(params), BATCH):
                conn.execute(statement, params[start : start + BATCH])
        new_topics = [(u.contact_id, t) for u in plan.updated for t in u.new_topics]
        insert_many(conn, contact_topics, ("contact_id", "topic"), new_topics)
        changes = [
            (u.contact_id, f"{filename}, line {u.row.line}: "
             + ", ".join([*u.changes, *(["topics"] if u.new_topics else [])]))
            for u in plan.updated
        ]  # fmt: skip
        same = {"at": at, "kind": "changed", "actor": actor}
        insert_many(conn, events, ("contact_id", "detail"), changes, same=same)
