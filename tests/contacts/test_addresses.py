"""Addresses: the cached fast path of `check_email` agrees with email-validator on everything."""

from __future__ import annotations

import pytest
from email_validator import EmailNotValidError, validate_email
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nyhetsbrev.contacts.addresses import InvalidEmail, check_email, normalise_email

LOCAL_PIECES = ["kari", "Ola", "per.hansen", "a+b", "x_y", "'o", "-", ".", "..", "æ", "Å", "\"q\"",
                " ", "@", "<", ">", "(c)", "~", "=", "1", "é", "\u200b", "\\", ","]  # fmt: skip
DOMAIN_PIECES = ["example.no", "Example.NO", "politiet.no", "räksmörgås.se", "xn--rksmrgs-5wao1o.se",
                 "b.test", "localhost", "a", ".", "-x.no", "x-.no", "x.no.", "[127.0.0.1]",
                 "sub." * 20 + "no", "a" * 63 + ".no", "a" * 64 + ".no", "ex ample.no", "ÆØÅ.no",
                 "", "x.no>", "1.2.3.4", "under_score.no"]  # fmt: skip


def reference(address: str) -> tuple[str, str] | str:
    """What email-validator alone says: the normalised pair, or its error message."""
    given_ = address.strip()
    try:
        return given_, validate_email(given_, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        return str(exc)


def ours(address: str) -> tuple[str, str] | str:
    try:
        return check_email(address)
    except InvalidEmail as exc:
        return exc.reason


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.sampled_from(LOCAL_PIECES), max_size=4).map("".join),
    st.sampled_from(["@", "@", "@", "", "@@"]),
    st.lists(st.sampled_from(DOMAIN_PIECES), min_size=1, max_size=2).map("".join),
    st.integers(min_value=0, max_value=230),
)
def test_fast_path_agrees_with_email_validator(local: str, at: str, domain: str, pad: int) -> None:
    address = local + ("l" * pad if pad > 200 else "") + at + domain
    assume(address.strip())  # empty: our own message, "the address is empty"
    assert ours(address) == reference(address)


@pytest.mark.parametrize("domain", ["example.no", "räksmörgås.se", "xn--rksmrgs-5wao1o.se"])
def test_fast_path_agrees_at_the_length_limit(domain: str) -> None:
    for length in range(225, 256):
        address = "a" * length + "@" + domain
        assert ours(address) == reference(address), length


@pytest.mark.parametrize(
    ("address", "normalised"),
    [
        ("Kari.Nordmann@Politiet.NO", "kari.nordmann@politiet.no"),
        ("  per@example.org\t", "per@example.org"),
        ("ola@xn--rksmrgs-5wao1o.se", "ola@räksmörgås.se"),
        ("Åse@Eksempel.NO", "åse@eksempel.no"),
    ],
)
def test_normalised_form(address: str, normalised: str) -> None:
    assert check_email(address) == (address.strip(), normalised)
    assert normalise_email(address) == normalised


def test_invalid_addresses_explain_themselves() -> None:
    with pytest.raises(InvalidEmail) as caught:
        check_email("kari@politiet")
    assert str(caught.value) == (
        '"kari@politiet" is not a valid email address: The part after the @-sign is not valid. '
        "It should have a period."
    )
    assert normalise_email(" Not An Address ") == "not an address"


@pytest.mark.parametrize(
    ("address", "sendable"),
    [
        ("Kari@Politiet.NO", "Kari@politiet.no"),
        ("per@räksmörgås.se", "per@xn--rksmrgs-5wao1o.se"),
        ("  ola@example.org ", "ola@example.org"),
    ],
)
def test_the_sendable_form_keeps_the_local_part_and_encodes_the_domain(
    address: str, sendable: str
) -> None:
    from nyhetsbrev.contacts.addresses import sendable_form

    assert sendable_form(address) == sendable


@pytest.mark.parametrize("address", ["æsa@example.no", "kari@", "not an address"])
def test_what_sign_up_refuses(address: str) -> None:
    """Sign-up mails at once, so it also refuses a local part that needs SMTPUTF8 — which import
    and `add` accept (`check_email`), the one difference between the ways onto the list."""
    from nyhetsbrev.contacts.addresses import sendable_form

    with pytest.raises(InvalidEmail):
        sendable_form(address)
    if address.startswith("æsa"):
        assert check_email(address) == (address, address)
