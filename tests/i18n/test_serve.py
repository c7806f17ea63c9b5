"""Every page of `nyhetsbrev serve` and the preview page, in each of nb, nn, en and sv: the
reader's language chosen from Accept-Language (Babel's negotiation), `lang` on the page, the
masthead in that language, and no label of another language; the sign-up emails too."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from nyhetsbrev.web.preview import create_preview_app
from nyhetsbrev.web.public import create_public_app
from nyhetsbrev.workspace import Workspace
from tests.i18n.catalogue import foreign_labels_in, visible_text
from tests.i18n.workspace import ISSUES, PUBLIC_URL
from tests.web.conftest import MailCatcher, csrf

ACCEPT = {
    "nb": "nb-NO,nb;q=0.9,en;q=0.5",
    "nn": "nn-NO,nn;q=0.9,nb;q=0.7",
    "en": "en-GB,en;q=0.9",
    "sv": "sv-SE,sv;q=0.9,en-US;q=0.7",
}
TITLES = {
    "nb": "Nyhetsbrev fra SRS",
    "nn": "Nyheitsbrev frå SRS",
    "en": "Newsletter from SRS",
    "sv": "Nyhetsbrev från SRS",
}
_PATH = re.compile(r"/(?:confirm|preferences|unsubscribe)/[A-Za-z0-9_.~-]+")


@pytest.fixture
def mails() -> MailCatcher:
    return MailCatcher()


@pytest.fixture
def public(
    languages_ws: Path, mails: MailCatcher, monkeypatch: pytest.MonkeyPatch
) -> Iterator[TestClient]:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "language-tests-secret-key-0123456789abcdef")
    app = create_public_app(
        Workspace(languages_ws),
        mailer=mails,
        database_url=f"sqlite:///{languages_ws / 'contacts' / 'contacts.db'}",
    )
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        yield client


def assert_in_language(text: str, language: str, what: str) -> None:
    assert f'<html lang="{language}">' in text, what
    shown = visible_text(text)
    assert TITLES[language] in shown, f"{what}: the masthead in {language}"
    assert foreign_labels_in(shown, language) == [], f"{what} ({language})"


def _path(text: str, kind: str) -> str:
    found = [p for p in _PATH.findall(text) if p.startswith(f"/{kind}/")]
    assert found, f"no /{kind}/ link in {text[:300]}"
    return found[0]


@pytest.mark.parametrize("language", list(ACCEPT))
def test_every_serve_page_in_the_readers_language(
    public: TestClient, mails: MailCatcher, language: str
) -> None:
    headers = {"Accept-Language": ACCEPT[language]}
    pages: dict[str, str] = {}

    def get(name: str, path: str, status: int = 200) -> Any:
        answer = public.get(path, headers=headers)
        assert answer.status_code == status, (name, answer.text[:500])
        pages[name] = answer.text
        return answer

    get("archive (empty)", "/")
    form = get("subscribe", "/subscribe").text
    assert '<option value="sv" lang="sv"' in form  # the picker offers Swedish
    assert re.search(r'lang="sv" hreflang="sv">Svenska</a>|<strong lang="sv">Svenska', form)
    fields = {
        "csrf_token": csrf(public.get("/subscribe", headers=headers)),
        "email": f"reader.{language}@example.no",
        "topics": ["nyhetsbrev"],
        "language": language,
        "consent": "yes",
        "website": "",
    }
    wrong = public.post("/subscribe", data={**fields, "email": ""}, headers=headers)
    assert wrong.status_code == 400 or wrong.status_code == 200
    pages["subscribe with errors"] = wrong.text
    sent = public.post("/subscribe", data=fields, headers=headers)
    assert sent.status_code == 200, sent.text[:500]
    pages["check your inbox"] = sent.text

    (mail,) = mails.sent
    assert mail.language == language
    assert TITLES[language] in mail.subject and TITLES[language] in mail.body
    assert foreign_labels_in(f"{mail.subject}\n{mail.body}", language) == []

    confirm = _path(mail.body, "confirm")
    page = get("confirm", confirm)
    done = public.post(confirm, data={"csrf_token": csrf(page)}, headers=headers)
    assert done.status_code == 200
    pages["confirmed"] = done.text
    preferences = get("preferences", _path(done.text, "preferences")).text
    unsubscribe = _path(preferences, "unsubscribe")
    page = get("unsubscribe", unsubscribe)
    gone = public.post(
        unsubscribe, data={"via": "button", "csrf_token": csrf(page)}, headers=headers
    )
    assert gone.status_code == 200
    pages["unsubscribed"] = gone.text
    get("not found", "/no/such/page", 404)
    get("invalid link", "/confirm/not-a-token", 400)

    for name, text in pages.items():
        assert_in_language(text, language, name)


def test_the_query_wins_over_the_header_and_an_unknown_language_gets_the_publications(
    public: TestClient,
) -> None:
    page = public.get("/subscribe?lang=sv", headers={"Accept-Language": "en"})
    assert_in_language(page.text, "sv", "?lang=sv")
    page = public.get("/subscribe", headers={"Accept-Language": "fr-FR, de;q=0.5"})
    assert_in_language(page.text, "nb", "French and German")
    page = public.get("/subscribe", headers={"Accept-Language": "no"})
    assert_in_language(page.text, "nb", "no")


@pytest.mark.parametrize("language", list(ISSUES))
def test_the_preview_page_follows_the_issue_language(languages_ws: Path, language: str) -> None:
    app = create_preview_app(Workspace(languages_ws), ISSUES[language], watch=False)
    with TestClient(app, base_url="http://127.0.0.1:8000") as client:
        page = client.get("/")
        refused = client.post("/approve", data={})  # TestClient's peer is not on loopback
    assert refused.status_code == 403
    assert f'<html lang="{language}">' in refused.text
    assert foreign_labels_in(visible_text(refused.text), language) == []
    assert page.status_code == 200
    assert f'<html lang="{language}">' in page.text
    shown = visible_text(page.text)
    assert foreign_labels_in(shown, language) == []
    assert PUBLIC_URL.removeprefix("https://") in page.text  # the text edition is shown
