"""Contacts as the outside review found them (issue 15: 11, 12): one validation for every way
in, terminal output that escapes what it prints, and imports that say when nothing could be used."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from nyhetsbrev.contacts.store import ContactStore

Run = Callable[..., Result]
HOSTILE = {
    "NUL": "Kari\x00Nordmann",
    "ESC": "Kari \x1b[31mNordmann",
    "BEL": "Kari\x07",
    "RLO": "Kari \u202enamdroN",
    "LRI": "Kari \u2066x",
}


@pytest.mark.parametrize("kind", list(HOSTILE))
def test_import_refuses_control_and_bidi_characters_with_row_and_column(
    run: Run, workspace: Path, store: ContactStore, kind: str
) -> None:
    path = workspace / "hostile.csv"
    path.write_text(f"E-post;Navn\nkari@example.no;{HOSTILE[kind]}\nola@example.no;Ola\n", "utf-8")
    result = run("import", "hostile.csv", "--apply")
    out = result.stdout
    assert "hostile.csv:2:" in out and "column 2 (Navn)" in out, out
    assert "control" in out or "direction" in out
    assert "\x1b" not in out and "\x00" not in out and "\u202e" not in out and "\x07" not in out
    assert store.get("kari@example.no") is None
    assert store.get("ola@example.no") is not None


def test_add_refuses_them_too_and_limits_lengths(run: Run, store: ContactStore) -> None:
    result = run("add", "kari@example.no", "--name", "Kari \x1b[2J", code=1)
    assert "name" in result.output and "control" in result.output
    assert "\x1b" not in result.output
    long = run("add", "kari@example.no", "--name", "K" * 100_000, code=1).output
    assert "name" in long and "200" in long and len(long) < 1000
    run("add", "kari@example.no", "--org", "O" * 201, code=1)
    assert store.get("kari@example.no") is None


def test_import_refuses_overlong_values(run: Run, workspace: Path, store: ContactStore) -> None:
    (workspace / "long.csv").write_text(
        "E-post;Navn\nkari@example.no;" + "K" * 100_000 + "\n", "utf-8"
    )
    out = run("import", "long.csv", "--apply", code=1).stdout
    assert "long.csv:2:" in out and "column 2 (Navn)" in out and "200" in out
    assert max(len(line) for line in out.splitlines()) < 400
    assert store.get("kari@example.no") is None


def test_list_and_show_escape_what_is_already_stored(
    run: Run, store: ContactStore, db: str
) -> None:
    import sqlalchemy as sa

    kari = store.add("kari@example.no", name="Kari", actor="test")
    with store.engine.begin() as conn:  # data from before the check: written directly
        conn.execute(
            sa.text("UPDATE contacts SET name = :n, organisation = :o WHERE id = :i"),
            {"n": "Kari \x1b]0;pwned\x07\x1b[31m", "o": "Org \u202eevil", "i": kari.id},
        )
    for args in (("list",), ("show", "kari@example.no")):
        out = run(*args).stdout
        assert "\x1b" not in out and "\x07" not in out and "\u202e" not in out, args
        assert "\\x1b" in out and "\\u202e" in out


def _utf16le(text: str) -> bytes:
    return text.encode("utf-16-le")


def test_utf16le_without_bom_is_detected(run: Run, workspace: Path, store: ContactStore) -> None:
    (workspace / "u16.csv").write_bytes(
        _utf16le("E-post;Navn;Organisasjon\r\nkari@example.no;Kari Nordmann;Bærum kommune\r\n")
    )
    out = run("import", "u16.csv", "--apply").stdout
    assert "UTF-16" in out
    contact = store.get("kari@example.no")
    assert contact is not None and contact.organisation == "Bærum kommune"


def test_every_row_rejected_says_so_and_exits_1(
    run: Run, workspace: Path, store: ContactStore
) -> None:
    (workspace / "bad.csv").write_text("E-post;Navn\nnot-an-address;Kari\nalso bad;Ola\n", "utf-8")
    result = run("import", "bad.csv", "--apply", code=1)
    assert "already has everything" not in result.output
    assert "all 2 rows were rejected" in result.output


def test_identical_headers_are_named_by_position_in_the_map_hint(run: Run, workspace: Path) -> None:
    (workspace / "twice.csv").write_text("E-post;Navn;Navn\nkari@example.no;Kari;K\n", "utf-8")
    out = run("import", "twice.csv", code=1).output
    assert "column 2" in out and "column 3" in out and '--map "2=name"' in out, out


def test_report_lines_are_capped(run: Run, workspace: Path) -> None:
    header = "E-post;" + ";".join(f"extra{i}" for i in range(10_000))
    (workspace / "wide.csv").write_text(header + "\nkari@example.no" + ";" * 10_000 + "\n", "utf-8")
    out = run("import", "wide.csv").stdout
    assert max(len(line) for line in out.splitlines()) <= 400, max(map(len, out.splitlines()))
    assert "10000 more" in out or "9" in out
