"""`serve` and `send` refuse another key than the one the data was made with (finding 3)."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from tests.web.conftest import SECRET, Client

from nyhetsbrev.errors import NyhetsbrevError

OTHER = secrets.token_urlsafe(32)


def test_serve_refuses_a_key_other_than_the_suppression_lists(
    make_client: Client, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The review's case: addresses erased under one key, `serve` started with another; every
    sign-up then failed. Now it does not start, and says why and what to do."""
    first = make_client(database_url=database_url)
    first.app.state.site.store.erase("gone@example.no", actor="test")  # type: ignore[attr-defined]
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", OTHER)
    with pytest.raises(NyhetsbrevError) as caught:
        make_client(database_url=database_url)
    assert "different key" in caught.value.message or "is not the key" in caught.value.message


def test_serve_refuses_a_changed_key_and_accepts_a_named_rotation(
    make_client: Client, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_client(database_url=database_url)  # the first start records the key's fingerprint
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", OTHER)
    with pytest.raises(NyhetsbrevError) as caught:
        make_client(database_url=database_url)
    message = caught.value.message
    assert message.startswith("NYHETSBREV_SECRET_KEY is not the key this contact database")
    assert "NYHETSBREV_OLD_SECRET_KEY" in message and "docs/operations.md" in message
    assert OTHER not in message and SECRET not in message
    monkeypatch.setenv("NYHETSBREV_OLD_SECRET_KEY", SECRET)
    make_client(database_url=database_url)  # the rotation, named: accepted
    monkeypatch.delenv("NYHETSBREV_OLD_SECRET_KEY")
    make_client(database_url=database_url)  # and the new key is the key from now on


def test_send_refuses_a_changed_key(
    cli: Any, workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert cli("build", "2024-q4").exit_code == 0
    monkeypatch.setenv("NYHETSBREV_SMTP_URL", "smtp://127.0.0.1:9")
    assert cli("send", "2024-q4").exit_code == 0, "a dry run with the first key"
    monkeypatch.setenv("NYHETSBREV_SECRET_KEY", OTHER)
    result = cli("send", "2024-q4")
    assert result.exit_code == 1
    assert "NYHETSBREV_SECRET_KEY is not the key this contact database" in result.output
