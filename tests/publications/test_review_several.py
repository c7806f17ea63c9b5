"""Several publications served at once: no redirect is built from the Host header (issue 15,
finding 5, for the parent app that mounts each publication under /<name>/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from nyhetsbrev.web.several import create_served_app
from nyhetsbrev.workspace import Workspace
from tests.web.conftest import MailCatcher


@pytest.fixture(autouse=True)
def secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", "publication-tests-secret-0123456789abcdef")


def test_no_redirect_or_link_comes_from_the_host_header(two: Path, cli: Any) -> None:
    for name in ("kom", "lans"):
        (two / "contacts" / name).mkdir(parents=True)
    app = create_served_app(Workspace.find_root().each(), mailer=MailCatcher())
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as client:
        for path in ("/kom", "/lans", "/a/b/", "/kom/a/b/", "//evil.example/x"):
            answer = client.get(f"http://testserver{path}", headers={"Host": "evil.example"})
            location = answer.headers.get("location", "")
            assert "evil.example" not in location, (path, location)
            assert 'href="//' not in answer.text, path
        assert client.get("/kom").headers["location"] == "/kom/"
