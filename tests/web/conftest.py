"""Fixtures of the web tests: the public app with a mail catcher, form helpers, servers on loopback."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from nyhetsbrev.contacts.store import ContactStore, open_store
from nyhetsbrev.web.mail import Mail
from nyhetsbrev.web.public import create_public_app
from nyhetsbrev.web.site import Limits
from nyhetsbrev.workspace import Workspace

SECRET = "web-tests-secret-key-0123456789abcdef"
PUBLIC_URL = "https://nyhetsbrev.example.org"
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"https?://\S+")


@pytest.fixture(autouse=True)
def secret_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", SECRET)
    monkeypatch.delenv("NYHETSBREV_SMTP_URL", raising=False)
    monkeypatch.delenv("NYHETSBREV_SMTP_PASSWORD", raising=False)
    return SECRET


@dataclass
class MailCatcher:
    """Stands in for SMTP in the HTTP tests: keeps every sign-up email."""

    sent: list[Mail] = field(default_factory=list)

    def send(self, mail: Mail) -> bool:
        self.sent.append(mail)
        return True

    def link(self, index: int = -1) -> str:
        """The path of the link in a mail (without the public address)."""
        url = _LINK.search(self.sent[index].body)
        assert url, self.sent[index].body
        return url.group(0).removeprefix(PUBLIC_URL)


@pytest.fixture
def mails() -> MailCatcher:
    return MailCatcher()


def csrf(response: Any) -> str:
    """The CSRF token of the form in a page."""
    found = _CSRF.search(response.text)
    assert found, f"no form token in {response.request.url}"
    return found.group(1)


Client = Callable[..., TestClient]


@pytest.fixture
def make_client(workspace: Path, mails: MailCatcher) -> Iterator[Client]:
    """`make_client(database_url=…, limits=…, trusted=…, client=(ip, port), base_url=…)`: a
    TestClient on the public app (its lifespan runs, so the store is open)."""
    opened: list[TestClient] = []

    def make(
        *,
        database_url: str | None = None,
        limits: Limits | None = None,
        trusted: tuple[str, ...] = (),
        client: tuple[str, int] = ("203.0.113.7", 50000),
        base_url: str = "http://testserver",
    ) -> TestClient:
        app = create_public_app(
            Workspace(workspace),
            trusted_proxies=trusted,
            limits=limits,
            mailer=mails,
            database_url=database_url,
        )
        test_client = TestClient(app, base_url=base_url, client=client, follow_redirects=False)
        test_client.__enter__()
        opened.append(test_client)
        return test_client

    yield make
    for test_client in opened:
        test_client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Client, database_url: str) -> TestClient:
    """The public app on the test's database (SQLite, then PostgreSQL)."""
    return make_client(database_url=database_url)


@pytest.fixture
def store(client: TestClient) -> ContactStore:
    """The app's own contact store (the same database the app writes)."""
    site = client.app.state.site  # type: ignore[attr-defined]
    found: ContactStore = site.store
    return found


def sign_up(client: TestClient, path: str = "/subscribe", **fields: Any) -> Any:
    """Fetch the form, then post it with a valid token and the given fields over the defaults."""
    page = client.get(path)
    data: dict[str, Any] = {
        "csrf_token": csrf(page),
        "email": "kari.nordmann@example.no",
        "name": "Kari Nordmann",
        "organisation": "Oslo kommune",
        "topics": ["nyhetsbrev"],
        "language": "nb",
        "consent": "yes",
        "website": "",
    }
    data.update(fields)
    return client.post(path, data={k: v for k, v in data.items() if v is not None})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Served:
    """An ASGI app served by uvicorn in a thread on 127.0.0.1, stopped on exit."""

    def __init__(
        self, app: Starlette, sock: socket.socket | None = None, header_timeout: float = 10.0
    ) -> None:
        from nyhetsbrev.web.cli import bind, server

        self.sock = sock or bind("127.0.0.1", 0)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = server(app, access_log=False, graceful=1, header_timeout=header_timeout)
        self.thread = threading.Thread(
            target=self.server.run, kwargs={"sockets": [self.sock]}, name="uvicorn", daemon=True
        )

    def __enter__(self) -> Served:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()
        assert not self.thread.is_alive(), "uvicorn did not stop"


def open_db(url: str) -> ContactStore:
    return open_store(url, topics=("nyhetsbrev", "rettsavgjorelser", "tilstandsrapport"))
