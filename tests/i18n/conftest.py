"""Fixtures of the language tests: the four-language workspace as cwd."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.i18n.workspace import make_workspace


@pytest.fixture
def languages_ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "ws"
    root.mkdir()
    make_workspace(root)
    monkeypatch.chdir(root)
    monkeypatch.delenv("NYHETSBREV_ROOT", raising=False)
    monkeypatch.delenv("NYHETSBREV_DATABASE_URL", raising=False)
    monkeypatch.setenv("NYHETSBREV_TODAY", "2025-01-05")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735000000")
    return root
