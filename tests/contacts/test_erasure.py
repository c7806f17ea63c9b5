"""Erasure is real: nothing about the person is left but a keyed hash, and the key is guarded."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import Result

from nyhetsbrev.contacts.store import ContactStore, open_store
from nyhetsbrev.errors import ContactsError

Run = Callable[..., Result]
ADDRESS = "Ragnhild.Eriksen@Example.NO"
NAME = "Ragnhild Eriksen"


def everything_as_text(store: ContactStore) -> str:
    """Every value in every table, as one string."""
    parts: list[str] = []
    with store.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                parts.extend(str(value) for value in row)
    return "\n".join(parts)


def test_nothing_but_a_keyed_hash_is_left(run: Run, store: ContactStore) -> None:
    run("add", ADDRESS, "--name", NAME, "--org", "Kirkens Bymisjon", "--evidence", "<id@mail>")
    run("edit", ADDRESS, "--notes", "ringte om rapporten")
    run("show", ADDRESS, "--format", "json")
    before = everything_as_text(store)
    assert NAME in before and "ragnhild.eriksen" in before.lower()

    run("erase", ADDRESS, "--yes")
    after = everything_as_text(store)
    for trace in ("ragnhild", "eriksen", "Kirkens Bymisjon", "ringte", "<id@mail>"):
        assert trace.lower() not in after.lower()
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT address_hash, reason, actor FROM suppressions")).all()
        erased = conn.execute(sa.text("SELECT contact_id, kind, detail FROM events")).all()
    [(address_hash, reason, actor)] = rows
    assert (reason, actor) == ("erased", "anne")
    assert len(address_hash) == 64 and int(address_hash, 16) >= 0
    # not a plain hash of the address: the key is needed to test a guess
    assert address_hash != hashlib.sha256(b"ragnhild.eriksen@example.no").hexdigest()
    [(contact_id, kind, detail)] = erased
    assert (contact_id, kind) == (None, "erased")
    assert detail.endswith(": personal data deleted, address suppressed")


def test_sqlite_files_keep_no_copy_of_erased_data(tmp_path: Path) -> None:
    """Secure delete and a WAL checkpoint: the bytes are gone from the files, not just hidden,
    even while the database stays open (as in a long-running web app)."""
    path = tmp_path / "erase.sqlite"

    def files() -> bytes:
        return b"".join(p.read_bytes() for p in tmp_path.glob("erase.sqlite*"))

    with open_store(f"sqlite:///{path.as_posix()}") as store:
        for i in range(30):
            store.add(f"filler{i}@example.org", actor="anne", name=f"Filler {i}")
        store.add(ADDRESS, actor="anne", name=NAME, notes="Unik-merknad-123")
        store.edit(ADDRESS, {"organisation": "Unik-organisasjon-456"}, actor="anne")
        assert b"Unik-merknad-123" in files()
        with store.engine.connect() as other:  # another connection stays open throughout
            other.execute(sa.text("SELECT count(*) FROM contacts")).scalar_one()
            other.commit()
            store.erase(ADDRESS, actor="anne")
            data = files()
        traces = (b"Unik-merknad-123", b"Unik-organisasjon-456", NAME.encode(), b"Ragnhild.Eriksen")
        for trace in traces:
            assert trace not in data
        assert b"Filler 7" in data  # the others are still there


def test_a_changed_key_stops_instead_of_letting_erased_addresses_back(
    run: Run, monkeypatch: pytest.MonkeyPatch
) -> None:
    run("add", "kari@example.org")  # works before any erasure, whatever the key
    run("erase", "gone@example.org", "--yes")  # with the database's own key
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "a-new-secret-Vb3Kx9Qm2Lr7Tz5Wn8Pc")
    expected = (
        "Error: the suppression list was hashed with a different key: NYHETSBREV_SECRET_KEY was "
        "changed, set or unset since addresses were erased — restore the key used before (or "
        "unset it, if the database's own key was used); without it, erased addresses could be "
        "imported again\n"
    )
    assert run("add", "gone@example.org", code=1).stderr == expected
    assert run("erase", "other@example.org", "--yes", code=1).stderr == expected
    monkeypatch.delenv("NYHETSBREV_SECRET_KEY")
    assert "suppressed" in run("add", "gone@example.org", code=1).stderr


def test_the_secret_key_from_the_environment(
    db: str, store: ContactStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "kom-hemmelighet-Hq4Zr8Lx2Nw6Vb1Mk")
    with open_store(db) as keyed:
        keyed.erase("Per@Example.org", actor="anne")
        with keyed.engine.connect() as conn:
            stored = conn.execute(sa.text("SELECT address_hash FROM suppressions")).scalar_one()
        derived = hmac.new(
            b"kom-hemmelighet-Hq4Zr8Lx2Nw6Vb1Mk",
            b"nyhetsbrev/contacts/suppression/v1",
            hashlib.sha256,
        ).digest()
        assert stored == hmac.new(derived, b"per@example.org", hashlib.sha256).hexdigest()
        with pytest.raises(ContactsError, match="is suppressed"):
            keyed.add("per@EXAMPLE.org", actor="anne")


def test_a_declared_table_is_anonymised_by_the_erasure(store: ContactStore) -> None:
    """Another subsystem's table (here a made-up `call_notes`) declared through the erasure
    rules: erasing clears the contact column and the named columns, other rows stay."""
    from nyhetsbrev.contacts.erasure import declare_personal_table

    erased = store.add("gone@example.no", actor="test")
    kept = store.add("kept@example.no", actor="test")
    with store.engine.begin() as conn:
        conn.execute(
            sa.text("CREATE TABLE call_notes (id INTEGER PRIMARY KEY, who INTEGER, note TEXT)")
        )
        conn.execute(
            sa.text("INSERT INTO call_notes VALUES (1, :a, 'rang about gone@'), (2, :b, 'hi')"),
            {"a": erased.id, "b": kept.id},
        )
        declare_personal_table(conn, "call_notes", "who", clear=("note",))
    store.erase("gone@example.no", actor="test")
    with store.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, who, note FROM call_notes ORDER BY id")).all()
        conn.execute(sa.text("DROP TABLE call_notes"))
        conn.execute(sa.text("DELETE FROM erasure_rules WHERE table_name = 'call_notes'"))
        conn.commit()
    assert [tuple(r) for r in rows] == [(1, None, None), (2, kept.id, "hi")]


def test_erasure_rules_take_plain_names_only(store: ContactStore) -> None:
    from nyhetsbrev.contacts.erasure import declare_personal_table

    with store.engine.begin() as conn, pytest.raises(ValueError, match="'x; DROP TABLE'"):
        declare_personal_table(conn, "call_notes", "who", clear=("x; DROP TABLE",))
