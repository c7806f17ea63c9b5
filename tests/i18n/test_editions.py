"""One issue in each of nb, nn, en and sv, built for real: every edition says its language
(`lang`, the PDF's /Lang), carries no label of another language, prints dates its readers read
one way, and marks the passage in another language (WCAG 2.1 SC 3.1.2)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject

from tests.conftest import CliCaller, require_tool
from tests.i18n.catalogue import foreign_labels_in, visible_text
from tests.i18n.workspace import ISSUES

DECISION_DATE = {
    "nb": "10.10.2024",
    "nn": "10.10.2024",
    "en": "10 October 2024",
    "sv": "2024-10-10",
}
TITLES = {
    "nb": "Nyhetsbrev fra SRS",
    "nn": "Nyheitsbrev frå SRS",
    "en": "Newsletter from SRS",
    "sv": "Nyhetsbrev från SRS",
}


def _pdf_text(path: Path) -> str:
    pdftotext = require_tool("pdftotext")
    done = subprocess.run([pdftotext, str(path), "-"], capture_output=True, check=True)
    return done.stdout.decode("utf-8")


def _flat(path: Path) -> str:
    return " ".join(path.read_text(encoding="utf-8").split())


def _marked_languages(path: Path) -> set[str]:
    """The /Lang of the PDF's structure elements (a paragraph in another language: Typst tags
    its /P) and of its marked content (words inside a paragraph: Typst marks the span)."""
    found: set[str] = set()
    reader = PdfReader(path)
    todo = [reader.trailer["/Root"]["/StructTreeRoot"]]
    while todo:
        node = todo.pop().get_object()
        if isinstance(node, ArrayObject):
            todo.extend(node)
        elif isinstance(node, DictionaryObject) and "/MCID" not in node:
            if "/Lang" in node:
                found.add(str(node["/Lang"]))
            if "/K" in node:
                todo.append(node["/K"])
    for page in reader.pages:
        data = page.get_contents()
        assert data is not None
        found.update(m.decode() for m in re.findall(rb"/Lang\s*\(([^)]*)\)", data.get_data()))
    return found


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tests.i18n.workspace import make_workspace

    root = make_workspace(tmp_path_factory.mktemp("languages"))
    patch = pytest.MonkeyPatch()
    patch.chdir(root)
    patch.delenv("NYHETSBREV_ROOT", raising=False)
    patch.setenv("NYHETSBREV_TODAY", "2025-01-05")
    patch.setenv("SOURCE_DATE_EPOCH", "1735000000")
    try:
        for issue_id in ISSUES.values():
            result = CliCaller()("build", issue_id)
            assert result.exit_code == 0, result.output
    finally:
        patch.undo()
    return root


@pytest.mark.parametrize("language", list(ISSUES))
def test_every_edition_is_in_the_issue_language(built: Path, language: str) -> None:
    folder = built / "build" / ISSUES[language]
    email = (folder / "email.html").read_text(encoding="utf-8")
    web = (folder / "index.html").read_text(encoding="utf-8")
    text = (folder / "email.txt").read_text(encoding="utf-8")
    [pdf] = folder.glob("*.pdf")
    pdf_text = _pdf_text(pdf)

    assert f'<html lang="{language}"' in email or f'lang="{language}"' in email.split(">", 3)[1]
    assert re.search(rf'<div class="b"[^>]* lang="{language}"', email)
    assert f'<html lang="{language}">' in web
    assert PdfReader(pdf).trailer["/Root"]["/Lang"] == language

    outputs = {
        "email.html": visible_text(email),
        "index.html": visible_text(web),
        "email.txt": text,
        pdf.name: pdf_text,
    }
    for name, shown in outputs.items():
        assert TITLES[language] in " ".join(shown.split()), f"{name}: the masthead's own title"
        others = [t for lang, t in TITLES.items() if t != TITLES[language]]
        assert not [t for t in others if t in shown], f"{name}: another language's title"
        assert foreign_labels_in(shown, language) == [], f"{name} ({language})"
        assert DECISION_DATE[language] in " ".join(shown.split()), f"{name}: decision date"
        assert "{lang=" not in shown, f"{name}: the language mark is markup, not text"


@pytest.mark.parametrize("language", list(ISSUES))
def test_the_passage_in_another_language_is_marked(built: Path, language: str) -> None:
    folder = built / "build" / ISSUES[language]
    [pdf] = folder.glob("*.pdf")
    if language == "sv":
        for name in ("email.html", "index.html"):
            page = (folder / name).read_text(encoding="utf-8")
            assert re.search(r'<span lang="en"[^>]*>Plain language in practice</span>', page)
            assert re.search(r'<p lang="nb"[^>]*>Hela detta stycke är på norska\.</p>', page)
        assert {"en", "nb"} <= _marked_languages(pdf)
        assert "Rapporten heter Plain language in practice." in _flat(folder / "email.txt")
    else:
        for name in ("email.html", "index.html"):
            page = (folder / name).read_text(encoding="utf-8")
            assert re.search(r'<span lang="sv"[^>]*>Från ord till handling</span>', page), name
        assert "sv" in _marked_languages(pdf)
        assert "Från ord till handling." in _flat(folder / "email.txt")
