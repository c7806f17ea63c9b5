"""A workspace with two publications: KOM's (bokmål) and a Swedish one made by `init`."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import REPO, CliCaller

BASE = "https://nyhetsbrev.example.org"
SV_NAME = "Länsstyrelsen i Testlän"
SV_TITLE = "Nyhetsbrev från Länsstyrelsen"


def set_public_url(path: Path, url: str) -> None:
    text = path.read_text("utf-8")
    path.write_text(text.replace(f"public_url: {BASE}\n", f"public_url: {url}\n"), "utf-8")


@pytest.fixture
def two(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """newsletters/kom/ and newsletters/lans/, each with its publication.yaml and a 2024-q4."""
    monkeypatch.chdir(tmp_path)
    for name in ("NYHETSBREV_ROOT", "NYHETSBREV_DATABASE_URL", "NYHETSBREV_PUBLICATION"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NYHETSBREV_TODAY", "2024-12-20")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735000000")
    made = CliCaller()(
        "init", "sv", "--language", "sv", "--name", SV_NAME, "--title", SV_TITLE,
        "--email", "info@lansstyrelsen.example", "--website", "https://lansstyrelsen.example",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    root = tmp_path / "ws"
    (root / "templates").mkdir(parents=True)
    shutil.copytree(tmp_path / "sv/newsletters", root / "newsletters/lans")
    shutil.copytree(REPO / "newsletters", root / "newsletters/kom")
    (root / "newsletters/kom/kom.yaml").rename(root / "newsletters/kom/publication.yaml")
    set_public_url(root / "newsletters/kom/publication.yaml", f"{BASE}/kom")
    set_public_url(root / "newsletters/lans/publication.yaml", f"{BASE}/lans")
    monkeypatch.chdir(root)
    return root
