"""`contacts list --format csv` and `contacts export` stream (a query, rows written as they come)
and give exactly the bytes the former build-it-all-in-memory code gave: that code is kept here
as the reference, over a list with every kind of value (formulas, newlines, quotes, æøå, several
consents, no consent, many topics) and more rows than one chunk."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import Result

from nyhetsbrev.contacts.exporting import CSV_COLUMNS, consent_dict, contact_dict, event_dict
from nyhetsbrev.contacts.queries import ContactFilter
from nyhetsbrev.contacts.store import ContactStore, open_store

Run = Callable[..., Result]
_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def reference_csv(
    store: ContactStore,
    criteria: ContactFilter,
    *,
    delimiter: str = ";",
    bom: bool = True,
    consent: bool = True,
    limit: int | None = None,
) -> str:
    """The CSV as the former exporting.export_csv made it (one contact object at a time)."""
    out = io.StringIO()
    if bom:
        out.write("\ufeff")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    width = len(CSV_COLUMNS) if consent else CSV_COLUMNS.index("consent_given_at")
    writer.writerow(CSV_COLUMNS[:width])
    for c in store.query(criteria, limit=limit):
        latest = (store.consents(c.id) or [None])[-1] if consent else None
        when = [
            t.isoformat(timespec="seconds") if t else None for t in (c.created_at, c.updated_at)
        ]
        values = (
            c.email, c.name, c.organisation, c.sector, c.language, ", ".join(c.topics), c.status,
            c.notes, *when,
            latest.given_at.isoformat(timespec="seconds") if latest else None,
            latest.source if latest else None,
            latest.evidence if latest else None,
            latest.privacy_notice_version if latest else None,
        )  # fmt: skip
        writer.writerow(
            ["" if not v else "'" + v if v.startswith(_FORMULA) else v for v in values[:width]]
        )
    return out.getvalue()


def reference_json(store: ContactStore, criteria: ContactFilter) -> str:
    """The JSON as the former exporting.export_json made it (one list, one json.dumps)."""
    records: list[dict[str, Any]] = []
    for contact in store.query(criteria):
        record = contact_dict(contact)
        record["consents"] = [consent_dict(c) for c in store.consents(contact.id)]
        record["events"] = [event_dict(e) for e in store.events(contact.id)]
        records.append(record)
    return json.dumps(records, ensure_ascii=False, indent=2) + "\n"


def populate(store: ContactStore, run: Run, folder: Path) -> None:
    names = ['=HYPERLINK("http://evil")', "Åse Øvrebø", None, 'Kari "K" Nordmann', "-1"]
    notes = ["@SUM(A1)", "første linje\nandre linje; med semikolon", None, "\tinnrykk", ""]
    topic_sets = [["nyhetsbrev"], ["nyhetsbrev", "rettsavgjorelser"], ["tilstandsrapport"]]
    for i in range(15):
        store.add(
            f"person{i}@etat{i % 4}.example.no",
            actor="anne",
            name=names[i % len(names)],
            organisation="+47 Ødegård" if i % 4 == 0 else "Politidirektoratet",
            sector=["departement", "politi", None][i % 3],
            language=["nb", "nn", "en"][i % 3],
            topics=topic_sets[i % 3],
            status="pending" if i % 5 == 0 else "subscribed",
            notes=notes[i % len(notes)],
            evidence=f"<msg{i}@mail.example.no>" if i % 2 else None,
            privacy_notice_version="2024-06" if i % 3 == 0 else None,
        )
    store.unsubscribe("person1@etat1.example.no", actor="anne", source="manual")
    store.resubscribe("person1@etat1.example.no", actor="anne", evidence="ringte og ba om det")
    store.unsubscribe("person2@etat2.example.no", actor="anne", source="manual")
    many = folder / "many.csv"  # more rows than one chunk of the writer
    with many.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["E-post", "Navn", "Emner"])
        for i in range(2600):
            writer.writerow([f"mange{i}@example.org", f"Mange {i}", "nyhetsbrev" if i % 3 else ""])
    run("import", str(many), "--apply")


@pytest.fixture
def listed(run: Run, db: str, workspace: Path) -> str:
    with open_store(db) as store:
        populate(store, run, workspace)
    return db


def test_export_csv_gives_the_same_bytes_as_before(run: Run, listed: str, workspace: Path) -> None:
    with open_store(listed) as store:
        everyone = reference_csv(store, ContactFilter())
        pending = reference_csv(store, ContactFilter(statuses=["pending"]), delimiter=",")
    run("export", "alle.csv")
    assert (workspace / "alle.csv").read_bytes() == everyone.encode("utf-8")
    result = run("export", "--status", "pending", "--delimiter", ",")
    assert result.stdout_bytes == pending.encode("utf-8")  # .stdout would turn \r\n into \n


def test_list_csv_gives_the_same_bytes_as_before(run: Run, listed: str) -> None:
    audience = ContactFilter(statuses=["subscribed"], topics=["nyhetsbrev"])
    with open_store(listed) as store:
        expected = reference_csv(store, audience, delimiter=",", bom=False, consent=False)
        limited = reference_csv(
            store, ContactFilter(), delimiter=",", bom=False, consent=False, limit=7
        )
    args = ["list", "--status", "subscribed", "--topic", "nyhetsbrev", "--format", "csv"]
    assert run(*args).stdout_bytes == expected.encode("utf-8")
    assert run("list", "--format", "csv", "--limit", "7").stdout_bytes == limited.encode("utf-8")


def test_export_json_gives_the_same_bytes_as_before(run: Run, listed: str, workspace: Path) -> None:
    with open_store(listed) as store:
        everyone = reference_json(store, ContactFilter())
        nobody = reference_json(store, ContactFilter(search="ingen-slik-person"))
    run("export", "alle.json")
    assert (workspace / "alle.json").read_text("utf-8") == everyone
    result = run("export", "--format", "json", "--search", "ingen-slik-person")
    assert result.stdout_bytes == nobody.encode("utf-8")


def test_an_export_is_written_whole_or_not_at_all(run: Run, listed: str, workspace: Path) -> None:
    target = workspace / "alle.csv"
    target.write_text("det gamle innholdet\n", "utf-8")
    run("export", "alle.csv", "--sector", "finnes-ikke")  # an empty export is still an export
    assert target.read_text("utf-8-sig").splitlines() == [";".join(CSV_COLUMNS)]
    result = run("export", "mangler/alle.csv", code=1)
    assert "mangler/alle.csv" in result.output and "Traceback" not in result.output
    assert sorted(p.name for p in workspace.iterdir() if p.name.endswith(".tmp")) == []
