"""The PDF edition on small issues: special characters, pictures, standards, fonts, errors, dates."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pypdf
import pytest
from tests.pdf.conftest import Rendered, png, render, squash

from nyhetsbrev.errors import RenderError
from nyhetsbrev.issue import markdown
from nyhetsbrev.issue.load import load, load_or_fail
from nyhetsbrev.issue.typography import typeset
from nyhetsbrev.render import pdf
from nyhetsbrev.render.pdf import render_pdf
from nyhetsbrev.theme import find_theme, packaged_theme_path
from nyhetsbrev.workspace import Workspace

TITLE = r'Tegn #set page(width: 1cm) $x^2$ *fet* _kursiv_ @ref <lbl> \ "sitat" ] // ikke kommentar'
ARTICLE = r'#pagebreak() ] [ @navn <b>html</b> $matte$ // ingen kommentar \ "q" æøå ÆØÅ'
BODY = r"""Kode: \# \$ @navn <i>html</i> \\ "sitat" ] [ // ingen kommentar, \*stjerne\* og \_strek\_.

- punkt med **fet #tekst** og *kursiv $x$*
- [lenke "med" tegn](https://example.org/søk?q=1&r=%22x%22#del)
"""
ISSUE = f"""\
language: nb
sections:
  - title: '{TITLE.replace("'", "''")}'
    subtitle: 'under\\tittel #2'
    contact_box: true
    articles:
      - title: '{ARTICLE.replace("'", "''")}'
        body: |
{"".join("          " + line + chr(10) if line else chr(10) for line in BODY.splitlines())}\
        image:
          src: bilde.png
          alt: 'Rød firkant "med" #tegn og \\ skråstrek'
      - title: Pynt
        body: Bare pynt.
        image:
          src: bilde.png
          decorative: true
  - title: Seksjon to
    articles:
      - title: Dommer
        body: To dommer.
        decisions:
          - title: T.V. v. Spain
            reference: application no. 22512/21
            date: 2024-10-10
            url: https://hudoc.echr.coe.int/eng?i=001-236133
closing: 'Takk for #nå!'
"""


def write_issue(root: Path, issue_id: str, text: str) -> None:
    folder = root / "newsletters" / issue_id
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "issue.yaml").write_text(text, encoding="utf-8")
    (folder / "bilde.png").write_bytes(png())


@pytest.fixture
def small(workspace: Path) -> Rendered:
    write_issue(workspace, "2025-q1", ISSUE)
    return render(Workspace(workspace), "2025-q1", workspace / "small.pdf")


def test_typst_special_characters_render_literally(small: Rendered) -> None:
    text = squash("".join(small.pages_text()))
    assert squash(typeset(TITLE, "nb")) in text  # "sitat" → «sitat»: nb typography
    assert squash(typeset(ARTICLE, "nb")) in text
    position = 0
    for piece in markdown.block_plain(markdown.parse(BODY, "nb")).split(
        "\n\n"
    ):  # list bullets between
        position = text.index(squash(piece), position)
    assert squash("under\\tittel #2") in text and squash("Takk for #nå!") in text
    # Content reaches Typst only as string literals: never as markup or code of its own.
    assert "#pagebreak() ]" not in small.source.replace('"#pagebreak() ] ', "")
    assert '"Tegn #set page(width: 1cm) $x^2$ *fet* _kursiv_ @ref <lbl> \\\\ «sitat»' in (
        small.source
    )


def test_content_appears_in_the_source_only_inside_string_literals(small: Rendered) -> None:
    outside = re.sub(r'"(?:[^"\\\n]|\\.)*"', '""', small.source)
    for word in ("Tegn", "@navn", "Kode", "firkant", "tittel", "Takk", "stjerne", "lenke", "punkt"):
        assert word in small.source
        assert word not in outside, word


def test_styles_links_and_lists_survive(small: Rendered) -> None:
    assert "https://example.org/s%C3%B8k?q=1&r=%22x%22#del" in small.uris()
    assert "https://hudoc.echr.coe.int/eng?i=001-236133" in small.uris()
    text = squash("".join(small.pages_text()))
    assert squash("T.V. v. Spain (application no. 22512/21, 10.10.2024)") in text
    assert "•" in "".join(small.pages_text())


def test_pictures_carry_alt_text_and_decoration_is_an_artifact(small: Rendered) -> None:
    figures: list[str | None] = []

    def walk(node: pypdf.generic.DictionaryObject) -> None:
        if node.get("/S") == "/Figure":
            alt = node.get("/Alt")
            figures.append(None if alt is None else str(alt))
        kids = node.get("/K")
        for kid in kids if isinstance(kids, list) else [kids] if kids is not None else []:
            kid = kid.get_object()
            if isinstance(kid, pypdf.generic.DictionaryObject) and "/MCID" not in kid:
                walk(kid)

    walk(small.reader.trailer["/Root"]["/StructTreeRoot"].get_object())
    assert figures == ['Rød firkant "med" #tegn og \\ skråstrek']  # the decorative one: no figure


def test_missing_alt_text_is_one_located_error(workspace: Path) -> None:
    write_issue(workspace, "2025-q1", ISSUE)
    ws = Workspace(workspace)
    loaded, _ = load_or_fail(ws, "2025-q1")
    section = loaded.issue.sections[0]
    article = section.articles[0]
    assert article.image is not None
    # The model refuses an image without alt text; a theme or a later edit could still lose it.
    blank = article.image.model_copy(update={"alt": ""})
    articles = [article.model_copy(update={"image": blank}), *section.articles[1:]]
    sections = [section.model_copy(update={"articles": articles}), *loaded.issue.sections[1:]]
    issue = loaded.issue.model_copy(update={"sections": sections})
    broken = dataclasses.replace(loaded, issue=issue)
    with pytest.raises(RenderError) as caught:
        render_pdf(broken, find_theme(ws, "kom"))
    message = caught.value.message
    line = next(n for n, text in enumerate(ISSUE.splitlines(), 1) if "alt: 'Rød" in text)
    assert message.startswith(f"newsletters/2025-q1/issue.yaml:{line}:16: ")
    assert "sections[0].articles[0].image: the picture has no alt text" in message
    assert "\n" not in message and "Traceback" not in message


def test_letter_missing_from_the_font_is_located(workspace: Path) -> None:
    """`check` finds it before the PDF would fail on it: the letter, its code point, the line."""
    write_issue(workspace, "2025-q1", ISSUE.replace("Bare pynt.", "Se pilen → her."))
    loaded, findings = load(Workspace(workspace), "2025-q1")
    assert loaded is None
    line = next(n for n, text in enumerate(ISSUE.splitlines(), 1) if "Bare pynt." in text)
    [error] = [f.format() for f in findings if f.level == "error"]
    assert re.match(rf"newsletters/2025-q1/issue\.yaml:{line}:\d+: error: ", error), error
    assert '"→" U+2192 (RIGHTWARDS ARROW) cannot be shown in the PDF' in error


def test_missing_font_says_so(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_issue(workspace, "2025-q1", ISSUE)
    ws = Workspace(workspace)
    loaded, _ = load_or_fail(ws, "2025-q1")
    empty = workspace / "no-fonts"
    empty.mkdir()
    monkeypatch.setattr(pdf, "font_dir", lambda: empty)
    with pytest.raises(RenderError) as caught:
        render_pdf(loaded, find_theme(ws, "kom"))
    message = caught.value.message
    assert message.startswith(f"the PDF font Lato is missing in {empty} (Lato-Regular.ttf, ")
    assert "pip install --force-reinstall font-lato" in message
    assert "never made with another font" in message


def test_font_package_not_installed_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pdf.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(RenderError, match=r"the PDF font Lato is not installed: run `pip install"):
        pdf.font_dir()


@pytest.mark.parametrize(
    ("value", "expected"),
    [("ua-1", ("ua-1",)), ("a-2a,ua-1", ("a-2a", "ua-1")), (" UA-1 , a-2a ", ("a-2a", "ua-1"))],
)
def test_standards(value: str, expected: tuple[str, ...]) -> None:
    assert pdf.parse_standard(value) == expected


@pytest.mark.parametrize("value", ["", "a-2b", "ua-2", "a-2a", "pdf/ua"])
def test_unknown_standard_lists_the_valid_ones(value: str) -> None:
    with pytest.raises(RenderError) as caught:
        pdf.parse_standard(value)
    assert caught.value.message.startswith(
        f'unknown PDF standard "{value}": use one of ua-1, a-2a,ua-1 '
    )


def test_archive_copy_is_pdf_a_2a_and_ua_1(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_issue(workspace, "2025-q1", ISSUE)
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    archived = render(Workspace(workspace), "2025-q1", workspace / "a.pdf", "a-2a,ua-1")
    xmp = archived.reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert (
        "<pdfaid:part>2</pdfaid:part>" in xmp
        and "<pdfaid:conformance>A</pdfaid:conformance>" in xmp
    )
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp
    info = archived.reader.metadata
    assert info is not None and info["/CreationDate"].startswith("D:20250331")  # PDF/A needs a date


def test_same_input_same_bytes(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_issue(workspace, "2025-q1", ISSUE)
    ws = Workspace(workspace)
    first = render(ws, "2025-q1", workspace / "1.pdf")
    second = render(ws, "2025-q1", workspace / "2.pdf")
    assert first.pdf == second.pdf
    info = first.reader.metadata
    assert info is not None and info["/CreationDate"].startswith("D:20241224")  # 1735000000
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    undated = render(ws, "2025-q1", workspace / "3.pdf")
    assert undated.pdf == render(ws, "2025-q1", workspace / "4.pdf").pdf
    assert "/CreationDate" not in (undated.reader.metadata or {})


def test_bad_source_date_epoch(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_issue(workspace, "2025-q1", ISSUE)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(RenderError, match=r'^SOURCE_DATE_EPOCH="yesterday" is not a number'):
        render(Workspace(workspace), "2025-q1", workspace / "x.pdf")


def test_other_typst_errors_are_render_errors(workspace: Path) -> None:
    write_issue(workspace, "2025-q1", ISSUE)
    (workspace / "newsletters" / "2025-q1" / "bilde.png").write_bytes(b"not a picture")
    with pytest.raises(RenderError) as caught:
        render(Workspace(workspace), "2025-q1", workspace / "x.pdf")
    message = caught.value.message
    assert message.startswith("the PDF could not be made (line ")
    assert "--keep-intermediate" in message


def test_labels_follow_the_issue_language(workspace: Path) -> None:
    write_issue(workspace, "2025-q1", ISSUE.replace("language: nb", "language: en"))
    english = render(Workspace(workspace), "2025-q1", workspace / "en.pdf")
    assert english.reader.trailer["/Root"]["/Lang"] == "en"
    pages = english.pages_text()
    assert "Contents" in pages[1]
    assert f"page 2 of {len(pages)}" in pages[1]
    assert "January–March 2025" in pages[0]


def test_a_theme_naming_another_font_stops_the_build(workspace: Path) -> None:
    write_issue(workspace, "2025-q1", ISSUE)
    theme = workspace / "templates" / "kom"
    if theme.is_symlink() or not theme.exists():  # a copy of the packaged theme to edit
        theme.unlink(missing_ok=True)
        shutil.copytree(packaged_theme_path("kom"), theme)
    template = theme / "print.typ.j2"
    template.write_text(
        template.read_text(encoding="utf-8").replace(
            "font: {{ brand.fonts.print | typst_str }}", 'font: "Arial"'
        ),
        encoding="utf-8",
    )
    with pytest.raises(RenderError) as caught:
        render(Workspace(workspace), "2025-q1", workspace / "x.pdf")
    assert caught.value.message.startswith(
        "the PDF would use another font than Lato: unknown font family: arial — the theme ("
    )


def test_contact_box_is_in_the_pdf_even_when_no_section_places_it(workspace: Path) -> None:
    """Like the email, text and web editions: without `contact_box: true` it ends the last section."""
    write_issue(workspace, "2025-q1", ISSUE.replace("    contact_box: true\n", ""))
    rendered = render(Workspace(workspace), "2025-q1", workspace / "nobox.pdf")
    assert rendered.source.count("#contact-box(") == 1
    assert squash("For innspill eller spørsmål") in squash("".join(rendered.pages_text()))
