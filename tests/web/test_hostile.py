"""Hostile requests against the real `nyhetsbrev serve` and `nyhetsbrev preview` processes.

The outside review's probes, replayed on loopback against the commands as an operator starts
them (a subprocess each, on a free port), so the server's own limits are tested along with the
apps: slow headers, silent connections, oversized heads, foreign Host headers, `//evil` paths,
and unsubscribe POSTs with the wrong body. Every loop is bounded in count and in time.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from tests.conftest import REPO
from tests.web.conftest import free_port
from tests.web.slowloris import closed_within

from nyhetsbrev.contacts.store import ContactStore, open_store
from nyhetsbrev.contacts.tokens import make_token
from nyhetsbrev.web.serving import LIMITS

SECRET = secrets.token_urlsafe(32)
#: The most a slow or silent connection may stay open: the header timeout and a margin for a
#: loaded machine. Before the fix, such connections stayed open for as long as the client liked.
CUT_OFF = LIMITS.header_timeout + 8.0


@dataclass
class Running:
    process: subprocess.Popen[str]
    port: int
    workspace: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _workspace(root: Path) -> Path:
    for name in ("newsletters", "templates"):
        shutil.copytree(REPO / name, root / name)
    (root / "contacts").mkdir()
    (root / "build").mkdir()
    return root


def _start(args: list[str], workspace: Path, ready: str) -> Iterator[Running]:
    port = free_port()
    env = {
        **os.environ,
        "NYHETSBREV_SECRET_KEY": SECRET,
        "NYHETSBREV_SMTP_URL": "smtp://127.0.0.1:9",
        "NYHETSBREV_TODAY": "2024-12-20",
        "SOURCE_DATE_EPOCH": "1735000000",
    }
    env.pop("NYHETSBREV_DATABASE_URL", None)
    env.pop("NYHETSBREV_ROOT", None)
    process = subprocess.Popen(
        [sys.executable, "-m", "nyhetsbrev", *args, "--port", str(port)],
        cwd=workspace,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    running = Running(process, port, workspace)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(running.url + ready, timeout=5).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            raise AssertionError(f"{args[0]} did not start:\n{process.communicate()[0]}")
        time.sleep(0.2)
    try:
        yield running
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@pytest.fixture(scope="module")
def hostile_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _workspace(tmp_path_factory.mktemp("hostile"))


@pytest.fixture(scope="module")
def serve(hostile_workspace: Path) -> Iterator[Running]:
    yield from _start(["serve"], hostile_workspace, "/healthz")


@pytest.fixture(scope="module")
def preview(hostile_workspace: Path) -> Iterator[Running]:
    yield from _start(["preview", "2024-q4", "--no-open"], hostile_workspace, "/email.txt")


def raw(port: int, request: bytes, *, seconds: float = 10.0) -> bytes:
    """Send `request` as it is (no client normalises the path) and read until the server closes
    the connection or `seconds` pass."""
    answer = b""
    with socket.create_connection(("127.0.0.1", port), timeout=seconds) as sock:
        sock.sendall(request)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and len(answer) < 1_000_000:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            answer += chunk
    return answer


def get(path: str, host: str = "127.0.0.1") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode()


def seconds_until_closed(port: int, first: bytes, trickle: bytes) -> float | None:
    """Open a connection, send `first`, then one byte of `trickle` a second; the seconds until
    the server closes it, or None if it is still open after `CUT_OFF`."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(first)
        return closed_within(sock, CUT_OFF + 1, trickle, step=1.0)


# --- serve ----------------------------------------------------------------------------------


def test_serve_cuts_off_slow_headers_and_silent_connections(serve: Running) -> None:
    slow = seconds_until_closed(
        serve.port, b"GET /subscribe HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: " + b"a" * 64
    )
    assert slow is not None, f"a slowloris connection was still open after {CUT_OFF:.0f} s"
    silent = seconds_until_closed(serve.port, b"", b"")
    assert silent is not None, f"a silent connection was still open after {CUT_OFF:.0f} s"
    assert b"200 OK" in raw(serve.port, get("/healthz"))  # and the server answers others


def test_serve_refuses_an_oversized_head(serve: Running) -> None:
    huge = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * (LIMITS.max_head * 2)
    answer = raw(serve.port, huge + b"\r\n\r\n")
    assert answer == b"" or answer.startswith((b"HTTP/1.1 400", b"HTTP/1.1 431")), answer[:80]


@pytest.mark.parametrize(
    "path", ["//evil.example/x", "///evil.example/x", "//evil.example/x/", "/%2F%2Fevil.example"]
)
def test_serve_links_never_point_off_site(serve: Running, path: str) -> None:
    answer = raw(serve.port, get(path, host="evil.example")).decode("utf-8", "replace")
    head, _, body = answer.partition("\r\n\r\n")
    assert head.startswith("HTTP/1.1 404"), head
    assert "location:" not in head.lower()
    for href in re.findall(r'(?:href|action)="([^"]*)"', body):
        assert not href.startswith("//") and "evil.example" not in href, href


@pytest.mark.parametrize("path", ["/a/b/", "/2024-q4/x/", "/static/x/"])
def test_serve_builds_no_redirect_from_the_host_header(serve: Running, path: str) -> None:
    head = raw(serve.port, get(path, host="evil.example")).split(b"\r\n\r\n")[0].lower()
    assert b"evil.example" not in head, head


def _contact(workspace: Path) -> tuple[ContactStore, int]:
    store = open_store(f"sqlite:///{workspace / 'contacts' / 'contacts.sqlite'}")
    existing = store.get("hostile@example.no")
    contact = existing or store.add("hostile@example.no", actor="test")
    return store, contact.id


def test_serve_unsubscribes_only_on_the_rfc_8058_body(
    serve: Running, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", SECRET)
    store, contact_id = _contact(serve.workspace)
    link = f"/unsubscribe/{make_token('unsubscribe', contact_id)}"
    bodies = [
        (b"foo=bar", b"application/x-www-form-urlencoded"),
        (b"", b"application/x-www-form-urlencoded"),
        (b"List-Unsubscribe=One-Click", b"text/plain"),
        (b"List-Unsubscribe=One-Click&more=1", b"application/x-www-form-urlencoded"),
        (b"via=button", b"application/x-www-form-urlencoded"),
    ]
    with store:
        for body, kind in bodies:
            request = (
                f"POST {link} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n".encode()
                + b"Content-Type: "
                + kind
                + f"\r\nContent-Length: {len(body)}\r\n\r\n".encode()
                + body
            )
            answer = raw(serve.port, request)
            assert answer.startswith(b"HTTP/1.1 400"), (body, answer[:60])
            assert store.get_by_id(contact_id).status == "subscribed"  # type: ignore[union-attr]
        good = httpx.post(serve.url + link, data={"List-Unsubscribe": "One-Click"}, timeout=10)
        assert good.status_code == 200
        assert store.get_by_id(contact_id).status == "unsubscribed"  # type: ignore[union-attr]


# --- preview --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/", "/events", "/email.html", "/email.txt", "/edition.pdf"])
@pytest.mark.parametrize("host", ["evil.example", f"evil.example:{8025}", "127.0.0.1.nip.io"])
def test_preview_answers_no_foreign_host(preview: Running, path: str, host: str) -> None:
    answer = raw(preview.port, get(path, host=host), seconds=10)
    assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
    assert b"KOM" not in answer


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_preview_answers_its_own_names(preview: Running, host: str) -> None:
    answer = raw(preview.port, get("/email.txt", host=f"{host}:{preview.port}"))
    assert answer.startswith(b"HTTP/1.1 200"), answer[:80]


def test_preview_cuts_off_slow_headers(preview: Running) -> None:
    slow = seconds_until_closed(
        preview.port, b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", b"X-Slow: " + b"a" * 64
    )
    assert slow is not None, f"a slowloris connection was still open after {CUT_OFF:.0f} s"
