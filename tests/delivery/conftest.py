"""Fixtures for sending: a real SMTP server on loopback (aiosmtpd) that records and injects faults,
a workspace with the reference issue built once per session, and contacts to send to.

The ledger (`nyhetsbrev.delivery.ledger`, `.schema`) is imported inside tests, never at the top
of a test module: importing it registers the "delivery" migrations for the whole process, and
the contact list's migration tests, collected at the same time, check the exact set of schema
versions a fresh database gets.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import shutil
import socket
import ssl
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner
from tests.delivery.pki import CertificateAuthority

from nyhetsbrev.contacts.store import ContactStore, open_store

REPO = Path(__file__).resolve().parents[2]
ISSUE = "2024-q4"
PUBLIC_URL = "https://nyhetsbrev.kom-test.no"
SECRET = "test-secret-key-0123456789abcdef"
APPROVAL_ON = "\napproval: required\n"
APPROVAL_OFF = "\napproval: none\n"
ISSUE_ENV = {"NYHETSBREV_TODAY": "2024-12-20", "SOURCE_DATE_EPOCH": "1735000000"}


@dataclass
class Received:
    """One message the sink accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class Fault:
    """Answer `reply` (or "drop" the connection) at `stage` for `address`, `times` times."""

    stage: str  # "mail", "rcpt", "data"
    address: str | None
    reply: str
    times: int
    hits: int = 0


@dataclass
class Sink:
    """An SMTP handler that records what it accepts and injects the faults it is given."""

    received: list[Received] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    delay: float = 0.0  # seconds to wait before answering the end of a message
    on_message: Callable[[Received], None] | None = None  # called after recording one
    lock: threading.Lock = field(default_factory=threading.Lock)
    port: int = 0

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def fault(self, stage: str, address: str | None, reply: str, times: int = 1) -> None:
        with self.lock:
            self.faults.append(Fault(stage, address, reply, times))

    def count(self) -> int:
        with self.lock:
            return len(self.received)

    def per_recipient(self) -> Counter[str]:
        with self.lock:
            return Counter(r for message in self.received for r in message.rcpt_tos)

    def _fault(self, stage: str, address: str | None) -> str | None:
        with self.lock:
            for fault in self.faults:
                mine = fault.stage == stage and fault.address in (None, address)
                if mine and fault.hits < fault.times:
                    fault.hits += 1
                    return fault.reply
        return None

    @staticmethod
    def _drop(server: Any) -> None:
        server.transport.close()

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self._fault("mail", None)
        if reply == "drop":
            self._drop(server)
            return "250 OK"  # never reaches the client
        if reply:
            if reply.startswith("421"):
                asyncio.get_running_loop().call_soon(server.transport.close)
            return reply
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self._fault("rcpt", address)
        if reply == "drop":
            self._drop(server)
            return "250 OK"
        if reply:
            if reply.startswith("421"):
                asyncio.get_running_loop().call_soon(server.transport.close)
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        address = envelope.rcpt_tos[0] if envelope.rcpt_tos else None
        reply = self._fault("data", address)
        if reply in ("drop", "accept-and-drop"):
            if reply == "accept-and-drop":
                self._record(envelope)
            self._drop(server)
            return "250 OK"
        if reply:
            if reply.startswith("421"):
                asyncio.get_running_loop().call_soon(server.transport.close)
            return reply
        self._record(envelope)
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 Ok: queued"

    def _record(self, envelope: Any) -> None:
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content))
        with self.lock:
            self.received.append(received)
        if self.on_message is not None:
            self.on_message(received)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def smtp_sink() -> Iterator[Sink]:
    """A real SMTP server on 127.0.0.1 (in a thread of the test process)."""
    sink = Sink(port=free_port())
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture(scope="session")
def built_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace with a real public_url and the reference issue built (once per session)."""
    from nyhetsbrev.cli import main

    root = tmp_path_factory.mktemp("sendws") / "ws"
    root.mkdir()
    shutil.copytree(REPO / "newsletters", root / "newsletters")
    shutil.copytree(REPO / "templates", root / "templates")
    (root / "contacts").mkdir()
    kom = root / "newsletters" / "kom.yaml"
    # The send tests are about sending; tests/delivery/test_approval.py turns the four-eyes
    # rule (on in KOM's publication file) back on.
    text = kom.read_text("utf-8").replace("https://nyhetsbrev.example.org", PUBLIC_URL)
    assert APPROVAL_ON in text
    kom.write_text(text.replace(APPROVAL_ON, APPROVAL_OFF), "utf-8")
    time.sleep(0.01)  # the build must be strictly newer than every source
    result = CliRunner().invoke(main, ["--root", str(root), "build", ISSUE], env=ISSUE_ENV)
    assert result.exit_code == 0, result.output
    return root


@pytest.fixture
def send_ws(
    built_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, smtp_sink: Sink
) -> Path:
    """A copy of the built workspace as cwd, with SMTP (the sink), secret key and SQLite set."""
    root = tmp_path / "ws"
    shutil.copytree(built_workspace, root)
    monkeypatch.chdir(root)
    for name in list(os.environ):
        if name.startswith("NYHETSBREV_"):
            monkeypatch.delenv(name)
    for name, value in ISSUE_ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", smtp_sink.url)
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", SECRET)
    monkeypatch.setenv("NYHETSBREV_ACTOR", "anne")
    return root


@pytest.fixture
def contacts(send_ws: Path) -> Callable[..., list[int]]:
    """`contacts(5)` adds person1..5@example.no (subscribed to nyhetsbrev); returns their ids."""

    def add(count: int, *, start: int = 1, **fields: Any) -> list[int]:
        with open_store(database(send_ws)) as store:
            return [
                store.add(f"person{i}@example.no", actor="test", name=f"Person Ø {i}", **fields).id
                for i in range(start, start + count)
            ]

    return add


def database(root: Path) -> str:
    return os.environ.get("NYHETSBREV_DATABASE_URL") or (
        f"sqlite:///{(root / 'contacts' / 'contacts.sqlite').as_posix()}"
    )


@pytest.fixture
def store(send_ws: Path) -> Iterator[ContactStore]:
    with open_store(database(send_ws)) as opened:
        yield opened


def wait_for(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.002)


@dataclass
class OAuthSink(Sink):
    """A sink that offers AUTH XOAUTH2 (as Microsoft 365 and Gmail do) and takes only the tokens
    in `tokens`; a refused token gets a 334 with a base64 JSON error, then 535."""

    user: str = "kom@politiet.no"
    tokens: set[str] = field(default_factory=set)
    logins: list[tuple[str, bool]] = field(default_factory=list)  # (token, accepted)

    def issue(self, token: str) -> str:
        with self.lock:
            self.tokens.add(token)
        return token

    def revoke(self, token: str | None = None) -> None:
        with self.lock:
            self.tokens.clear() if token is None else self.tokens.discard(token)

    def refused(self) -> int:
        with self.lock:
            return sum(not ok for _, ok in self.logins)

    async def auth_XOAUTH2(self, server: Any, args: list[str]) -> AuthResult:
        if len(args) == 2:
            blob = base64.b64decode(args[1])
        else:
            answer = await server.challenge_auth("")
            if not isinstance(answer, bytes):
                return AuthResult(success=False, handled=True)
            blob = answer
        fields = dict(part.split("=", 1) for part in blob.decode().split("\x01") if "=" in part)
        token = fields.get("auth", "").removeprefix("Bearer ")
        with self.lock:
            ok = fields.get("user") == self.user and token in self.tokens
            self.logins.append((token, ok))
        if ok:
            return AuthResult(success=True, auth_data=fields["user"])
        error = {
            "status": "401",
            "schemes": "bearer",
            "scope": "https://outlook.office365.com/.default",
        }
        await server.challenge_auth(json.dumps(error))
        return AuthResult(
            success=False, handled=False, message="535 5.7.3 Authentication unsuccessful"
        )


@pytest.fixture(scope="session")
def ca(tmp_path_factory: pytest.TempPathFactory) -> CertificateAuthority:
    """A test CA (made now, trusted only where a test says so) and the loopback certificate."""
    authority = CertificateAuthority(tmp_path_factory.mktemp("pki"))
    authority.issue("loopback", ["127.0.0.1", "localhost"])
    return authority


@pytest.fixture
def tls_sink(ca: CertificateAuthority) -> Iterator[Callable[..., Sink]]:
    """`tls_sink(OAuthSink(), cert=...)`: a sink that requires STARTTLS before mail or AUTH."""
    controllers: list[Controller] = []

    def start(sink: Sink, cert: str = "loopback", **options: Any) -> Sink:
        sink.port = free_port()
        issued = ca.folder / f"{cert}.crt", ca.folder / f"{cert}.key"
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*issued)
        options = {
            "tls_context": context,
            "require_starttls": True,
            "auth_require_tls": True,
            **options,
        }
        controller = Controller(sink, hostname="127.0.0.1", port=sink.port, **options)
        controller.start()
        controllers.append(controller)
        return sink

    yield start
    for controller in controllers:
        controller.stop()
