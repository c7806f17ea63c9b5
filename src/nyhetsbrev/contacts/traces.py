"""Erasure beyond the database: the files nyhetsbrev wrote that name a person.

- `contacts/reports/`: campaign reports (`campaign-N-<issue>.csv`), bounce reports
  (`bounces-*.csv`) and anything else written there: each row (CSV) or line (other text) that
  holds the address or one of the Message-IDs of the messages sent to it is removed.
- `.eml` files anywhere in the workspace (`send --write-eml` writes one per recipient, named after
  the address; bounce messages saved from a mail program): a file that holds the address or one
  of those Message-IDs is deleted.

The Message-IDs come from the tables other subsystems declared to the erasure rules (see
`erasure.py`; the ledger declares `deliveries.message_id`), read before the rows are cleared, so
this works in a process that never imported the sending code. Comparisons ignore case. Each file
is rewritten through a temporary file and a rename, so a crash leaves the old or the new version,
never half of one.
"""

from __future__ import annotations

import csv
import io
import os
import quopri
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from nyhetsbrev.contacts.addresses import normalise_email
from nyhetsbrev.contacts.database import read_transaction
from nyhetsbrev.contacts.model import Contact
from nyhetsbrev.contacts.schema.tables import erasure_rules

_MESSAGE_ID = re.compile(r"<[^<>\s@]+@[^<>\s]+>")
SKIPPED_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".mypy_cache"}


@dataclass
class Scrubbed:
    """What `scrub` changed: files rewritten without the person's rows, files deleted."""

    rewritten: list[Path] = field(default_factory=list)
    deleted: list[Path] = field(default_factory=list)
    left: list[Path] = field(default_factory=list)  # other files still naming the person


def traces_of(engine: Engine, contact: Contact | None, email: str) -> list[str]:
    """The strings that name this person: the address (as given and normalised) and the
    Message-IDs in the declared tables' cleared columns (read before the rows are erased)."""
    found = {email.strip(), normalise_email(email)}
    if contact is not None:
        found.add(contact.email)
        with read_transaction(engine) as conn:
            found.update(_message_ids(conn, contact))
    return sorted(value for value in found if value and len(value) >= 3)


def _message_ids(conn: Connection, contact: Contact) -> set[str]:
    """Message-IDs (only those: a reply text is no name) in the declared personal tables."""
    found: set[str] = set()
    inspector = sa.inspect(conn)
    for rule in conn.execute(sa.select(erasure_rules)).all():
        columns = rule.clear_columns.split()
        if not columns or not inspector.has_table(rule.table_name):
            continue
        table = sa.table(rule.table_name, *(sa.column(n) for n in [rule.contact_column, *columns]))
        query = sa.select(*(table.c[n] for n in columns)).where(
            table.c[rule.contact_column] == contact.id
        )
        for row in conn.execute(query):
            found.update(v for v in row if isinstance(v, str) and _MESSAGE_ID.fullmatch(v))
    return found


def scrub(root: Path, needles: Sequence[str]) -> Scrubbed:
    """Remove the person from the files under `root` (see the module docstring)."""
    wanted = [n.lower().encode("utf-8") for n in needles if n]
    done = Scrubbed()
    if not wanted:
        return done
    reports = root / "contacts" / "reports"
    if reports.is_dir():
        for path in sorted(reports.rglob("*")):
            ours = path.is_file() and path.name != ".gitignore" and not path.name.startswith(".~")
            if ours and _rewrite(path, wanted):
                done.rewritten.append(path)
    for path in _eml_files(root):
        if _names(path.read_bytes(), wanted) or _names(path.name.encode(), wanted):
            path.unlink()
            done.deleted.append(path)
    return done


def leftovers(root: Path, needles: Sequence[str], limit: int = 50 * 1024 * 1024) -> list[Path]:
    """Other files under `root` that still name the person (a CSV saved with `campaigns show
    --csv`, an export, an import file): listed for the person at the keyboard, never changed."""
    wanted = [n.lower().encode("utf-8") for n in needles if n]
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            path = Path(folder) / name
            try:
                if path.stat().st_size <= limit and _names(path.read_bytes(), wanted):
                    found.append(path)
            except OSError:
                continue
    return found


def _eml_files(root: Path) -> Iterable[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(files):
            if name.lower().endswith(".eml"):
                yield Path(folder) / name


def _names(data: bytes, wanted: list[bytes]) -> bool:
    lower = data.lower()
    if any(w in lower for w in wanted):
        return True
    if b"=\n" in data or b"=\r\n" in data or b"=40" in lower:  # quoted-printable bodies
        decoded = quopri.decodestring(data).lower()
        return any(w in decoded for w in wanted)
    return False


def _rewrite(path: Path, wanted: list[bytes]) -> bool:
    """Drop the rows or lines naming the person; True if the file changed."""
    data = path.read_bytes()
    if not _names(data, wanted):
        return False
    if path.suffix.lower() == ".csv":
        bom = data.startswith(b"\xef\xbb\xbf")
        text = data.decode("utf-8-sig", "replace")
        out = io.StringIO(newline="")
        writer = csv.writer(out)
        for row in csv.reader(io.StringIO(text, newline="")):
            if not _names("\x1f".join(row).encode("utf-8"), wanted):
                writer.writerow(row)
        new = ("\ufeff" if bom else "") + out.getvalue()
        result = new.encode("utf-8")
    else:
        lines = data.splitlines(keepends=True)
        result = b"".join(line for line in lines if not _names(line, wanted))
    temporary = path.with_name(f".~{path.name}.tmp")
    temporary.write_bytes(result)
    os.replace(temporary, path)
    return True
