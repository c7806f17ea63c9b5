"""`nyhetsbrev contacts import` with real files as editors have them (tests/data/contacts/)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

from click.testing import Result

from nyhetsbrev.contacts.store import ContactStore

Run = Callable[..., Result]


def listed(run: Run, *args: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(run("list", "--format", "csv", *args).stdout)))


def consent(run: Run) -> dict[str, dict[str, str]]:
    """Each contact's latest consent record, by address (from a JSON export)."""
    data = json.loads(run("export", "--format", "json").stdout)
    return {c["email"]: c["consents"][-1] for c in data}


def event_count(run: Run) -> int:
    return sum(len(c["events"]) for c in json.loads(run("export", "--format", "json").stdout))


def test_excel_utf8_bom_semicolons_norwegian_headers(run: Run, data: Path) -> None:
    result = run("import", "data/excel-semicolon-bom.csv")
    assert result.stdout == (
        'data/excel-semicolon-bom.csv: 4 rows (UTF-8 with BOM, ";"-separated)\n'
        "Columns: E-post → email, Navn → name, Organisasjon → organisation, Sektor → sector, "
        "Språk → language, Emner → topics\n"
        "\n"
        "  would add           4\n"
        "  would update        0\n"
        "  unchanged           0\n"
        "  skipped             0\n"
        "  rejected            0\n"
        "\n"
        "Dry run: nothing was written. To import, run: "
        "nyhetsbrev contacts import data/excel-semicolon-bom.csv --apply\n"
    )
    assert listed(run) == []  # a dry run writes nothing

    result = run("import", "data/excel-semicolon-bom.csv", "--apply")
    assert result.stdout.endswith("\nImported: 4 added, 0 updated, 0 skipped, 0 rejected.\n")
    rows = {r["email"]: r for r in listed(run)}
    assert list(rows) == [
        "kari.nordmann@politiet.example.no",
        "Ola.Aasen@Justis.Example.NO",
        "sigrid@frivillig.example.org",
        "anna.svensson@example.se",
    ]
    kari, ola = rows["kari.nordmann@politiet.example.no"], rows["Ola.Aasen@Justis.Example.NO"]
    assert (kari["name"], kari["sector"], kari["topics"]) == (
        "Kari Nordmann",
        "direktorat",
        "nyhetsbrev, rettsavgjorelser",
    )
    assert (ola["name"], ola["language"], ola["topics"]) == ("Ola Åsen", "nn", "nyhetsbrev")
    sigrid = rows["sigrid@frivillig.example.org"]
    assert (sigrid["organisation"], sigrid["language"]) == ("Kirkens Bymisjon; Oslo", "nb")
    assert rows["anna.svensson@example.se"]["language"] == "sv"
    assert {r["status"] for r in rows.values()} == {"subscribed"}
    consents = consent(run)
    assert {c["source"] for c in consents.values()} == {"import"}
    assert {c["actor"] for c in consents.values()} == {"anne"}
    kari_consent = consents["kari.nordmann@politiet.example.no"]
    assert kari_consent["evidence"] == "imported from excel-semicolon-bom.csv, line 2"
    assert kari_consent["privacy_notice_version"] == "2024-1"
    assert kari_consent["given_at"] == kari["created_at"] == kari["updated_at"]

    events = event_count(run)
    again = run("import", "data/excel-semicolon-bom.csv", "--apply").stdout
    assert "  unchanged           4\n" in again
    assert again.endswith("Imported: 0 added, 0 updated, 0 skipped, 0 rejected.\n")
    assert run("import", "data/excel-semicolon-bom.csv").stdout.endswith(
        "Nothing to import: the list already has everything in this file.\n"
    )
    # Re-importing changed nothing: the only new events are the exports this test made.
    assert event_count(run) == events + 4
    assert [r["email"] for r in listed(run)] == list(rows)


def test_outlook_export_in_windows_1252(run: Run, data: Path) -> None:
    result = run("import", "data/outlook-cp1252.csv", "--apply")
    assert result.stdout.startswith(
        'data/outlook-cp1252.csv: 3 rows (Windows-1252, ","-separated)\n'
        "Columns: First Name → first_name, Last Name → last_name, Company → organisation, "
        "E-mail Address → email, Notes → notes\n"
    )
    rows = [(r["email"], r["name"], r["organisation"], r["notes"]) for r in listed(run)]
    assert rows == [
        ("bjorn.laerum@kripos.example.no", "Bjørn Lærum", "Kripos", "Møtte KOM på Gardermoen"),
        ("aase.ovrebo@udi.example.no", "Åse Øvrebø", "Utlendingsdirektoratet", ""),
        # the formula from the file is kept as text, and neutralised on the way out
        (
            "trond@helse.example.no",
            "Trond Sæther",
            "Helse Sør-Øst, Oslo",
            '\'=HYPERLINK("http://x")',
        ),
    ]


def test_messy_file_report_lists_every_problem_with_its_line(run: Run, data: Path) -> None:
    run("add", "unsubscribed@example.org")
    run("unsubscribe", "unsubscribed@example.org")
    run("add", "erased@example.org")
    run("erase", "erased@example.org", "--yes")
    result = run("import", "data/messy.csv")
    assert result.stdout == (
        'data/messy.csv: 10 rows (UTF-8, ","-separated)\n'
        "Columns: email → email, name → name, organisation → organisation, "
        "language → language, topics → topics\n"
        "\n"
        "  would add           2\n"
        "  would update        0\n"
        "  unchanged           0\n"
        "  skipped             3\n"
        "  rejected            5\n"
        "\n"
        "Skipped:\n"
        "  data/messy.csv:5: PER.HANSEN@example.org — duplicate of line 2\n"
        "  data/messy.csv:12: unsubscribed@example.org — already unsubscribed\n"
        "  data/messy.csv:13: erased@example.org — erased earlier (suppressed)\n"
        "\n"
        "Rejected:\n"
        '  data/messy.csv:3: "ola.example.no" is not a valid email address: An email address '
        "must have an @-sign. — correct the address, or remove the row\n"
        "  data/messy.csv:4: 6 fields where the header has 5 — a separator inside a value? "
        "Put that value in quotes, or fix the row\n"
        '  data/messy.csv:6: gunnar@example.org: unknown language "de" — use one of nb, nn, en, sv\n'
        "  data/messy.csv:8: no email address — add one, or remove the row\n"
        '  data/messy.csv:11: mette@example.org: unknown topic "podkast" — the topics are: '
        "nyhetsbrev, rettsavgjorelser, tilstandsrapport\n"
        "\n"
        "Dry run: nothing was written. To import, run: "
        "nyhetsbrev contacts import data/messy.csv --apply\n"
    )

    result = run("import", "data/messy.csv", "--apply", "--strict", code=1)
    assert result.stderr == (
        "Error: 5 rows rejected — nothing was written (--strict); fix the rows listed above and "
        "import again\n"
    )
    assert [r["email"] for r in listed(run)] == ["unsubscribed@example.org"]

    result = run("import", "data/messy.csv", "--apply")
    assert result.stdout.endswith("Imported: 2 added, 0 updated, 3 skipped, 5 rejected.\n")
    rows = {r["email"]: r for r in listed(run)}
    assert list(rows) == [
        "unsubscribed@example.org",
        "per.hansen@example.org",
        "ingrid@example.org",
    ]
    assert rows["unsubscribed@example.org"]["status"] == "unsubscribed"  # never resubscribed
    assert rows["ingrid@example.org"]["organisation"] == "Røde Kors\nOslo"  # a two-line value
    assert consent(run)["ingrid@example.org"]["evidence"] == "imported from messy.csv, line 9"
    assert "erased@example.org" not in rows


def test_an_import_never_resubscribes_a_bounced_contact(
    run: Run, data: Path, store: ContactStore
) -> None:
    run("add", "per.hansen@example.org")
    contact = store.get("per.hansen@example.org")
    assert contact is not None
    assert store.mark_bounced(contact.id, actor="delivery", reason="550 5.1.1 unknown user")
    out = run("import", "data/messy.csv", "--apply").stdout
    assert "  data/messy.csv:2: per.hansen@example.org — already bounced\n" in out
    assert listed(run, "--status", "bounced")[0]["email"] == "per.hansen@example.org"


def test_existing_contacts_are_completed_never_emptied(run: Run, data: Path) -> None:
    run("add", "Kari.Nordmann@politiet.example.no", "--name", "Kari N.", "--topic",
        "tilstandsrapport", "--status", "pending", "--notes", "ringte 12.12.")  # fmt: skip
    result = run("import", "data/excel-semicolon-bom.csv", "--apply")
    assert (
        "Updated:\n  data/excel-semicolon-bom.csv:2: kari.nordmann@politiet.example.no — name, "
        "organisation, sector, topics +nyhetsbrev+rettsavgjorelser\n"
    ) in result.stdout
    [kari] = listed(run, "--search", "kari")
    assert kari["email"] == "Kari.Nordmann@politiet.example.no"  # as first given
    assert kari["name"] == "Kari Nordmann"
    assert kari["topics"] == "nyhetsbrev, rettsavgjorelser, tilstandsrapport"  # none removed
    assert kari["notes"] == "ringte 12.12."  # not emptied by the file's missing notes
    assert kari["status"] == "pending"  # an import never changes a status
    record = json.loads(run("show", "kari.nordmann@politiet.example.no", "--format", "json").stdout)
    assert record["events"][1]["detail"] == (
        "excel-semicolon-bom.csv, line 2: name, organisation, sector, topics"
    )


def test_status_topic_and_evidence_options(run: Run, data: Path) -> None:
    run("import", "data/outlook-cp1252.csv", "--status", "pending", "--topic", "tilstandsrapport",
        "--evidence", "påmeldingsliste seminar 2024-11-14", "--lang", "en", "--apply")  # fmt: skip
    rows = listed(run)
    assert {(r["status"], r["topics"], r["language"]) for r in rows} == {
        ("pending", "tilstandsrapport", "en")
    }
    assert {c["evidence"] for c in consent(run).values()} == {"påmeldingsliste seminar 2024-11-14"}


def test_map_names_columns_nobody_guesses(run: Run, data: Path) -> None:
    out = run("import", "data/custom-headers.csv").stdout
    assert out.splitlines()[1] == (
        "Columns: Epostadresse → email, Fullt navn → name; ignored: Arbeidssted"
    )
    out = run("import", "data/custom-headers.csv", "--map", "arbeidssted=organisation").stdout
    assert out.splitlines()[1] == (
        "Columns: Epostadresse → email, Fullt navn → name, Arbeidssted → organisation"
    )
    assert out.splitlines()[-1] == (
        "Dry run: nothing was written. To import, run: nyhetsbrev contacts import "
        "data/custom-headers.csv --map arbeidssted=organisation --apply"
    )
    result = run("import", "data/custom-headers.csv", "--map", "Epost=email", code=1)
    assert result.stderr == (
        'Error: --map "Epost=email": data/custom-headers.csv:1: the file has no column "Epost" — '
        'its columns are: "Epostadresse", "Fullt navn", "Arbeidssted"\n'
    )
    result = run("import", "data/custom-headers.csv", "--map", "Arbeidssted=firma", code=1)
    assert result.stderr == (
        'Error: --map "Arbeidssted=firma": write it as "COLUMN=FIELD", where FIELD is one of '
        "email, name, first_name, last_name, organisation, sector, language, topics, notes, "
        "status or ignore\n"
    )
    result = run("import", "data/custom-headers.csv", "--map", "Epostadresse=ignore", code=1)
    assert result.stderr == (
        'Error: data/custom-headers.csv:1: no email column among "Epostadresse", "Fullt navn", '
        '"Arbeidssted" — name it with --map "COLUMN=email"\n'
    )


def test_unreadable_files_are_refused_with_their_line(run: Run, data: Path) -> None:
    result = run("import", "data/unclosed-quote.csv", "--apply", code=1)
    assert result.stderr == (
        "Error: data/unclosed-quote.csv:3: the file cannot be read as CSV here (unexpected end "
        'of data) — a quote (") opened in this row is probably never closed; fix it and import '
        "again\n"
    )
    (data / "binary.csv").write_bytes(b"email\r\nok@example.org\r\nbad\x81@example.org\r\n")
    result = run("import", "data/binary.csv", code=1)
    assert result.stderr == (
        "Error: data/binary.csv:3: neither UTF-8 nor Windows-1252 (byte 0x81) — save the file "
        'again from Excel as "CSV UTF-8 (comma delimited)", or name its encoding with --encoding\n'
    )
    result = run("import", "data/missing.csv", code=1)
    assert result.stderr == "Error: data/missing.csv: cannot read it (No such file or directory)\n"
    (data / "empty.csv").write_bytes(b"\xef\xbb\xbf\r\n")
    result = run("import", "data/empty.csv", code=1)
    assert result.stderr == (
        "Error: data/empty.csv: the file is empty — export the contact list with a header row\n"
    )
    (data / "headless.csv").write_text("kari@example.no;Kari\r\n", encoding="utf-8")
    result = run("import", "data/headless.csv", code=1)
    assert result.stderr == (
        "Error: data/headless.csv:1: the first row holds addresses, not column names — add a "
        "header row (e.g. E-post;Navn;Organisasjon) or name the columns with --map\n"
    )
    assert listed(run) == []
