"""The secret key: strong enough (review finding 4), and the one the data was made with (3)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest

from nyhetsbrev.contacts.keys import check_key, key_weakness
from nyhetsbrev.contacts.store import open_store
from nyhetsbrev.contacts.tokens import secret_key
from nyhetsbrev.delivery.approval.record import approval_key
from nyhetsbrev.errors import ContactsError, DeliveryError, NyhetsbrevError

GOOD = "Jm1v7kQ3rT9xZp2LwB8sN4cY6hD0fGaE5uVqXoKiRzU"  # secrets.token_urlsafe(32), once


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (" " * 40, "whitespace"),
        ("a" * 40, "repeat"),
        ("ab" * 20, "repeat"),
        ("0123456789abcdef" * 2, "repeat"),
        ("abcdefghijklmnopqrstuvwxyz0123456789", "sequence"),
        ("qwqwqwqwqwerqwqwqwqwqwqwqwqwqwqwqwqwqwe", "few different characters"),
        (secrets.token_hex(16), "too little randomness"),  # 16 bytes, not 32
        ("  " + secrets.token_urlsafe(32), "whitespace"),
        ("x" * 20, "too short"),
        ("kom-hemmelighet", "too short"),
    ],
)
def test_weak_keys_are_refused_with_the_reason(secret: str, reason: str) -> None:
    found = key_weakness(secret)
    assert found is not None and reason in found, found


@pytest.mark.parametrize(
    "secret",
    [secrets.token_urlsafe(32) for _ in range(20)] + [secrets.token_hex(32), GOOD],
)
def test_generated_keys_pass(secret: str) -> None:
    assert key_weakness(secret) is None


@pytest.mark.parametrize("secret", [" " * 16, "a" * 16, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"])
def test_every_reader_of_the_key_refuses_a_weak_one(
    secret: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", secret)
    with pytest.raises(DeliveryError) as caught:
        secret_key()
    assert "secrets.token_urlsafe(32)" in caught.value.message
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    with open_store(url) as store, pytest.raises(ContactsError) as refused:  # suppression too
        store.suppression("kari@example.no")
    assert "secrets.token_urlsafe(32)" in refused.value.message
    with pytest.raises(NyhetsbrevError) as approval:  # the approvals' signatures, too
        approval_key()
    assert "secrets.token_urlsafe(32)" in approval.value.message


def test_the_key_check_is_recorded_once_and_a_changed_key_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'c.sqlite'}"
    with open_store(url) as store:
        check_key(store.engine, GOOD)
        check_key(store.engine, GOOD)  # the same key: fine, again and again
        with pytest.raises(NyhetsbrevError) as caught:
            check_key(store.engine, secrets.token_urlsafe(32))
    message = caught.value.message
    assert "NYHETSBREV_SECRET_KEY is not the key this contact database was used with" in message
    assert "docs/operations.md" in message and "NYHETSBREV_OLD_SECRET_KEY" in message
    assert GOOD not in message
    raw = (tmp_path / "c.sqlite").read_bytes()
    assert GOOD.encode() not in raw  # a fingerprint is stored, never the key


def test_a_deliberate_rotation_names_the_old_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    new = secrets.token_urlsafe(32)
    with open_store(f"sqlite:///{tmp_path / 'c.sqlite'}") as store:
        check_key(store.engine, GOOD)
        with pytest.raises(NyhetsbrevError, match="is not the key"):
            check_key(store.engine, new, old=secrets.token_urlsafe(32))  # a wrong old key
        check_key(store.engine, new, old=GOOD)
        check_key(store.engine, new)  # from now on the new one is the key
        with pytest.raises(NyhetsbrevError):
            check_key(store.engine, GOOD)


def test_two_processes_recording_the_first_fingerprint_at_once_both_go_on(
    database_url: str,
) -> None:
    """Two editors pressing send on a fresh database: the second INSERT of the fingerprint
    must not fail (it did, as an 'unexpected OperationalError/IntegrityError', in the race test
    of issue 10).

    The other process is played by a second connection that records the fingerprint just
    before this one's INSERT. On SQLite the check holds the write lock from its first read
    (BEGIN IMMEDIATE), so the other one waits; on PostgreSQL it records first and this one
    must compare with what it recorded.
    """
    import threading

    import sqlalchemy as sa

    from nyhetsbrev.contacts.keys import KEY_CHECK_SETTING, fingerprint

    with open_store(database_url) as store:
        other = sa.create_engine(database_url)
        racers: list[threading.Thread] = []

        def record_first(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
            if "INSERT INTO settings" not in statement or racers:
                return

            def race() -> None:
                with other.begin() as racer:
                    racer.execute(
                        sa.text(
                            "INSERT INTO settings (key, value) VALUES (:k, :v) "
                            "ON CONFLICT DO NOTHING"
                        ),
                        {"k": KEY_CHECK_SETTING, "v": fingerprint(GOOD)},
                    )

            racer = threading.Thread(target=race)
            racers.append(racer)
            racer.start()
            racer.join(timeout=0.5 if store.engine.dialect.name == "sqlite" else 10)

        sa.event.listen(store.engine, "before_cursor_execute", record_first)
        try:
            check_key(store.engine, GOOD)  # the same key: this one goes on
        finally:
            sa.event.remove(store.engine, "before_cursor_execute", record_first)
        assert racers
        racers[0].join(timeout=30)  # on SQLite the other one then finds the row and stops
        other.dispose()
        with pytest.raises(NyhetsbrevError):
            check_key(store.engine, secrets.token_urlsafe(32))
