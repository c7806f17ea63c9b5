"""The public archive and feed, the security headers on every route, and the error pages."""

from __future__ import annotations

import base64
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from starlette.testclient import TestClient
from tests.web.conftest import Client

ATOM = "{http://www.w3.org/2005/Atom}"
PDF = "kom-nyhetsbrev-2024-q4.pdf"


@pytest.fixture
def built(workspace: Path, cli: Callable[..., Result]) -> Path:
    result = cli("build", "2024-q4")
    assert result.exit_code == 0, result.output
    return workspace / "build"


@pytest.fixture
def site(make_client: Client) -> TestClient:
    return make_client()


def test_security_headers_on_every_route(site: TestClient, built: Path) -> None:
    paths = [
        "/",
        "/index.html",
        "/feed.xml",
        "/robots.txt",
        "/healthz",
        "/static/site.css",
        "/static/theme.css",
        "/subscribe",
        "/2024-q4/",
        f"/2024-q4/{PDF}",
        "/confirm/xyz",
        "/unsubscribe/xyz",
        "/preferences/xyz",
        "/nope",
        "/2024-q4/email.html",
    ]
    for path in paths:
        answer = site.get(path)
        headers = answer.headers
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "no-referrer", path
        assert headers["x-frame-options"] == "DENY", path
        assert "camera=()" in headers["permissions-policy"], path
        csp = headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        script = re.search(r"script-src ([^;]+)", csp)
        assert script and "unsafe-inline" not in script.group(1), path
        if answer.headers.get("content-type", "").startswith("text/html"):
            assert "<script" not in answer.text, path
    assert site.post("/subscribe", data={}).headers["x-frame-options"] == "DENY"


def test_the_archive_serves_what_build_published(site: TestClient, built: Path) -> None:
    home = site.get("/")
    assert home.status_code == 200
    assert home.text == (built / "index.html").read_text(encoding="utf-8")
    assert 'href="2024-q4/index.html"' in home.text

    edition = site.get("/2024-q4/")
    assert edition.status_code == 200
    assert edition.text == (built / "2024-q4" / "index.html").read_text(encoding="utf-8")
    assert site.get("/2024-q4/index.html").text == edition.text
    # Its own <style> is allowed by hash, and nothing else inline.
    style = re.search(r"<style>(.*?)</style>", edition.text, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    csp = edition.headers["content-security-policy"]
    assert f"'sha256-{digest}'" in csp and "script-src 'none'" in csp
    assert "unsafe-inline" not in csp

    pdf = site.get(f"/2024-q4/{PDF}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert site.head(f"/2024-q4/{PDF}").status_code == 200

    again = site.get("/2024-q4/", headers={"If-None-Match": edition.headers["etag"]})
    assert again.status_code == 304 and again.content == b""

    redirect = site.get("/2024-q4")
    assert redirect.status_code == 308 and redirect.headers["location"] == "/2024-q4/"


@pytest.mark.parametrize(
    "path",
    [
        "/2024-q4/email.html",  # for sending, with its placeholders: never published
        "/2024-q4/email.txt",
        "/2024-q4/meta.json",
        "/2024-q4/..%2Findex.html",
        "/2024-q4/.hidden.pdf",
        "/..%2F..%2Fnewsletters/kom.yaml",
        "/2025-q1/",
        "/2024-q9/",
        "/newsletters/",
        "/2024-q4/%2e%2e/%2e%2e/newsletters/kom.yaml",
    ],
)
def test_nothing_else_in_build_or_the_workspace_is_public(
    site: TestClient, built: Path, path: str
) -> None:
    (built / "2024-q4" / ".hidden.pdf").write_bytes(b"%PDF-secret")
    answer = site.get(path)
    assert answer.status_code == 404
    assert "Siden finnes ikke" in answer.text


def test_the_feed_lists_issues_with_period_and_web_address(site: TestClient, built: Path) -> None:
    answer = site.get("/feed.xml")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/atom+xml; charset=utf-8"
    feed = ET.fromstring(answer.content)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}title") == "Nyhetsbrev fra KOM"
    assert feed.findtext(f"{ATOM}id") == "https://nyhetsbrev.example.org/"
    (entry,) = feed.findall(f"{ATOM}entry")
    assert entry.findtext(f"{ATOM}title") == "Nyhetsbrev fra KOM, oktober–desember 2024"
    assert entry.findtext(f"{ATOM}id") == "https://nyhetsbrev.example.org/2024-q4/"
    links = {link.get("rel"): link.get("href") for link in entry.findall(f"{ATOM}link")}
    assert links["alternate"] == "https://nyhetsbrev.example.org/2024-q4/"
    assert links["enclosure"] == f"https://nyhetsbrev.example.org/2024-q4/{PDF}"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry.findtext(f"{ATOM}updated") or "")
    self_link = feed.find(f"{ATOM}link[@rel='self']")
    assert self_link is not None
    assert self_link.get("href") == "https://nyhetsbrev.example.org/feed.xml"


def test_before_the_first_build(site: TestClient) -> None:
    home = site.get("/")
    assert home.status_code == 200 and "Ingen nyhetsbrev er publisert ennå." in home.text
    feed = ET.fromstring(site.get("/feed.xml").content)
    assert feed.findall(f"{ATOM}entry") == []


def test_small_routes_and_error_pages(site: TestClient) -> None:
    robots = site.get("/robots.txt").text
    assert "Disallow: /unsubscribe/" in robots and "Disallow: /confirm/" in robots
    assert site.get("/healthz").text == "ok\n"
    wrong = site.put("/subscribe")
    assert wrong.status_code == 405 and "Det går ikke an her" in wrong.text
    assert "POST" in wrong.headers["allow"]
    missing = site.get("/nope?lang=en")
    assert missing.status_code == 404 and "Page not found" in missing.text
    assert site.get("/static/preview.js").status_code == 200
    assert site.get("/static/../labels.yaml").status_code == 404
