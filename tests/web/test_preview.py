"""The editor's preview over HTTP: the page, the editions, errors in place, rebuild on save."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from nyhetsbrev.web.preview import create_preview_app
from nyhetsbrev.web.rebuild import Previewer
from nyhetsbrev.workspace import Workspace

ISSUE = "2024-q4"


@pytest.fixture
def preview(workspace: Path) -> Iterator[TestClient]:
    app = create_preview_app(Workspace(workspace), ISSUE, watch=False)
    with TestClient(app, base_url="http://127.0.0.1:8025") as client:
        yield client


def rebuild(client: TestClient) -> None:
    state = client.app.state.preview  # type: ignore[attr-defined]
    state.publish(state.previewer.build())


def issue_file(workspace: Path) -> Path:
    return workspace / "newsletters" / ISSUE / "issue.yaml"


def retitle(workspace: Path, title: str) -> None:
    path = issue_file(workspace)
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"^title: .*\n", "", text, flags=re.M)
    path.write_text(text.replace("\npreheader:", f"\ntitle: {title}\npreheader:", 1), "utf-8")


def test_the_page_shows_every_edition_and_the_findings(preview: TestClient) -> None:
    page = preview.get("/")
    assert page.status_code == 200
    text = page.text
    assert "Forhåndsvisning: <span" in text and "oktober–desember 2024" in text
    assert re.search(r'<iframe src="/email.html\?g=1"[^>]* width="375"', text)
    assert re.search(r'<iframe src="/email.html\?g=1"[^>]* width="640"', text)
    assert '<pre class="plain">' in text and "Utviklingsarbeid i JD" in text  # the text part
    assert 'src="/site/2024-q4/?g=1"' in text and 'src="/edition.pdf?g=1"' in text
    # the check findings, with where they are
    assert "newsletters/2024-q4/issue.yaml:32:26</code>" in text
    assert 'class="level">advarsel' in text
    # the only script is a file of our own, and the CSP forbids any inline one
    assert re.findall(r"<script[^>]*>", text) == ['<script src="/static/preview.js" defer>']
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert page.headers["x-frame-options"] == "DENY"
    assert (
        preview.get("/static/preview.js")
        .headers["content-type"]
        .startswith(("text/javascript", "application/javascript"))
    )


def test_the_editions_are_served_for_the_frames(preview: TestClient) -> None:
    email = preview.get("/email.html")
    assert email.status_code == 200 and "<!doctype html>" in email.text.lower()
    assert email.headers["x-frame-options"] == "SAMEORIGIN"
    csp = email.headers["content-security-policy"]
    assert "sandbox" in csp and "script-src" not in csp and "frame-ancestors 'self'" in csp
    assert 'href="/site/2024-q4/"' in email.text  # the web-edition link stays in the preview

    text = preview.get("/email.txt")
    assert text.headers["content-type"].startswith("text/plain")
    assert "https://nyhetsbrev.example.org/2024-q4/" in text.text  # as readers will get it

    web = preview.get("/site/2024-q4/")
    assert web.status_code == 200 and "<main" in web.text
    assert web.headers["x-frame-options"] == "SAMEORIGIN"
    assert "'sha256-" in web.headers["content-security-policy"]

    pdf = preview.get("/edition.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert pdf.headers["content-type"] == "application/pdf"
    linked = preview.get("/site/2024-q4/kom-nyhetsbrev-2024-q4.pdf")
    assert linked.content == pdf.content  # rendered once per build
    assert preview.get("/site/2024-q3/").status_code == 404
    assert preview.get("/site/2024-q4/../kom.yaml").status_code == 404


def test_a_yaml_error_shows_in_the_page_with_its_place(
    preview: TestClient, workspace: Path
) -> None:
    path = issue_file(workspace)
    good = path.read_text(encoding="utf-8")
    path.write_text(good + 'sections:\n  - title: "never closed\n', encoding="utf-8")
    rebuild(preview)
    page = preview.get("/")
    assert page.status_code == 200
    assert "Nyhetsbrevet kan ikke bygges før feilene under er rettet." in page.text
    lines = len(good.splitlines())
    assert f"newsletters/2024-q4/issue.yaml:{lines + 2}:" in page.text
    assert "quoted text is never closed" in page.text
    assert f'<span class="line marked"><span class="n">{lines + 2}</span>' in page.text
    assert "&#34;never closed" in page.text  # the editor's text, escaped
    assert "<iframe" not in page.text
    assert preview.get("/email.html").status_code == 404

    path.write_text(good, encoding="utf-8")  # fixed: the editions come back
    rebuild(preview)
    assert "<iframe" in preview.get("/").text


def test_markup_in_the_issue_is_shown_as_text(preview: TestClient, workspace: Path) -> None:
    retitle(workspace, '"<script>alert(1)</script>"')
    rebuild(preview)
    page = preview.get("/").text
    assert "<script>alert" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_a_broken_theme_is_reported_not_fatal(preview: TestClient, workspace: Path) -> None:
    local = workspace / "templates" / "kom-local"
    import shutil

    from nyhetsbrev.theme import packaged_theme_path

    shutil.copytree(packaged_theme_path("kom"), local)
    (local / "email.mjml.j2").write_text("{% if %}", encoding="utf-8")
    pub = workspace / "newsletters" / "kom.yaml"
    pub.write_text(pub.read_text("utf-8").replace("theme: kom", "theme: kom-local"), "utf-8")
    rebuild(preview)
    page = preview.get("/").text
    assert "template syntax error" in page and "email.mjml.j2" in page


def test_the_event_stream_announces_builds(preview: TestClient) -> None:
    with preview.stream("GET", "/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        lines = stream.iter_lines()
        assert next(lines) == "retry: 1000"
        assert next(lines) == "event: build"
        assert next(lines) == "data: 1"


def test_the_email_rebuild_is_fast(workspace: Path) -> None:
    previewer = Previewer(Workspace(workspace), ISSUE)
    previewer.build()  # warm: templates compiled, fonts and CSS read
    times = sorted(previewer.build().email_ms for _ in range(5))
    assert times[2] < 250, f"email rebuild takes {times[2]:.0f} ms"


def test_saving_the_issue_rebuilds_by_itself(workspace: Path) -> None:
    """The file watcher runs in the app: a save is picked up without any request."""
    app = create_preview_app(Workspace(workspace), ISSUE)
    with TestClient(app, base_url="http://127.0.0.1:8025") as client:
        time.sleep(0.3)  # let the watcher start
        retitle(workspace, "Lagret på nytt")
        deadline = time.monotonic() + 15
        while "Lagret på nytt" not in client.get("/").text:
            assert time.monotonic() < deadline, "no rebuild after the save"
            time.sleep(0.1)
        assert 'data-generation="1"' not in client.get("/").text


def test_an_unexpected_failure_is_shown_and_the_preview_goes_on(
    preview: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk hiccup")

    monkeypatch.setattr("nyhetsbrev.render.editions.render_email", broken)
    rebuild(preview)
    page = preview.get("/")
    assert page.status_code == 200 and "unexpected RuntimeError: disk hiccup" in page.text
    monkeypatch.undo()
    rebuild(preview)
    assert "<iframe" in preview.get("/").text


def test_the_preview_uses_and_watches_the_publications_own_theme(workspace: Path) -> None:
    """A publication with `theme: egen`: the preview renders with it and watches its folder,
    also while the issue has errors and does not load."""
    import shutil

    from nyhetsbrev.theme import packaged_theme_path

    own = workspace / "templates" / "egen"
    shutil.copytree(packaged_theme_path("kom"), own)
    masthead = workspace / "newsletters" / "kom.yaml"
    text = masthead.read_text("utf-8")
    assert "\ntheme: kom\n" in text
    masthead.write_text(text.replace("\ntheme: kom\n", "\ntheme: egen\n"), "utf-8")
    previewer = Previewer(Workspace(workspace), ISSUE)
    snapshot = previewer.build()
    assert snapshot.ok and snapshot.theme is not None
    assert snapshot.theme.path == own
    path = issue_file(workspace)
    path.write_text(path.read_text("utf-8").replace("preheader:", "preheadr:", 1), "utf-8")
    broken = previewer.build()
    assert broken.loaded is None and broken.theme is None
    folders, relevant = previewer.watched(broken)
    assert own.resolve() in folders and own.resolve() in relevant
