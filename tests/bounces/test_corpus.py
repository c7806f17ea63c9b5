"""The corpus: one real-shaped message per format, each with what it must be read as."""

from __future__ import annotations

from pathlib import Path

import pytest

from nyhetsbrev.bounces.parse import parse
from nyhetsbrev.bounces.policy import classify

CORPUS = Path(__file__).parent / "corpus"
MID = "<nyhetsbrev.2024-q4.{}@politiet.no>"

# file: (kind, detector, recipient, status, permanent, severity, returned Message-ID)
CASES = {
    "postfix-user-unknown.eml": (
        "bounce",
        "dsn",
        "ola.nordmann@kommune.example.no",
        "5.1.1",
        True,
        "hard",
        MID.format("0f1e2d3c4b5a69788796a5b4c3d2e1f0"),
    ),
    "exim-mailbox-full.eml": (
        "bounce",
        "dsn",
        "kari.hansen@frivillig.example.org",
        "5.2.2",
        True,
        "soft",
        MID.format("1a2b3c4d5e6f708192a3b4c5d6e7f809"),
    ),
    "m365-recipient-not-found.eml": (
        "bounce",
        "dsn",
        "per.olsen@direktorat.example.no",
        "5.1.10",
        True,
        "hard",
        MID.format("2b3c4d5e6f708192a3b4c5d6e7f8091a"),
    ),
    "m365-access-denied.eml": (
        "bounce",
        "dsn",
        "anne.lund@sykehus.example.no",
        "5.4.1",
        True,
        "hard",
        MID.format("3c4d5e6f708192a3b4c5d6e7f8091a2b"),
    ),
    "exchange-ndr-text-only.eml": (
        "bounce",
        "microsoft",
        "lise.berg@etat.example.no",
        "5.1.1",
        True,
        "hard",
        MID.format("4d5e6f708192a3b4c5d6e7f8091a2b3c"),
    ),
    "gmail-no-such-user.eml": (
        "bounce",
        "dsn",
        "nordmann.test.2024@gmail.com",
        "5.1.1",
        True,
        "hard",
        MID.format("5e6f708192a3b4c5d6e7f8091a2b3c4d"),
    ),
    "dsn-without-returned-headers.eml": (
        "bounce",
        "dsn",
        "tor.dahl@universitet.example.no",
        "5.2.1",
        True,
        "hard",
        None,
    ),
    "postfix-delayed.eml": (
        "bounce",
        "dsn",
        "geir.moe@fylke.example.no",
        "4.4.1",
        False,
        "soft",
        MID.format("6f708192a3b4c5d6e7f8091a2b3c4d5e"),
    ),
    "qmail-failure-notice.eml": (
        "bounce",
        "flufl.bounce",
        "jon.vik@stiftelse.example.org",
        "5.1.1",
        True,
        "hard",
        MID.format("708192a3b4c5d6e7f8091a2b3c4d5e6f"),
    ),
    "autoreply-rfc3834.eml": ("auto-reply", "", None, None, None, None, None),
    "out-of-office-exchange.eml": ("auto-reply", "", None, None, None, None, None),
    "vacation-x-autoreply.eml": ("auto-reply", "", None, None, None, None, None),
    "person-reply.eml": ("other", "", None, None, None, None, None),
    "malformed-report-without-status.eml": ("malformed", "", None, None, None, None, None),
    "malformed-not-a-message.eml": ("malformed", "", None, None, None, None, None),
}


def test_every_corpus_file_has_a_case() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(CASES)


@pytest.mark.parametrize("name", sorted(CASES))
def test_corpus(name: str) -> None:
    kind, detector, recipient, status, permanent, severity, returned = CASES[name]
    parsed = parse((CORPUS / name).read_bytes())
    assert (parsed.kind, parsed.detector) == (kind, detector), parsed.why
    if kind != "bounce":
        assert parsed.failures == ()
        assert parsed.why
        return
    assert len(parsed.failures) == 1
    failure = parsed.failures[0]
    assert (failure.recipient, failure.status, failure.permanent) == (recipient, status, permanent)
    assert classify(failure).severity == severity
    assert failure.diagnostic
    assert parsed.date is not None and parsed.message_id is not None
    assert (parsed.returned_ids[0] if parsed.returned_ids else None) == returned


def test_the_same_bounce_with_other_line_ends_has_the_same_key() -> None:
    data = (CORPUS / "malformed-not-a-message.eml").read_bytes()
    assert parse(data).key == parse(data.replace(b"\n", b"\r\n")).key
    dsn = (CORPUS / "postfix-user-unknown.eml").read_bytes()
    assert parse(dsn).key == "<20250106081402.4Y2Jq81Zx3z9vCk@mx1.politiet.no>"


@pytest.mark.parametrize(
    ("status", "words", "permanent", "severity"),
    [
        ("5.1.1", "User unknown", True, "hard"),
        ("5.1.10", "RESOLVER.ADR.RecipientNotFound", True, "hard"),
        ("5.2.1", "Mailbox disabled", True, "hard"),
        ("5.4.1", "Recipient address rejected: Access denied", True, "hard"),
        ("5.4.1", "No answer from host", True, "soft"),  # RFC 3463's 5.4.1 is about routing
        ("5.2.2", "Mailbox full", True, "soft"),
        ("5.7.1", "Message rejected as spam", True, "soft"),
        ("4.2.2", "Mailbox full, try later", False, "soft"),
        ("4.4.1", "No answer", False, "soft"),
        (None, "Sorry, no mailbox here by that name.", True, "hard"),
        (None, "something went wrong", True, "soft"),
        ("5.0.0", "550 5.0.0 RESOLVER.ADR.ExRecipNotFound", True, "hard"),
    ],
)
def test_policy(status: str | None, words: str, permanent: bool, severity: str) -> None:
    from nyhetsbrev.bounces.parse import Failure

    verdict = classify(Failure("a@example.no", None, permanent, status, words))
    assert verdict.severity == severity


@pytest.mark.parametrize("name", sorted(n for n, case in CASES.items() if case[1] == "dsn"))
def test_the_quick_reading_agrees_with_the_full_parse(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Plain reports are read without parsing every MIME part; the result must be the same."""
    from nyhetsbrev.bounces import dsn
    from nyhetsbrev.bounces.parse import parse

    data = (CORPUS / name).read_bytes()
    used: list[bool] = []
    quick_reader = dsn.quick_dsn

    def spy(*args: object) -> object:
        found = quick_reader(*args)  # type: ignore[arg-type]
        used.append(found is not None)
        return found

    monkeypatch.setattr(dsn, "quick_dsn", spy)
    quick = parse(data)
    monkeypatch.setattr(dsn, "quick_dsn", lambda *args: None)
    assert parse(data) == quick
    assert used == [True]
