"""Every `nyhetsbrev contacts` command through the CLI, on SQLite and on PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

Run = Callable[..., Result]

KARI = "Kari.Nordmann@Politiet.example.no"


def add_kari(run: Run) -> None:
    run(
        "add", KARI, "--name", "Kari Nordmann", "--org", "Politidirektoratet",
        "--sector", "Direktorat", "--topic", "nyhetsbrev", "--topic", "Rettsavgjørelser",
        "--source", "email-request", "--evidence", "<CAF123@mail.example.no>",
    )  # fmt: skip


def test_add_prints_what_was_recorded(run: Run) -> None:
    result = run(
        "add", KARI, "--name", "Kari Nordmann", "--topic", "rettsavgjorelser",
        "--source", "email-request", "--evidence", "<CAF123@mail.example.no>",
    )  # fmt: skip
    assert result.stdout == (
        f"Added {KARI} (subscribed; topics: rettsavgjorelser; consent: email-request, "
        'evidence "<CAF123@mail.example.no>").\n'
    )


def test_add_defaults_to_newsletter_and_manual_consent(run: Run) -> None:
    result = run("add", "per@example.org")
    assert (
        result.stdout
        == "Added per@example.org (subscribed; topics: nyhetsbrev; consent: manual).\n"
    )


def test_show_gives_everything_held(run: Run) -> None:
    add_kari(run)
    out = run("show", "kari.nordmann@politiet.EXAMPLE.no").stdout
    assert out.startswith(f"{KARI}  (contact #")
    for line in (
        "  name          Kari Nordmann",
        "  organisation  Politidirektoratet",
        "  sector        direktorat",
        "  language      nb",
        "  topics        nyhetsbrev, rettsavgjorelser",
        "  status        subscribed",
        "  notes         —",
    ):
        assert line in out.splitlines()
    assert re.search(
        r"^  \d{4}-\d\d-\d\d \d\d:\d\d \S+  email-request by anne; evidence: "
        r"<CAF123@mail.example.no>; privacy notice 2024-1$",
        out,
        re.M,
    )
    assert re.search(r"^  \S+ \S+ \S+  subscribed   anne  added \(email-request\)$", out, re.M)


def test_show_json_is_a_gdpr_access_answer_and_is_logged(run: Run) -> None:
    add_kari(run)
    record = json.loads(run("show", KARI, "--format", "json").stdout)
    assert {k: record[k] for k in ("email", "name", "organisation", "sector", "topics")} == {
        "email": KARI,
        "name": "Kari Nordmann",
        "organisation": "Politidirektoratet",
        "sector": "direktorat",
        "topics": ["nyhetsbrev", "rettsavgjorelser"],
    }
    [consent] = record["consents"]
    assert consent["source"] == "email-request"
    assert consent["actor"] == "anne"
    assert consent["evidence"] == "<CAF123@mail.example.no>"
    assert consent["privacy_notice_version"] == "2024-1"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", consent["given_at"])
    kinds = [(e["kind"], e["detail"]) for e in record["events"]]
    assert kinds == [("subscribed", "added (email-request)"), ("exported", "show --format json")]


def test_add_refuses_an_address_already_there_in_any_case(run: Run) -> None:
    add_kari(run)
    result = run("add", "  KARI.NORDMANN@politiet.example.no ", code=1)
    assert result.stderr == (
        f"Error: {KARI} is already on the list (subscribed) — change it with: "
        f"nyhetsbrev contacts edit {KARI} …\n"
    )


def test_add_rejects_an_invalid_address_and_an_unknown_topic(run: Run) -> None:
    result = run("add", "ola.example.no", code=1)
    assert result.stderr == (
        'Error: "ola.example.no" is not a valid email address: '
        "An email address must have an @-sign.\n"
    )
    result = run("add", "ola@example.no", "--topic", "podkast", code=1)
    assert result.stderr == (
        'Error: unknown topic "podkast" — the topics are: '
        "nyhetsbrev, rettsavgjorelser, tilstandsrapport\n"
    )
    assert run("list").stdout == "No contacts match.\n"


def test_list_filters_and_formats(run: Run) -> None:
    add_kari(run)
    run("add", "ola@justis.example.no", "--name", "Ola Ødegård", "--lang", "nn",
        "--sector", "departement", "--topic", "tilstandsrapport")  # fmt: skip
    run("add", "sigrid@example.org", "--name", "Sigrid", "--sector", "frivillig organisasjon")
    run("add", "pending@example.org", "--status", "pending")
    run("unsubscribe", "sigrid@example.org")

    def emails(*args: str) -> list[str]:
        rows = csv.DictReader(io.StringIO(run("list", "--format", "csv", *args).stdout))
        return [row["email"] for row in rows]

    assert emails() == [KARI, "ola@justis.example.no", "sigrid@example.org", "pending@example.org"]
    assert emails("--status", "subscribed") == [KARI, "ola@justis.example.no"]
    assert emails("--status", "pending", "--status", "unsubscribed") == [
        "sigrid@example.org",
        "pending@example.org",
    ]
    assert emails("--topic", "rettsavgjørelser") == [KARI]
    assert emails("--topic", "tilstandsrapport", "--topic", "rettsavgjorelser") == [
        KARI,
        "ola@justis.example.no",
    ]
    assert emails("--sector", "Frivillig organisasjon") == ["sigrid@example.org"]
    assert emails("--lang", "nn") == ["ola@justis.example.no"]
    assert emails("--search", "ØDEGÅRD") == ["ola@justis.example.no"]  # Unicode, any case
    assert emails("--search", "politi") == [KARI]  # in the address and the organisation
    assert emails("--search", "%") == []  # a LIKE wildcard is searched for, not obeyed
    assert emails("--status", "subscribed", "--lang", "nb") == [KARI]

    data = json.loads(run("list", "--format", "json", "--lang", "nn").stdout)
    assert [(c["email"], c["name"], c["topics"], c["status"]) for c in data] == [
        ("ola@justis.example.no", "Ola Ødegård", ["tilstandsrapport"], "subscribed")
    ]
    table = run("list", "--status", "subscribed").stdout.splitlines()
    assert table[0].split() == [
        "Email",
        "Name",
        "Organisation",
        "Sector",
        "Lang",
        "Topics",
        "Status",
    ]
    assert table[1].split()[0] == KARI
    assert table[-1] == "2 contacts."
    assert run("list", "--limit", "1").stdout.splitlines()[-1] == "1 contact."
    result = run("list", "--topic", "podkast", code=1)
    assert result.stderr.startswith('Error: unknown topic "podkast"')


def test_edit_changes_and_logs_fields(run: Run) -> None:
    add_kari(run)
    result = run("edit", KARI, "--org", "Kripos", "--add-topic", "tilstandsrapport",
                 "--remove-topic", "rettsavgjorelser", "--notes", "")  # fmt: skip
    assert result.stdout == f"Changed {KARI}: organisation, topics.\n"
    result = run("edit", KARI, "--org", "Kripos")
    assert result.stdout == f"Nothing changed: {KARI} already has these values.\n"
    result = run("edit", KARI, "--email", "kari@kripos.example.no", "--name", "")
    assert result.stdout == "Changed kari@kripos.example.no: email, name.\n"
    record = json.loads(run("show", "kari@kripos.example.no", "--format", "json").stdout)
    assert (record["name"], record["organisation"]) == (None, "Kripos")
    assert record["topics"] == ["nyhetsbrev", "tilstandsrapport"]
    changes = [e["detail"] for e in record["events"] if e["kind"] == "changed"]
    assert changes == ["organisation, topics", "email, name"]
    run("show", KARI, code=1)


def test_edit_refuses_an_address_that_belongs_to_another_contact(run: Run) -> None:
    add_kari(run)
    run("add", "ola@example.org")
    result = run("edit", "ola@example.org", "--email", KARI.upper(), code=1)
    assert re.fullmatch(
        rf"Error: {re.escape(KARI.upper())} is already on the list \(contact #\d+\)\n",
        result.stderr,
    )
    result = run("edit", "ola@example.org", code=2)
    assert "say what to change, e.g. --name or --add-topic" in result.stderr


def test_unsubscribe_is_idempotent_and_names_the_contact(run: Run) -> None:
    add_kari(run)
    result = run("unsubscribe", KARI, "--source", "email-request", "--reason", "ny jobb")
    assert result.stdout == f"Unsubscribed {KARI}.\n"
    result = run("unsubscribe", KARI)
    assert result.stdout == f"{KARI} was already unsubscribed; nothing changed.\n"
    events = json.loads(run("show", KARI, "--format", "json").stdout)["events"]
    assert [(e["kind"], e["detail"]) for e in events if e["kind"] == "unsubscribed"] == [
        ("unsubscribed", "email-request: ny jobb")
    ]
    result = run("unsubscribe", code=2)
    assert "name the contact: nyhetsbrev contacts unsubscribe EMAIL" in result.stderr
    result = run("unsubscribe", "nobody@example.org", code=1)
    assert result.stderr == (
        "Error: no contact with the address nobody@example.org — check the spelling, or "
        'search: nyhetsbrev contacts list --search "nobody"\n'
    )


def test_resubscribe_needs_fresh_evidence(run: Run) -> None:
    add_kari(run)
    run("unsubscribe", KARI)
    result = run("resubscribe", KARI, code=2)
    assert "Missing option '--evidence'" in result.stderr
    result = run("resubscribe", KARI, "--evidence", "  ", code=1)
    assert result.stderr == (
        "Error: resubscribing needs fresh consent: give --evidence, e.g. the Message-ID or date "
        "of their request\n"
    )
    result = run("resubscribe", KARI, "--evidence", "e-post 2025-01-03")
    assert (
        result.stdout
        == f'Resubscribed {KARI} (consent: email-request, evidence "e-post 2025-01-03").\n'
    )
    result = run("resubscribe", KARI, "--evidence", "again")
    assert result.stdout == f"{KARI} is already subscribed; nothing changed.\n"
    consents = json.loads(run("show", KARI, "--format", "json").stdout)["consents"]
    assert [c["evidence"] for c in consents] == ["<CAF123@mail.example.no>", "e-post 2025-01-03"]
    result = run("add", KARI, code=1)
    assert result.stderr.startswith(f"Error: {KARI} is already on the list (subscribed)")


def test_add_points_an_unsubscribed_contact_to_resubscribe(run: Run) -> None:
    add_kari(run)
    run("unsubscribe", KARI)
    result = run("add", KARI, code=1)
    assert result.stderr == (
        f"Error: {KARI} is on the list as unsubscribed — if they have asked to receive mailings "
        f'again, run: nyhetsbrev contacts resubscribe {KARI} --evidence "…"\n'
    )


def test_erase_asks_first_then_deletes_and_suppresses(run: Run) -> None:
    add_kari(run)
    result = run("erase", KARI, input="n\n", code=1)
    assert result.stdout.startswith(
        f"Erase {KARI} (Kari Nordmann, Politidirektoratet): delete the contact, its consent "
        "records and event log for good? [y/N]"
    )
    assert "Aborted!" in result.stderr
    run("show", KARI)  # still there
    result = run("erase", KARI, input="y\n")
    assert re.search(
        rf"^Erased {re.escape(KARI)}: contact #\d+, 1 consent record\(s\) and 1 event\(s\) deleted\. "
        r"Only a keyed hash of the address is kept, so no import or add will subscribe it again\.$",
        result.stdout,
        re.M,
    )
    result = run("show", KARI, code=1)
    assert re.fullmatch(
        rf"Error: {re.escape(KARI)} was erased on \d{{4}}-\d\d-\d\d: nothing is held about it "
        r"but a keyed hash of the address, on the suppression list\n",
        result.stderr,
    )
    result = run("add", KARI.lower(), code=1)
    assert re.fullmatch(
        rf"Error: {re.escape(KARI.lower())} was erased from the list on \d{{4}}-\d\d-\d\d and is "
        r"suppressed — if they have asked afresh to be on the list, run the same command with "
        r'--lift-suppression --evidence "…" \(their request\)\n',
        result.stderr,
    )
    assert run("erase", KARI, "--yes").stdout == f"{KARI} is already erased; nothing to do.\n"
    run("add", KARI, "--lift-suppression", "--evidence", "ny e-post 2025-02-01")
    assert run("stats", "--format", "json").stdout.count('"suppressed": 0') == 1


def test_erase_of_an_unknown_address_suppresses_it(run: Run) -> None:
    result = run("erase", "never@example.org", "--yes")
    assert result.stdout == "Suppressed never@example.org: no import or add will subscribe it.\n"
    run("add", "never@example.org", code=1)


def test_stats_counts_by_status_topic_sector_language(run: Run) -> None:
    add_kari(run)
    run("add", "ola@example.org", "--sector", "departement", "--lang", "en")
    run("add", "liv@example.org", "--sector", "departement", "--topic", "tilstandsrapport")
    run("add", "ex@example.org")
    run("unsubscribe", "liv@example.org")
    run("erase", "ex@example.org", "--yes")
    out = run("stats").stdout
    assert out.splitlines()[:6] == [
        "3 contacts",
        "  pending                        0",
        "  subscribed                     2",
        "  unsubscribed                   1",
        "  bounced                        0",
        "  erased (suppressed)            1",
    ]
    assert "  nyhetsbrev                       2       2" in out.splitlines()
    assert "  tilstandsrapport                 0       1" in out.splitlines()
    assert "  departement                      1       2" in out.splitlines()
    data = json.loads(run("stats", "--format", "json").stdout)
    assert data["by_status"] == {"pending": 0, "subscribed": 2, "unsubscribed": 1, "bounced": 0}
    assert data["by_topic"]["rettsavgjorelser"] == {"subscribed": 1}
    assert data["by_language"] == {
        "nb": {"subscribed": 1, "unsubscribed": 1},
        "en": {"subscribed": 1},
    }
    assert data["suppressed"] == 1


def test_export_csv_opens_in_excel_and_runs_no_formulas(run: Run, workspace: Path) -> None:
    add_kari(run)
    run("add", "formula@example.org", "--name", "=HYPERLINK(\"http://evil\")", "--org", "+47 Ødegård",
        "--notes", "@SUM(A1)")  # fmt: skip
    run("add", "--status", "pending", "--", "-minus@example.org")
    result = run("export", "kontakter.csv")
    assert result.stderr == "Exported 3 contacts to kontakter.csv (csv).\n"
    raw = (workspace / "kontakter.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfemail;name;organisation;sector;language;topics;status;")
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert [r["email"] for r in rows] == [KARI, "formula@example.org", "'-minus@example.org"]
    assert rows[1]["name"] == '\'=HYPERLINK("http://evil")'
    assert rows[1]["organisation"] == "'+47 Ødegård"
    assert rows[1]["notes"] == "'@SUM(A1)"
    assert rows[0]["topics"] == "nyhetsbrev, rettsavgjorelser"
    assert rows[0]["consent_evidence"] == "<CAF123@mail.example.no>"
    assert rows[2]["status"] == "pending"
    events = json.loads(run("show", KARI, "--format", "json").stdout)["events"]
    assert [(e["kind"], e["detail"]) for e in events][1] == (
        "exported",
        "export (csv) to kontakter.csv",
    )


def test_export_json_to_stdout_and_file(run: Run, workspace: Path) -> None:
    add_kari(run)
    run("add", "ola@example.org", "--status", "pending")
    data = json.loads(run("export", "--format", "json", "--status", "subscribed").stdout)
    assert [c["email"] for c in data] == [KARI]
    assert data[0]["consents"][0]["evidence"] == "<CAF123@mail.example.no>"
    assert [e["kind"] for e in data[0]["events"]] == ["subscribed"]
    run("export", "alle.json")
    data = json.loads((workspace / "alle.json").read_text(encoding="utf-8"))
    assert [c["email"] for c in data] == [KARI, "ola@example.org"]
    assert data[0]["events"][-1]["detail"] == "export (json) to standard output"


def test_an_export_imports_back_without_resurrecting_anyone(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_kari(run)
    run("add", "gone@example.org")
    run("unsubscribe", "gone@example.org")
    run("export", "backup.csv")
    monkeypatch.setenv(
        "NYHETSBREV_DATABASE_URL", f"sqlite:///{(tmp_path / 'fresh.sqlite').as_posix()}"
    )
    out = run("import", "backup.csv", "--apply").stdout
    assert "backup.csv:3: gone@example.org — marked unsubscribed in the file" in out
    rows = list(csv.DictReader(io.StringIO(run("list", "--format", "csv").stdout)))
    assert [(r["email"], r["name"], r["topics"]) for r in rows] == [
        (KARI, "Kari Nordmann", "nyhetsbrev, rettsavgjorelser")
    ]


def test_a_wrong_database_url_is_one_clear_line(
    cli: Run, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYHETSBREV_DATABASE_URL", "kontakter.sqlite")
    result = cli("contacts", "list")
    assert result.exit_code == 1
    assert result.stderr == (
        'Error: "kontakter.sqlite" is not a database URL — write e.g. '
        "sqlite:///contacts/contacts.sqlite or postgresql+psycopg://user@host/dbname in "
        "NYHETSBREV_DATABASE_URL\n"
    )
    monkeypatch.setenv("NYHETSBREV_DATABASE_URL", "postgresql+psycopg://kom:hemmelig@127.0.0.1:9/x")
    result = cli("contacts", "list")
    assert result.exit_code == 1
    assert result.stderr.startswith(
        "Error: cannot open the contact database postgresql+psycopg://kom:***@127.0.0.1:9/x: "
    )
    assert result.stderr.endswith(
        " — check NYHETSBREV_DATABASE_URL and that the database server is running\n"
    )
    assert "hemmelig" not in result.stderr and "Traceback" not in result.output


def test_the_default_database_is_created_in_contacts(
    cli: Run, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYHETSBREV_ACTOR", "anne")
    result = cli("contacts", "add", "kari@example.no")
    assert result.exit_code == 0, result.output
    assert (workspace / "contacts" / "contacts.sqlite").is_file()
    conn = sqlite3.connect(workspace / "contacts" / "contacts.sqlite")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    finally:
        conn.close()
