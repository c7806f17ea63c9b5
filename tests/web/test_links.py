"""The personal links of every email: unsubscribe (RFC 8058 one-click) and preferences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from starlette.testclient import TestClient
from tests.web.conftest import SECRET, csrf

from nyhetsbrev.contacts.model import Contact
from nyhetsbrev.contacts.store import ContactStore
from nyhetsbrev.contacts.tokens import make_token

ONE_CLICK = {"List-Unsubscribe": "One-Click"}


@pytest.fixture
def kari(store: ContactStore) -> Contact:
    return store.add(
        "kari@example.no", actor="test", name="Kari", topics=["nyhetsbrev", "rettsavgjorelser"]
    )


def token(purpose: str, contact: Contact | int, **kwargs: object) -> str:
    number = contact if isinstance(contact, int) else contact.id
    return make_token(purpose, number, **kwargs)  # type: ignore[arg-type]


def kinds(store: ContactStore, contact: Contact) -> list[str]:
    return [event.kind for event in store.events(contact.id)]


def test_get_and_head_show_a_button_and_change_nothing(
    client: TestClient, store: ContactStore, kari: Contact
) -> None:
    link = f"/unsubscribe/{token('unsubscribe', kari)}"
    for _ in range(3):
        assert client.head(link).status_code == 200
        page = client.get(link)
        assert page.status_code == 200
    assert "Meld deg av" in page.text and "kari@example.no" in page.text
    assert f'action="{link}?lang=nb"' in page.text and "<button" in page.text
    assert page.headers["x-robots-tag"] == "noindex, nofollow"
    assert store.get_by_id(kari.id).status == "subscribed"  # type: ignore[union-attr]
    assert kinds(store, kari) == ["subscribed"]


def test_one_click_post_works_without_cookie_token_or_redirect(
    client: TestClient, store: ContactStore, kari: Contact
) -> None:
    """RFC 8058: what a mail client sends for the List-Unsubscribe-Post button."""
    link = f"/unsubscribe/{token('unsubscribe', kari)}"
    client.cookies.clear()
    answer = client.post(link, data=ONE_CLICK)
    assert answer.status_code == 200
    assert "location" not in answer.headers and "set-cookie" not in answer.headers
    assert "Du er meldt av" in answer.text
    assert store.get_by_id(kari.id).status == "unsubscribed"  # type: ignore[union-attr]
    (event,) = [e for e in store.events(kari.id) if e.kind == "unsubscribed"]
    assert event.detail == "link: one-click (RFC 8058)"

    again = client.post(link, data=ONE_CLICK)  # twice is fine, and changes nothing more
    assert again.status_code == 200 and "Du er meldt av" in again.text
    assert kinds(store, kari) == ["subscribed", "unsubscribed"]


def test_one_click_as_multipart_form_data(
    client: TestClient, store: ContactStore, kari: Contact
) -> None:
    link = f"/unsubscribe/{token('unsubscribe', kari)}"
    answer = client.post(link, files={"List-Unsubscribe": (None, "One-Click")})
    assert answer.status_code == 200
    assert store.get_by_id(kari.id).status == "unsubscribed"  # type: ignore[union-attr]


def test_the_button_unsubscribes_and_records_the_web_form(
    client: TestClient, store: ContactStore, kari: Contact
) -> None:
    link = f"/unsubscribe/{token('unsubscribe', kari)}"
    form = client.get(link)
    answer = client.post(f"{link}?lang=en", data={"via": "button", "csrf_token": csrf(form)})
    assert answer.status_code == 200 and "You are unsubscribed" in answer.text
    (event,) = [e for e in store.events(kari.id) if e.kind == "unsubscribed"]
    assert event.detail == "web-form: button" and event.actor == "web"
    page = client.get(link)  # afterwards the link says so, and offers no button
    assert "Du er meldt av" in page.text and "<button" not in page.text


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_forged_altered_and_wrong_purpose_tokens_change_nothing(
    client: TestClient, store: ContactStore, kari: Contact, method: str
) -> None:
    good = token("unsubscribe", kari)
    altered = good[:-2] + ("AA" if not good.endswith("AA") else "BB")
    other_key = make_token("unsubscribe", kari.id, key=b"k" * 32)
    someone_else = token("unsubscribe", kari.id + 1)[:-3] + good[-3:]
    for bad in (altered, other_key, someone_else, token("confirm", kari), "x" * 30, "%00"):
        answer = client.request(method, f"/unsubscribe/{bad}", data=ONE_CLICK)
        assert answer.status_code == 400, bad
        if method != "HEAD":
            assert "Lenken virker ikke" in answer.text
    assert store.get_by_id(kari.id).status == "subscribed"  # type: ignore[union-attr]
    assert kinds(store, kari) == ["subscribed"]


def test_a_link_for_someone_no_longer_on_the_list(client: TestClient, store: ContactStore) -> None:
    gone = store.add("borte@example.no", actor="test")
    store.erase("borte@example.no", actor="test")
    link = f"/unsubscribe/{token('unsubscribe', gone)}"
    assert client.get(link).status_code == 404
    answer = client.post(link, data=ONE_CLICK)  # the mail client still gets its 200
    assert answer.status_code == 200 and "står ikke" in answer.text


def test_many_one_click_posts_for_one_contact_apply_once(
    client: TestClient, store: ContactStore, kari: Contact
) -> None:
    link = f"/unsubscribe/{token('unsubscribe', kari)}"
    assert {client.post(link, data=ONE_CLICK).status_code for _ in range(5)} == {200}
    assert kinds(store, kari).count("unsubscribed") == 1


def test_preferences_show_and_save_topics_and_language(
    client: TestClient, store: ContactStore, kari: Contact
) -> None:
    link = f"/preferences/{token('preferences', kari)}"
    page = client.get(link)
    assert page.status_code == 200
    assert 'value="nyhetsbrev" checked' in page.text
    assert 'value="rettsavgjorelser" checked' in page.text
    assert 'value="tilstandsrapport">' in page.text
    assert "/unsubscribe/" in page.text  # and a way out

    saved = client.post(
        link,
        data={"csrf_token": csrf(page), "topics": ["tilstandsrapport"], "language": "en"},
    )
    assert saved.status_code == 200
    assert "Your settings have been saved." in saved.text  # now in the chosen language
    contact = store.get_by_id(kari.id)
    assert contact is not None
    assert contact.topics == ("tilstandsrapport",) and contact.language == "en"
    assert contact.status == "subscribed"


def test_preferences_need_the_form_token_and_valid_choices(
    client: TestClient, store: ContactStore, kari: Contact
) -> None:
    link = f"/preferences/{token('preferences', kari)}"
    page = client.get(link)
    wrong = client.post(link, data={"topics": ["tilstandsrapport"], "language": "nb"})
    assert wrong.status_code == 403
    for data in ({"language": "nb"}, {"topics": ["nope"], "language": "nb"}):
        answer = client.post(link, data={"csrf_token": csrf(page), **data})
        assert answer.status_code == 400 and "Velg minst ett tema." in answer.text
    answer = client.post(
        link, data={"csrf_token": csrf(page), "topics": ["nyhetsbrev"], "language": "xx"}
    )
    assert answer.status_code == 400 and "Velg et av språkene" in answer.text
    unchanged = store.get_by_id(kari.id)
    assert unchanged is not None and unchanged.topics == ("nyhetsbrev", "rettsavgjorelser")


def test_preferences_of_an_unsubscribed_contact_say_so(
    client: TestClient, store: ContactStore, kari: Contact
) -> None:
    store.unsubscribe(kari.id, actor="test", source="link")
    page = client.get(f"/preferences/{token('preferences', kari)}")
    assert "får ingen e-post fra oss nå (meldt av)" in page.text
    assert "/unsubscribe/" not in page.text


def test_an_expiring_preferences_link_expires(
    client: TestClient, store: ContactStore, kari: Contact
) -> None:
    past = datetime.now(UTC) - timedelta(seconds=1)
    page = client.get(f"/preferences/{token('preferences', kari, expires=past)}")
    assert page.status_code == 400 and "Lenken er for gammel" in page.text


def test_tokens_are_signed_with_the_shared_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The app reads the key the senders use: a link made by `send` works here."""
    from nyhetsbrev.contacts.tokens import read_token

    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", SECRET)
    assert read_token(make_token("unsubscribe", 42), "unsubscribe") == 42
