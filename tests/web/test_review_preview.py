"""The preview answers only its own loopback names as Host (review finding 10: DNS rebinding)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from nyhetsbrev.web.preview import create_preview_app
from nyhetsbrev.workspace import Workspace

PATHS = ["/", "/events", "/email.html", "/email.txt", "/edition.pdf", "/static/preview.js"]


@pytest.fixture
def preview(workspace: Path) -> Iterator[TestClient]:
    app = create_preview_app(Workspace(workspace), "2024-q4", watch=False)
    with TestClient(app, base_url="http://127.0.0.1:8025") as client:
        yield client


@pytest.mark.parametrize("path", [*PATHS, "/site/2024-q4/", "/site/2024-q4/index.html"])
@pytest.mark.parametrize(
    "host",
    ["evil.example", "evil.example:8025", "127.0.0.1.evil.example", "localhost.evil", "", "[::2]"],
)
def test_a_foreign_host_gets_nothing(preview: TestClient, path: str, host: str) -> None:
    answer = preview.get(path, headers={"Host": host})
    assert answer.status_code == 400, (path, host)
    assert "Forhåndsvisning" not in answer.text and "KOM" not in answer.text


@pytest.mark.parametrize(
    "host", ["localhost", "localhost:8025", "127.0.0.1", "127.0.0.1:8025", "[::1]", "[::1]:8025"]
)
def test_the_loopback_names_are_served(preview: TestClient, host: str) -> None:
    answer = preview.get("/email.txt", headers={"Host": host})
    assert answer.status_code == 200, host
