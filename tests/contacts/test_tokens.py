"""Signed link tokens: round trip, compactness, and every way a bad token is refused."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

import pytest

from nyhetsbrev.contacts.tokens import InvalidToken, make_token, read_token, secret_key
from nyhetsbrev.errors import DeliveryError

KEY = "tokens-test-key-Zq8Vw3Lr6Nx1Kb9Mt4Pc"
NOW = datetime(2025, 1, 10, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", KEY)


@pytest.mark.parametrize("contact_id", [1, 255, 256, 70_000, 2**31, 2**63 - 1])
@pytest.mark.parametrize("purpose", ["unsubscribe", "preferences"])
def test_round_trip(purpose: str, contact_id: int) -> None:
    token = make_token(purpose, contact_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", token), "URL-safe, no padding"
    assert read_token(token, purpose) == contact_id


def test_unsubscribe_token_is_compact_and_never_expires() -> None:
    token = make_token("unsubscribe", 1234)
    assert len(token) == 32
    far_future = datetime(2100, 1, 1, tzinfo=UTC)
    assert read_token(token, "unsubscribe", now=far_future) == 1234
    with pytest.raises(ValueError, match="never expire"):
        make_token("unsubscribe", 1, expires=NOW)


def test_confirm_tokens_expire() -> None:
    token = make_token("confirm", 7, expires=NOW + timedelta(days=2))
    assert read_token(token, "confirm", now=NOW) == 7
    with pytest.raises(InvalidToken) as caught:
        read_token(token, "confirm", now=NOW + timedelta(days=2, seconds=1))
    assert caught.value.reason == "expired"
    assert str(caught.value) == "the link expired on 2025-01-12 12:00 UTC"
    default = make_token("confirm", 7)  # 7 days from now by default
    assert read_token(default, "confirm", now=datetime.now(UTC) + timedelta(days=6)) == 7
    with pytest.raises(InvalidToken, match="expired"):
        read_token(default, "confirm", now=datetime.now(UTC) + timedelta(days=8))


def test_wrong_purpose_is_refused() -> None:
    token = make_token("preferences", 5)
    with pytest.raises(InvalidToken) as caught:
        read_token(token, "unsubscribe")
    assert caught.value.reason == "wrong-purpose"
    assert str(caught.value) == "this is a preferences link, not a unsubscribe link"


def test_forged_with_another_key_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "another-key-Q7vX2mL9pR4tK8wZ1nB6")
    forged = make_token("unsubscribe", 42)
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", KEY)
    with pytest.raises(InvalidToken) as caught:
        read_token(forged, "unsubscribe")
    assert caught.value.reason == "forged"
    assert str(caught.value) == (
        "the link's signature does not match: it was altered, or not made with this site's key "
        "(NYHETSBREV_SECRET_KEY changed since it was sent?)"
    )


def test_every_altered_byte_is_refused() -> None:
    token = make_token("unsubscribe", 42)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    for index in range(len(raw)):
        changed = bytearray(raw)
        changed[index] ^= 0x01
        altered = base64.urlsafe_b64encode(bytes(changed)).rstrip(b"=").decode()
        with pytest.raises(InvalidToken) as caught:
            read_token(altered, "unsubscribe")
        assert caught.value.reason in ("forged", "malformed", "wrong-purpose"), index


def test_changed_contact_id_is_refused() -> None:
    """The classic attack: keep the signature, point the token at someone else."""
    token = make_token("unsubscribe", 42)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[6] = 43  # the id byte
    altered = base64.urlsafe_b64encode(bytes(raw)).rstrip(b"=").decode()
    with pytest.raises(InvalidToken, match="signature does not match"):
        read_token(altered, "unsubscribe")


@pytest.mark.parametrize(
    "token",
    ["", "abc", "TEST.link-in-test-messages-does-nothing", "a" * 65, "ÆØÅ" * 8, "AQEAAAAAAc J7l6"],
)
def test_malformed_tokens_are_refused(token: str) -> None:
    with pytest.raises(InvalidToken) as caught:
        read_token(token, "unsubscribe")
    assert caught.value.reason == "malformed"


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NYHETSBREV_SECRET_KEY")
    with pytest.raises(DeliveryError) as caught:
        make_token("unsubscribe", 1)
    assert caught.value.message == (
        "NYHETSBREV_SECRET_KEY is not set: personal unsubscribe links are signed with it. "
        'Generate one with python -c "import secrets; print(secrets.token_urlsafe(32))", keep '
        "it in your password manager, and set it in the environment (export "
        "NYHETSBREV_SECRET_KEY=…) of every machine that sends or serves the newsletter — see "
        "docs/operations.md"
    )
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "short")
    with pytest.raises(DeliveryError, match=r"too short \(5 bytes, at least 32\)"):
        secret_key()


def test_unknown_purpose_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="unknown token purpose 'login'"):
        make_token("login", 1)
