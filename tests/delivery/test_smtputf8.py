"""Addresses with non-ASCII before the @: sent with SMTPUTF8 where the server offers it (aiosmtpd
with enable_SMTPUTF8, its Controller's default), reported as not sent — and not as a bounce —
where it does not (enable_SMTPUTF8=False)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from tests.delivery.conftest import Sink, database, free_port

from nyhetsbrev.contacts.store import open_store

UTF8 = "ærlig.øst@example.no"
REAL = (
    "send",
    "2024-q4",
    "--confirm",
    "--allow-warnings",
    "--allow-placeholder-links",
    "--rate",
    "0",
)


@pytest.fixture(params=[True, False], ids=["smtputf8", "ascii-only"])
def utf8_sink(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, send_ws: Path
) -> Iterator[Sink]:
    sink = Sink(port=free_port())
    offered = bool(request.param)
    controller = Controller(sink, hostname="127.0.0.1", port=sink.port, enable_SMTPUTF8=offered)
    controller.start()
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", sink.url)
    try:
        yield sink
    finally:
        controller.stop()


def add_people(root: Path) -> None:
    with open_store(database(root)) as store:
        store.add(UTF8, actor="test", name="Ærlig Øst")
        store.add("plain@example.no", actor="test")


def test_sent_with_smtputf8_or_reported(
    request: pytest.FixtureRequest, send_ws: Path, cli: Any, utf8_sink: Sink
) -> None:
    add_people(send_ws)
    result = cli(*REAL)
    assert result.exit_code == 0, result.output
    if "ascii-only" not in request.node.name:
        assert sorted(utf8_sink.per_recipient()) == ["plain@example.no", UTF8]
        data = next(r for r in utf8_sink.received if r.rcpt_tos == [UTF8]).data
        assert f"To: =?utf-8?b?w4ZybGlnIMOYc3Q=?= <{UTF8}>\r\n".encode() in data
        assert "2 sent, 0 failed" in result.output
        return
    assert utf8_sink.per_recipient() == {"plain@example.no": 1}
    assert "1 sent, 1 failed" in result.output
    assert (
        f"  {UTF8} — not sent: the SMTP server does not offer SMTPUTF8, which an address with "
        "non-ASCII characters needs — ask the person for a plain-ASCII address, or send through "
        "a server that offers it"
    ) in result.output.splitlines()
    with open_store(database(send_ws)) as store:
        assert store.find(UTF8).status == "subscribed"  # the address is fine; the server is not
