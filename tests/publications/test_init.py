"""`nyhetsbrev init --language …`: a neutral workspace in each language, with nothing of KOM."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import require_tool

KOM_STRINGS = ("politiet", "KOM", "menneskehandel", "Koordineringsenheten")
NAMES = {
    "nb": ("Fylkeskommunen i Testfylke", "Nyhetsbrev fra fylket"),
    "nn": ("Fylkeskommunen i Testfylke", "Nyheitsbrev frå fylket"),
    "en": ("The Testshire Council", "Testshire Newsletter"),
    "sv": ("Länsstyrelsen i Testlän", "Nyhetsbrev från Länsstyrelsen"),
}


def all_text(root: Path) -> dict[str, str]:
    """Every file of a workspace as text (the PDF's through pdftotext, as a reader copies it)."""
    out = {}
    pdftotext = require_tool("pdftotext")
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        if path.suffix == ".pdf":
            text = subprocess.run(
                [pdftotext, str(path), "-"], check=True, capture_output=True, text=True
            ).stdout
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        out[path.relative_to(root).as_posix()] = text
    return out


@pytest.mark.parametrize("language", ["nb", "nn", "en", "sv"])
def test_init_in_each_language_checks_builds_and_has_no_kom_text(
    language: str, tmp_path: Path, cli, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NYHETSBREV_TODAY", "2026-05-02")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1735000000")
    monkeypatch.delenv("NYHETSBREV_ROOT", raising=False)
    name, title = NAMES[language]
    made = cli(
        "init", "ws", "--language", language, "--name", name, "--title", title,
        "--email", "post@testfylke.example", "--website", "https://testfylke.example",
    )  # fmt: skip
    assert made.exit_code == 0, made.output
    root = tmp_path / "ws"
    check = cli("--root", str(root), "check", "2026-q2")
    assert check.exit_code == 0, check.output
    assert "0 errors" in check.output
    build = cli("--root", str(root), "build", "2026-q2")
    assert build.exit_code == 0, build.output
    files = all_text(root)
    assert "build/2026-q2/index.html" in files and any(f.endswith(".pdf") for f in files)
    for shown, text in files.items():
        for kom in KOM_STRINGS:
            assert kom not in text, f"{shown} has {kom!r}"
    web = files["build/2026-q2/index.html"]
    assert f'lang="{language}"' in web
    assert title in web and name in web
    assert f"language: {language}" in files["newsletters/publication.yaml"]
    assert "\napproval: required\n" in files["newsletters/publication.yaml"]  # four eyes


def test_init_with_a_name_that_yaml_would_misread(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NYHETSBREV_TODAY", "2026-05-02")
    made = cli("init", "ws", "--language", "en", "--name", 'Dept. #7: "Care"', "--title", "yes")
    assert made.exit_code == 0, made.output
    check = cli("--root", str(tmp_path / "ws"), "check", "2026-q2")
    assert check.exit_code == 0, check.output
    import yaml

    data = yaml.safe_load((tmp_path / "ws/newsletters/publication.yaml").read_text("utf-8"))
    assert data["name"] == 'Dept. #7: "Care"' and data["title"] == "yes"


def test_init_rejects_a_bad_address_and_makes_nothing(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("init", "ws", "--email", "not-an-address")
    assert result.exit_code == 1
    assert "--email" in result.output
    assert not (tmp_path / "ws").exists()


def test_example_kom_is_kom(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NYHETSBREV_TODAY", "2026-05-02")
    assert cli("init", "ws", "--example", "kom").exit_code == 0
    repo = Path(__file__).resolve().parents[2]
    assert (tmp_path / "ws/newsletters/kom.yaml").read_bytes() == (
        repo / "newsletters/kom.yaml"
    ).read_bytes()
    shutil.rmtree(tmp_path / "ws")
