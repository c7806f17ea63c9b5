"""Findings of the outside review against the public app, in process (issue 15: 5, 7)."""

from __future__ import annotations

import re

import pytest
from starlette.testclient import TestClient
from tests.web.conftest import Client, csrf

from nyhetsbrev.contacts.store import ContactStore
from nyhetsbrev.contacts.tokens import make_token

HREF = re.compile(r'(?:href|action)="([^"]*)"')


@pytest.mark.parametrize(
    "path",
    ["//evil.example/x", "///evil.example/x", "/\\evil.example/x", "//evil.example/x/", "/nope"],
)
def test_no_link_on_a_page_points_off_site_whatever_the_path(
    make_client: Client, path: str
) -> None:
    page = make_client().get(f"http://testserver{path}", headers={"Host": "evil.example"})
    assert page.status_code == 404
    assert page.request.url.path == path
    for href in HREF.findall(page.text):
        assert not href.startswith("//") and "evil.example" not in href, href
        assert re.match(r"^(\?|/$|/[^/\\]|https://nyhetsbrev\.example\.org/|mailto:|#)", href), href


@pytest.mark.parametrize("path", ["/2024-q4/a/", "/static/x/", "/a/b/c/", "/feed.xml/"])
def test_no_redirect_is_built_from_the_host_header(make_client: Client, path: str) -> None:
    answer = make_client().get(f"http://testserver{path}", headers={"Host": "evil.example"})
    location = answer.headers.get("location", "")
    assert "evil.example" not in location and not location.startswith("http://"), location


def test_the_issue_redirect_is_a_relative_path(make_client: Client, workspace: object) -> None:
    client = make_client()
    built = client.app.state.site.archive.build_dir  # type: ignore[attr-defined]
    (built / "2024-q4").mkdir(parents=True, exist_ok=True)
    (built / "2024-q4" / "index.html").write_text("<html></html>", "utf-8")
    answer = client.get("/2024-q4", headers={"Host": "evil.example"})
    assert answer.status_code == 308 and answer.headers["location"] == "/2024-q4/"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"foo=bar", "application/x-www-form-urlencoded"),
        (b"", "application/x-www-form-urlencoded"),
        (b"", None),
        (b"List-Unsubscribe=One-Click", "text/plain"),
        (b"List-Unsubscribe=one-click", "application/x-www-form-urlencoded"),
        (b"List-Unsubscribe=One-Click&x=1", "application/x-www-form-urlencoded"),
        (b"via=button", "application/x-www-form-urlencoded"),  # the button without its token
        (b"via=button&csrf_token=forged", "application/x-www-form-urlencoded"),
    ],
)
def test_an_unsubscribe_post_with_another_body_is_refused_and_changes_nothing(
    client: TestClient, store: ContactStore, body: bytes, content_type: str | None
) -> None:
    kari = store.add("kari@example.no", actor="test")
    link = f"/unsubscribe/{make_token('unsubscribe', kari.id)}"
    headers = {"Content-Type": content_type} if content_type else {}
    client.get(link)  # the browser holds its CSRF cookie
    answer = client.post(link, content=body, headers=headers)
    assert answer.status_code == 400
    assert store.get_by_id(kari.id).status == "subscribed"  # type: ignore[union-attr]


def test_the_unsubscribe_page_posts_its_own_csrf_token(
    client: TestClient, store: ContactStore
) -> None:
    kari = store.add("kari@example.no", actor="test")
    link = f"/unsubscribe/{make_token('unsubscribe', kari.id)}"
    page = client.get(link)
    answer = client.post(f"{link}?lang=nb", data={"csrf_token": csrf(page), "via": "button"})
    assert answer.status_code == 200
    assert store.get_by_id(kari.id).status == "unsubscribed"  # type: ignore[union-attr]
