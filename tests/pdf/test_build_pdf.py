"""`nyhetsbrev build` and the PDF: the file, the web edition's link, --pdf-standard, the Typst source."""

from __future__ import annotations

from pathlib import Path

import pypdf
import pytest
import typst
from tests.conftest import CliCaller

from nyhetsbrev.render import pdf

PDF = "kom-nyhetsbrev-2024-q4.pdf"


def xmp(path: Path) -> str:
    root = pypdf.PdfReader(path).trailer["/Root"]
    return str(root["/Metadata"].get_object().get_data().decode("utf-8"))


def test_build_writes_the_pdf_and_the_web_edition_links_to_it(
    workspace: Path, cli: CliCaller
) -> None:
    result = cli("build", "2024-q4")
    assert result.exit_code == 0, result.output
    folder = workspace / "build" / "2024-q4"
    assert (folder / PDF).read_bytes().startswith(b"%PDF-")
    assert f"build/2024-q4/{PDF}" in result.stdout
    assert f'href="{PDF}"' in (folder / "index.html").read_text(encoding="utf-8")
    assert not list(folder.glob("*.typ"))  # only with --keep-intermediate
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp(folder / PDF)
    assert "pdfaid:part" not in xmp(folder / PDF)


def test_kept_typst_source_compiles_to_the_same_pdf(workspace: Path, cli: CliCaller) -> None:
    result = cli("build", "2024-q4", "--keep-intermediate")
    assert result.exit_code == 0, result.output
    folder = workspace / "build" / "2024-q4"
    source = folder / "kom-nyhetsbrev-2024-q4.typ"
    # As docs/pdf.md says: the source as input (bytes; `-` on the typst command line) with the
    # issue folder as root, Lato as the only font, the same standard and date.
    again = typst.compile(
        source.read_bytes(),
        root=workspace / "newsletters" / "2024-q4",
        font_paths=[pdf.font_dir()],
        ignore_system_fonts=True,
        pdf_standards=["ua-1"],
        timestamp=1735000000,
    )
    assert again == (folder / PDF).read_bytes()


def test_archive_standard(workspace: Path, cli: CliCaller) -> None:
    result = cli("build", "2024-q4", "--pdf-standard", "a-2a,ua-1")
    assert result.exit_code == 0, result.output
    meta = xmp(workspace / "build" / "2024-q4" / PDF)
    assert "<pdfaid:part>2</pdfaid:part>" in meta
    assert "<pdfaid:conformance>A</pdfaid:conformance>" in meta
    assert "<pdfuaid:part>1</pdfuaid:part>" in meta


def test_unknown_standard_is_a_usage_error(workspace: Path, cli: CliCaller) -> None:
    result = cli("build", "2024-q4", "--pdf-standard", "a-1b")
    assert result.exit_code == 2
    assert "'a-1b' is not one of 'ua-1', 'a-2a,ua-1'" in result.output
    assert not (workspace / "build" / "2024-q4").exists()


def test_missing_font_stops_the_build_and_writes_nothing(
    workspace: Path, cli: CliCaller, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = workspace / "no-fonts"
    empty.mkdir()
    monkeypatch.setattr(pdf, "font_dir", lambda: empty)
    result = cli("build", "2024-q4")
    assert result.exit_code == 1
    assert f"Error: the PDF font Lato is missing in {empty} (" in result.output
    assert "Traceback" not in result.output
    assert not (workspace / "build" / "2024-q4").exists()
