"""Fixtures for the contact list: a workspace whose database is SQLite or PostgreSQL, and `run`."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import Result

from nyhetsbrev.contacts.store import ContactStore, open_store

DATA = Path(__file__).resolve().parent.parent / "data" / "contacts"


@pytest.fixture
def db(workspace: Path, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The test's database URL, set as NYHETSBREV_DATABASE_URL; the editor is "anne"."""
    monkeypatch.setenv("NYHETSBREV_DATABASE_URL", database_url)
    monkeypatch.setenv("NYHETSBREV_ACTOR", "anne")
    monkeypatch.delenv("NYHETSBREV_SECRET_KEY", raising=False)
    return database_url


@pytest.fixture
def run(cli: Callable[..., Result], db: str) -> Callable[..., Result]:
    """`run("add", "x@example.org")` runs `nyhetsbrev contacts add …` and checks the exit code."""

    def invoke(*args: str, input: str | None = None, code: int = 0) -> Result:
        result = cli("contacts", *args, input=input)
        assert result.exit_code == code, result.output
        return result

    return invoke


@pytest.fixture
def store(db: str) -> Iterator[ContactStore]:
    with open_store(db) as opened:
        yield opened


@pytest.fixture
def data(workspace: Path) -> Path:
    """The CSV files of tests/data/contacts, copied into the workspace as `data/`."""
    target = workspace / "data"
    shutil.copytree(DATA, target)
    return target
