"""`nyhetsbrev migrate`: KOM's one-publication workspace moved into newsletters/kom/, a second
publication next to it, and the links already sent still working."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from nyhetsbrev.contacts import tokens
from nyhetsbrev.contacts.store import open_store
from nyhetsbrev.web.several import create_served_app
from nyhetsbrev.workspace import Workspace
from tests.publications.conftest import BASE, SV_NAME, SV_TITLE, set_public_url
from tests.web.conftest import MailCatcher

TOPICS = ("nyhetsbrev", "rettsavgjorelser", "tilstandsrapport")


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "migrate-tests-secret-0123456789abcdef")


def test_migrate_then_a_second_publication(workspace: Path, cli, tmp_path: Path) -> None:
    assert cli("build", "2024-q4").exit_code == 0
    store = open_store(f"sqlite:///{workspace}/contacts/contacts.sqlite", topics=TOPICS)
    kari = store.add("kari@example.no", actor="test").id
    store.close()
    sent = tokens.make_token("unsubscribe", kari)  # in an email sent before the move

    result = cli("migrate")
    assert result.exit_code == 0, result.output
    assert "Moved the publication kom into newsletters/kom/" in result.output
    assert (workspace / "newsletters/kom/publication.yaml").is_file()
    assert (workspace / "newsletters/kom/2024-q4/issue.yaml").is_file()
    assert (workspace / "newsletters/kom/issue.schema.json").is_file()
    assert (workspace / "build/kom/2024-q4/index.html").is_file()
    assert (workspace / "contacts/kom/contacts.sqlite").is_file()
    assert not (workspace / "newsletters/kom.yaml").exists()
    masthead = (workspace / "newsletters/kom/publication.yaml").read_text("utf-8")
    assert f"public_url: {BASE}/kom\n" in masthead
    assert cli("migrate").exit_code == 1  # nothing left to migrate

    made = cli("init", str(tmp_path / "sv"), "--language", "sv", "--name", SV_NAME,
               "--title", SV_TITLE)  # fmt: skip
    assert made.exit_code == 0, made.output
    shutil.copytree(tmp_path / "sv/newsletters", workspace / "newsletters/lans")
    set_public_url(workspace / "newsletters/lans/publication.yaml", f"{BASE}/lans")
    (workspace / "contacts/lans").mkdir()
    for name in ("kom", "lans"):
        built = cli("--publication", name, "build", "2024-q4")
        assert built.exit_code == 0, built.output

    app = create_served_app(Workspace.find_root().each(), mailer=MailCatcher())
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        # The old addresses: the web edition moved (308), the personal links answered in place.
        assert client.get("/2024-q4/").headers["location"] == "/kom/2024-q4/"
        assert client.get("/feed.xml").headers["location"] == "/kom/feed.xml"
        assert client.post(f"/lans/unsubscribe/{sent}").status_code == 400  # not theirs
        done = client.post(f"/unsubscribe/{sent}", data={"List-Unsubscribe": "One-Click"})
        assert done.status_code == 200, done.text
        assert SV_TITLE in client.get("/lans/").text
    store = open_store(f"sqlite:///{workspace}/contacts/kom/contacts.sqlite", topics=TOPICS)
    try:
        contact = store.get("kari@example.no")
        assert contact is not None and contact.status == "unsubscribed"
    finally:
        store.close()
    # KOM's links stay signed as before the move; the new publication's are its own.
    kom, lans = Workspace.find_root().each()
    assert kom.token_scope is None and lans.token_scope == "lans"


def test_migrate_refuses_two_publication_files(workspace: Path, cli) -> None:
    shutil.copyfile(workspace / "newsletters/kom.yaml", workspace / "newsletters/other.yaml")
    assert "several publication files" in cli("check", "2024-q4").output
    result = cli("migrate")
    assert result.exit_code == 1
    assert "exactly one publication file" in result.output
    assert (workspace / "newsletters/kom.yaml").is_file()
