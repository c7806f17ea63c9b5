"""Sign-up with double opt-in over HTTP: the form, bad inputs, abuse, and the confirmation link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient
from tests.web.conftest import Client, MailCatcher, csrf, sign_up

from nyhetsbrev.contacts.store import ContactStore
from nyhetsbrev.contacts.tokens import make_token
from nyhetsbrev.web.site import Limits

ADDRESS = "kari.nordmann@example.no"


def test_form_offers_the_topics_languages_consent_and_privacy_version(
    make_client: Client,
) -> None:
    page = make_client().get("/subscribe")
    assert page.status_code == 200
    text = page.text
    assert '<html lang="nb">' in text
    for topic in ("nyhetsbrev", "rettsavgjorelser", "tilstandsrapport"):
        assert f'name="topics" value="{topic}"' in text
    assert "Oversikt over rettsavgjørelser" in text  # topics by their labels
    assert 'value="nn" lang="nn"' in text and ">English</option>" in text
    assert "versjon 2024-1" in text  # the privacy notice in force
    assert 'name="consent" value="yes" required' in text
    assert 'name="website"' in text and 'tabindex="-1"' in text  # the honeypot
    assert page.headers["cache-control"] == "no-store"
    assert "httponly" in page.headers["set-cookie"].lower()


def test_sign_up_makes_a_pending_contact_and_mails_a_confirmation_link(
    client: TestClient, store: ContactStore, mails: MailCatcher
) -> None:
    answer = sign_up(client, topics=["nyhetsbrev", "rettsavgjorelser"], language="nn")
    assert answer.status_code == 200
    assert "Sjekk e-posten din" in answer.text and ADDRESS in answer.text

    contact = store.get(ADDRESS)
    assert contact is not None
    assert contact.status == "pending"
    assert contact.name == "Kari Nordmann" and contact.organisation == "Oslo kommune"
    assert contact.topics == ("nyhetsbrev", "rettsavgjorelser") and contact.language == "nn"
    (consent,) = store.consents(contact.id)
    assert consent.source == "web-form"
    assert consent.privacy_notice_version == "2024-1"
    assert consent.confirmed_at is None
    assert "203.0.113.7" in (consent.evidence or "")

    (mail,) = mails.sent
    assert mail.to == ADDRESS and mail.language == "nn"
    assert mail.subject == "Stadfest påmeldinga til Nyhetsbrev fra KOM"
    assert re.search(r"https://nyhetsbrev\.example\.org/confirm/[A-Za-z0-9_-]+\n", mail.body)
    assert "3 dagar" in mail.body


def test_following_the_link_asks_for_a_press_and_only_the_post_confirms(
    client: TestClient, store: ContactStore, mails: MailCatcher
) -> None:
    sign_up(client)
    link = mails.link()
    for _ in range(2):  # mail scanners follow links, with GET and HEAD
        assert client.head(link).status_code == 200
        page = client.get(link)
        assert page.status_code == 200
    assert "Bekreft påmeldingen" in page.text and '<form method="post"' in page.text
    contact = store.get(ADDRESS)
    assert contact is not None and contact.status == "pending"

    done = client.post(link, data={"csrf_token": csrf(page)})
    assert done.status_code == 200
    assert "Takk, du er påmeldt" in done.text
    assert "/preferences/" in done.text
    contact = store.get(ADDRESS)
    assert contact is not None and contact.status == "subscribed"
    (consent,) = store.consents(contact.id)
    assert consent.confirmed_at is not None
    assert [e.kind for e in store.events(contact.id)] == ["requested", "confirmed"]

    again = client.post(link, data={"csrf_token": csrf(page)})
    assert again.status_code == 200 and "Du er allerede påmeldt" in again.text
    assert [e.kind for e in store.events(contact.id)] == ["requested", "confirmed"]


def test_confirming_needs_the_form_token(
    client: TestClient, store: ContactStore, mails: MailCatcher
) -> None:
    sign_up(client)
    link = mails.link()
    client.get(link)
    for data in ({}, {"csrf_token": "0" * 64}):
        answer = client.post(link, data=data)
        assert answer.status_code == 403
        assert "Skjemaet er utløpt" in answer.text
    contact = store.get(ADDRESS)
    assert contact is not None and contact.status == "pending"


def test_an_expired_confirmation_link_says_so_and_confirms_nothing(
    client: TestClient, store: ContactStore, mails: MailCatcher
) -> None:
    sign_up(client)
    contact = store.get(ADDRESS)
    assert contact is not None
    past = datetime.now(UTC) - timedelta(minutes=1)
    link = f"/confirm/{make_token('confirm', contact.id, expires=past)}"
    page = client.get(link)
    assert page.status_code == 400
    assert "Lenken er for gammel" in page.text
    answer = client.post(link, data={"csrf_token": csrf(client.get("/subscribe"))})
    assert answer.status_code == 400
    assert store.get(ADDRESS).status == "pending"  # type: ignore[union-attr]


def test_a_second_request_reveals_nothing_and_resubscribes_nobody(
    client: TestClient, store: ContactStore, mails: MailCatcher
) -> None:
    """New, pending, subscribed, unsubscribed and erased addresses get the very same page."""
    emails = {
        "new": "ny@example.no",
        "pending": "venter@example.no",
        "subscribed": "med@example.no",
        "unsubscribed": "av@example.no",
        "erased": "slettet@example.no",
    }
    store.add(emails["pending"], actor="test", status="pending")
    store.add(emails["subscribed"], actor="test")
    store.add(emails["unsubscribed"], actor="test")
    store.unsubscribe(emails["unsubscribed"], actor="test", source="link")
    store.add(emails["erased"], actor="test")
    store.erase(emails["erased"], actor="test")

    pages = {}
    for state, email in emails.items():
        answer = sign_up(client, email=email)
        assert answer.status_code == 200, state
        pages[state] = (answer.text.replace(email, "ADDRESS"), answer.headers.get("set-cookie"))
    assert len(set(pages.values())) == 1, "the answer differs by what the list holds"

    assert store.get(emails["subscribed"]).status == "subscribed"  # type: ignore[union-attr]
    assert store.get(emails["unsubscribed"]).status == "pending"  # type: ignore[union-attr]
    assert store.get(emails["erased"]) is None  # erased addresses are never stored again
    sent = {mail.to: mail for mail in mails.sent}
    assert emails["erased"] not in sent  # and never emailed
    assert "/confirm/" in sent[emails["unsubscribed"]].body  # only a fresh confirmation counts
    assert "står allerede på listen" in sent[emails["subscribed"]].body
    assert "/preferences/" in sent[emails["subscribed"]].body


def test_script_tags_are_shown_as_text_everywhere(
    client: TestClient, store: ContactStore, mails: MailCatcher
) -> None:
    script = "<script>alert(1)</script>"
    answer = sign_up(client, email=f"{script}@example.no", name=script, organisation=script)
    assert answer.status_code == 400
    assert "<script>alert" not in answer.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in answer.text
    assert "Dette ser ikke ut som en e-postadresse" in answer.text
    assert store.get(f"{script}@example.no") is None
    assert mails.sent == []

    sign_up(client, name=script)  # a valid sign-up whose name is markup: kept as text
    contact = store.get(ADDRESS)
    assert contact is not None and contact.name == script
    page = client.get(mails.link())
    assert "<script>" not in page.text


def test_a_10000_character_name_is_refused_with_a_clear_message(
    client: TestClient, store: ContactStore, mails: MailCatcher
) -> None:
    answer = sign_up(client, name="x" * 10_000, organisation="o" * 201)
    assert answer.status_code == 400
    assert "For langt: høyst 200 tegn (du skrev 10000)" in answer.text
    assert "For langt: høyst 200 tegn (du skrev 201)" in answer.text
    assert "x" * 201 not in answer.text  # shown back shortened
    assert store.get(ADDRESS) is None and mails.sent == []


def test_a_body_over_the_limit_is_refused_before_it_is_read(make_client: Client) -> None:
    client = make_client()
    token = csrf(client.get("/subscribe"))
    answer = client.post("/subscribe", data={"csrf_token": token, "name": "x" * 100_000})
    assert answer.status_code == 413
    assert "For mye tekst" in answer.text and "64 kB" in answer.text


def test_bad_fields_are_each_explained(client: TestClient, mails: MailCatcher) -> None:
    answer = sign_up(client, email="", topics=["nyhetsbrev", "spam"], language="de", consent=None)
    assert answer.status_code == 400
    for message in (
        "Skriv e-postadressen din.",
        "Velg minst ett tema.",
        "Velg et av språkene i listen.",
        "Du må krysse av for samtykke",
    ):
        assert message in answer.text
    assert 'aria-invalid="true"' in answer.text
    assert mails.sent == []


def test_control_characters_and_direction_overrides_are_refused(
    client: TestClient, mails: MailCatcher
) -> None:
    answer = sign_up(client, name="Kari\u202eon\u202c", organisation="a\x00b")
    assert answer.status_code == 400
    assert answer.text.count("Feltet inneholder tegn som ikke kan brukes.") >= 2
    assert mails.sent == []


def test_a_wrong_or_missing_csrf_token_changes_nothing(
    client: TestClient, store: ContactStore, mails: MailCatcher, make_client: Client
) -> None:
    good = csrf(client.get("/subscribe"))
    fields = {"email": ADDRESS, "topics": "nyhetsbrev", "language": "nb", "consent": "yes"}
    assert client.post("/subscribe", data=fields).status_code == 403
    assert client.post("/subscribe", data={**fields, "csrf_token": "x" * 64}).status_code == 403
    other = make_client()  # another browser: its own cookie, so this token is worthless
    assert other.post("/subscribe", data={**fields, "csrf_token": good}).status_code == 403
    client.cookies.clear()  # the token without its cookie
    answer = client.post("/subscribe", data={**fields, "csrf_token": good})
    assert answer.status_code == 403 and "Skjemaet er utløpt" in answer.text
    assert store.get(ADDRESS) is None and mails.sent == []


def test_the_honeypot_gets_the_usual_answer_and_nothing_else(
    client: TestClient, store: ContactStore, mails: MailCatcher
) -> None:
    answer = sign_up(client, website="https://spam.example")
    assert answer.status_code == 200 and "Sjekk e-posten din" in answer.text
    assert store.get(ADDRESS) is None and mails.sent == []


def test_a_flood_of_sign_ups_hits_the_rate_limit(make_client: Client, mails: MailCatcher) -> None:
    client = make_client()
    answers = [sign_up(client, email=f"flood{n}@example.no") for n in range(8)]
    assert [a.status_code for a in answers] == [200] * 5 + [429] * 3
    limited = answers[-1]
    assert "For mange forsøk" in limited.text and "Prøv igjen om 10 minutter" in limited.text
    assert 590 <= int(limited.headers["retry-after"]) <= 600
    assert len(mails.sent) == 5
    neighbour = make_client(client=("198.51.100.9", 40000))
    assert sign_up(neighbour, email="neighbour@example.no").status_code == 200


def test_forwarded_for_counts_only_from_a_trusted_proxy(make_client: Client) -> None:
    limits = Limits(subscribe_per_client=1)
    spoofing = make_client(limits=limits)
    first = sign_up(spoofing, email="a@example.no")
    forged = {"X-Forwarded-For": "192.0.2.44"}
    spoofing.headers.update(forged)
    assert first.status_code == 200
    assert sign_up(spoofing, email="b@example.no").status_code == 429  # the header is ignored

    proxied = make_client(limits=limits, trusted=("10.0.0.0/8",), client=("10.1.2.3", 443))
    for n, visitor in enumerate(("192.0.2.1", "192.0.2.2")):
        proxied.headers["X-Forwarded-For"] = f"{visitor}, 10.0.0.7"
        assert sign_up(proxied, email=f"v{n}@example.no").status_code == 200
    assert sign_up(proxied, email="again@example.no").status_code == 429


def test_too_many_mails_to_one_address_are_held_back(
    make_client: Client, mails: MailCatcher
) -> None:
    """Sign-ups from many addresses cannot turn the app into a mail bomb against one person."""
    client = make_client(
        limits=Limits(mails_per_address=2), trusted=("10.0.0.1",), client=("10.0.0.1", 1)
    )
    for n, spelling in enumerate(["target@example.no", "Target@Example.NO"] * 2):
        client.headers["X-Forwarded-For"] = f"198.51.100.{n + 1}"
        assert sign_up(client, email=spelling).status_code == 200
    assert len(mails.sent) == 2


def test_pages_follow_the_readers_language(make_client: Client) -> None:
    client = make_client()
    english = client.get("/subscribe?lang=en")
    assert '<html lang="en">' in english.text and "Subscribe to the newsletter" in english.text
    nynorsk = client.get("/subscribe", headers={"Accept-Language": "nn-NO,nb;q=0.8,en;q=0.5"})
    assert '<html lang="nn">' in nynorsk.text and "Meld deg på nyheitsbrevet" in nynorsk.text
    unknown = client.get("/subscribe", headers={"Accept-Language": "de-DE,fr;q=0.9"})
    assert '<html lang="nb">' in unknown.text
    assert 'action="/subscribe?lang=en"' in english.text  # the answer keeps the language
    answer = sign_up(client, "/subscribe?lang=en", consent=None)
    assert "Tick the consent box" in answer.text


def test_a_secure_site_uses_a_host_only_secure_cookie(make_client: Client) -> None:
    client = make_client(base_url="https://nyhetsbrev.example.org")
    cookie = client.get("/subscribe").headers["set-cookie"]
    assert cookie.startswith("__Host-nyhetsbrev-csrf=")
    assert "Secure" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie


def test_two_sign_ups_of_one_new_address_at_once_make_one_contact(
    client: TestClient, store: ContactStore, mails: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The loser of the race to insert the address signs up the winner's pending contact."""
    import sqlalchemy as sa

    real = store.subscribe_pending
    calls: list[str] = []

    def racing(email: str, **kwargs: object) -> object:
        calls.append(email)
        if len(calls) == 1:
            real(email, **kwargs)  # type: ignore[arg-type]
            raise sa.exc.IntegrityError("INSERT", {}, Exception("duplicate key"))
        return real(email, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "subscribe_pending", racing)
    assert sign_up(client).status_code == 200
    contact = store.get(ADDRESS)
    assert contact is not None and contact.status == "pending" and len(calls) == 2
    assert len(mails.sent) == 1
