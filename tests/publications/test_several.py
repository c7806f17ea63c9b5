"""Two publications in one workspace: each its own build, archive, feed, sign-up and contacts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from nyhetsbrev.contacts.store import open_store
from nyhetsbrev.errors import WorkspaceError
from nyhetsbrev.web.several import create_served_app
from nyhetsbrev.workspace import Workspace
from tests.publications.conftest import BASE, SV_TITLE
from tests.web.conftest import MailCatcher, csrf

KOM_TITLE = "Nyhetsbrev fra KOM"


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "publication-tests-secret-0123456789abcdef")


def test_commands_need_a_publication_when_there_are_several(two: Path, cli) -> None:
    result = cli("check", "2024-q4")
    assert result.exit_code == 1
    assert "several publications (kom, lans)" in result.output
    assert "--publication" in result.output
    wrong = cli("--publication", "other", "check", "2024-q4")
    assert wrong.exit_code == 1 and "kom, lans" in wrong.output
    assert cli("--publication", "lans", "check", "2024-q4").exit_code == 0
    env = cli("check", "2024-q4", env={"NYHETSBREV_PUBLICATION": "kom"})
    assert env.exit_code == 0, env.output


def test_each_publication_builds_apart(two: Path, cli) -> None:
    for name in ("kom", "lans"):
        result = cli("--publication", name, "build", "2024-q4")
        assert result.exit_code == 0, result.output
    kom = (two / "build/kom/2024-q4/index.html").read_text("utf-8")
    lans = (two / "build/lans/2024-q4/index.html").read_text("utf-8")
    assert KOM_TITLE in kom and SV_TITLE not in kom and 'lang="nb"' in kom
    assert SV_TITLE in lans and "KOM" not in lans and 'lang="sv"' in lans
    kom_archive = (two / "build/kom/index.html").read_text("utf-8")
    lans_archive = (two / "build/lans/index.html").read_text("utf-8")
    assert KOM_TITLE in kom_archive and SV_TITLE not in kom_archive
    assert SV_TITLE in lans_archive and "KOM" not in lans_archive
    assert not (two / "build/2024-q4").exists()


def test_each_contact_list_is_its_own(two: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = Workspace.find_root()
    kom, lans = root.each()
    assert kom.database_url().endswith("contacts/kom/contacts.sqlite")
    assert lans.database_url().endswith("contacts/lans/contacts.sqlite")
    monkeypatch.setenv("NYHETSBREV_DATABASE_URL_LANS", "sqlite:///elsewhere.sqlite")
    assert lans.database_url() == "sqlite:///elsewhere.sqlite"
    monkeypatch.setenv("NYHETSBREV_DATABASE_URL", "sqlite:///shared.sqlite")
    with pytest.raises(WorkspaceError, match="NYHETSBREV_DATABASE_URL_KOM"):
        kom.database_url()


def test_serve_gives_each_its_archive_feed_and_sign_up(two: Path, cli) -> None:
    for name in ("kom", "lans"):
        assert cli("--publication", name, "build", "2024-q4").exit_code == 0
    for name in ("kom", "lans"):
        (two / "contacts" / name).mkdir(parents=True)
    mails = MailCatcher()
    app = create_served_app(Workspace.find_root().each(), mailer=mails)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        index = client.get("/")
        assert 'href="/kom/"' in index.text and 'href="/lans/"' in index.text
        kom_home, lans_home = client.get("/kom/"), client.get("/lans/")
        assert KOM_TITLE in kom_home.text and SV_TITLE not in kom_home.text
        assert SV_TITLE in lans_home.text and "KOM" not in lans_home.text
        assert client.get("/lans/2024-q4").headers["location"] == "/lans/2024-q4/"
        kom_feed, lans_feed = client.get("/kom/feed.xml"), client.get("/lans/feed.xml")
        assert f"{BASE}/kom/2024-q4/" in kom_feed.text and "/lans/" not in kom_feed.text
        assert f"{BASE}/lans/2024-q4/" in lans_feed.text and "/kom/" not in lans_feed.text

        form = client.get("/lans/subscribe")
        # (the pages' own language follows h12a's Swedish labels; here: whose page it is)
        assert form.status_code == 200 and SV_TITLE in form.text and "KOM" not in form.text
        assert 'action="/lans/subscribe?lang=' in form.text
        assert 'href="/lans/static/theme.css"' in form.text
        assert client.get("/lans/static/theme.css").status_code == 200
        answer = client.post(
            "/lans/subscribe",
            data={
                "csrf_token": csrf(form), "email": "anna@example.se", "name": "Anna",
                "organisation": "", "topics": ["nyhetsbrev"], "language": "nb",
                "consent": "yes", "website": "",
            },
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        (mail,) = mails.sent
        assert SV_TITLE in mail.subject
        link = re.search(rf"{re.escape(BASE)}(/lans/confirm/\S+)", mail.body)
        assert link, mail.body
        token = link.group(1).rsplit("/", 1)[1]
        # A link of one publication means nothing to the other (their contact ids overlap).
        assert client.get(f"/kom/confirm/{token}").status_code == 400
        page = client.get(link.group(1))
        assert page.status_code == 200
        done = client.post(link.group(1), data={"csrf_token": csrf(page)})
        assert done.status_code == 200

        form = client.get("/kom/subscribe")
        assert KOM_TITLE in form.text and SV_TITLE not in form.text
        answer = client.post(
            "/kom/subscribe",
            data={
                "csrf_token": csrf(form), "email": "kari@example.no", "name": "Kari",
                "organisation": "", "topics": ["rettsavgjorelser"], "language": "nb",
                "consent": "yes", "website": "",
            },
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        assert KOM_TITLE in mails.sent[-1].subject
        assert f"{BASE}/kom/confirm/" in mails.sent[-1].body
    lans_store = open_store(f"sqlite:///{two}/contacts/lans/contacts.sqlite")
    kom_store = open_store(f"sqlite:///{two}/contacts/kom/contacts.sqlite")
    try:
        contact = lans_store.get("anna@example.se")
        assert contact is not None and contact.status == "subscribed"
        assert kom_store.get("anna@example.se") is None
        kari = kom_store.get("kari@example.no")
        assert kari is not None and kari.status == "pending"
        assert lans_store.get("kari@example.no") is None
    finally:
        lans_store.close()
        kom_store.close()


def test_serve_refuses_a_public_url_outside_the_publications_path(two: Path) -> None:
    path = two / "newsletters/lans/publication.yaml"
    path.write_text(path.read_text("utf-8").replace(f"{BASE}/lans", BASE), "utf-8")
    with pytest.raises(Exception, match="end public_url with /lans"):
        create_served_app(Workspace.find_root().each(), mailer=MailCatcher())


def test_one_publication_layout_is_unchanged(workspace: Path, cli) -> None:
    ws = Workspace.find()
    assert ws.publication is None and ws.build_dir == workspace / "build"
    assert ws.each() == [ws]
    assert cli("--publication", "kom", "check", "2024-q4").exit_code == 0
    assert cli("--publication", "x", "check", "2024-q4").exit_code == 1
