"""PDF facts of the reference issue (2024-q4): pages, metadata, tags, bookmarks, "forts.", links, fonts."""

from __future__ import annotations

import re
import subprocess

import pypdf
from tests.conftest import require_tool
from tests.pdf.conftest import Rendered, squash
from tests.render.conftest import yaml_link_addresses


def section_headings(rendered: Rendered) -> list[str]:
    sections = rendered.loaded.issue.sections
    return [s.title + (f" – {s.subtitle}" if s.subtitle else "") for s in sections]


def test_page_count_is_plausible(reference: Rendered) -> None:
    pages = len(reference.reader.pages)
    assert 12 <= pages <= 30, pages  # KOM's own PDF of this issue has ~20
    assert reference.warnings == ()  # Typst had nothing to warn about
    box = reference.reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)  # A4


def test_metadata_title_language_author_subject(reference: Rendered) -> None:
    reader = reference.reader
    info = reader.metadata
    assert info is not None
    assert info["/Title"] == "Nyhetsbrev fra KOM, oktober–desember 2024"
    assert info["/Author"] == "Koordineringsenheten mot menneskehandel"
    assert info["/Subject"] == "oktober–desember 2024"
    root = reader.trailer["/Root"]
    assert root["/Lang"] == "nb"
    assert bool(root["/ViewerPreferences"]["/DisplayDocTitle"])
    xmp = root["/Metadata"].get_object().get_data().decode("utf-8")
    assert "<pdfuaid:part>1</pdfuaid:part>" in xmp
    assert "pdfaid:part" not in xmp  # the archive copy only


def test_tagged_structure_with_headings(reference: Rendered) -> None:
    root = reference.reader.trailer["/Root"]
    assert bool(root["/MarkInfo"]["/Marked"])
    kinds: list[str] = []

    def walk(node: pypdf.generic.DictionaryObject) -> None:
        if "/S" in node:
            kinds.append(str(node["/S"]))
        kids = node.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, list) else [kids]:
            kid = kid.get_object()
            if isinstance(kid, pypdf.generic.DictionaryObject) and "/MCID" not in kid:
                walk(kid)

    walk(root["/StructTreeRoot"].get_object())
    sections = len(reference.loaded.issue.sections)
    articles = sum(len(s.articles) for s in reference.loaded.issue.sections)
    assert kinds.count("/H1") == sections + 2  # + "Innhold" + the closing "Om KOM"
    assert kinds.count("/H2") == articles + 2  # + the "Kontakt oss" and contact list boxes
    assert "/Title" in kinds and "/TOC" in kinds and "/L" in kinds and "/Link" in kinds


def test_bookmarks_are_the_sections_in_order(reference: Rendered) -> None:
    titles = [title for title, _ in reference.bookmarks()]
    closing = reference.loaded.publication.about.title
    assert titles == [*section_headings(reference), closing]


def test_contents_page_lists_sections_with_page_numbers(reference: Rendered) -> None:
    pages = reference.pages_text()
    contents = squash(pages[1]).replace(".", "").replace("\u2060", "")
    assert contents.startswith("Innhold")
    for title, page in reference.bookmarks():
        assert squash(title).replace(".", "") + str(page) in contents, title
    annots = [a.get_object() for a in reference.reader.pages[1].get("/Annots") or []]
    assert len(annots) >= len(reference.bookmarks())  # every entry is a clickable link


def test_cover(reference: Rendered) -> None:
    cover = squash(reference.pages_text()[0])
    for line in (
        "Koordineringsenheten mot menneskehandel",
        "Nyhetsbrev fra KOM",
        "oktober–desember 2024",
        "Til KOMs samarbeidsaktører",
    ):
        assert squash(line) in cover
    assert "side" not in cover  # no footer on the cover


def test_every_article_title_in_reading_order_with_letters_intact(reference: Rendered) -> None:
    text = squash("".join(reference.pages_text()[2:]))
    position = 0
    for section in reference.loaded.issue.sections:
        for article in section.articles:
            found = text.find(squash(article.title), position)
            assert found >= 0, f"{article.title!r} missing or out of order"
            position = found
    for word in ("Østersjørådet", "Jämställdhetsmyndigheten", "høring", "Barneombudet"):
        assert word in text


def test_sections_flow_and_forts_heads_the_page_of_whatever_goes_on(reference: Rendered) -> None:
    """Sections run on: a new page only before the first section and the closing page. Every
    page after the contents begins either with a section's heading (no head) or with more of
    the section above (its title "forts." as the running head)."""
    loaded = reference.loaded
    marks = reference.bookmarks()
    headings = [*section_headings(reference), loaded.publication.about.title]
    assert [t for t, _ in marks] == headings
    starts = [page for _, page in marks]
    assert starts[0] == 3 and starts[-1] == len(reference.reader.pages)
    assert len(set(starts)) < len(starts), "some sections share a page: they flow"
    continued = 0
    for number in range(3, len(reference.reader.pages) + 1):
        artifact, content = reference.split_text(number - 1)
        opening = [h for h, first in zip(headings, starts, strict=True) if first == number]
        if opening and content.startswith(squash(opening[0])):
            assert "forts." not in artifact, (number, artifact[:80])
            continue
        above = [h for h, first in zip(headings, starts, strict=True) if first < number][-1]
        continued += 1
        assert artifact.startswith(squash(f"{above} forts.")), (number, artifact[:80])
    assert continued >= 5  # the reference runs several sections over pages


def test_split_articles_are_continued_by_name_and_only_then(reference: Rendered) -> None:
    loaded = reference.loaded
    titles = [squash(a.title) for s in loaded.issue.sections for a in s.articles]
    boxes = [squash(loaded.publication.contact.title or ""), squash(loaded.publication.about.title)]
    footer = squash(f"{loaded.title} · {loaded.period_label}")
    headings = [squash(h) for h in [*section_headings(reference), loaded.publication.about.title]]
    split = 0
    for number in range(3, len(reference.reader.pages) + 1):
        artifact, content = reference.split_text(number - 1)
        if any(content.startswith(h) for h in headings):
            continue  # a section begins the page
        head = next(h + "forts." for h in headings if artifact.startswith(h + "forts."))
        rest = artifact[len(head) : artifact.index(footer)]
        starts_new = any(content.startswith(t) for t in [*titles, *boxes] if t)
        if rest:  # "<article> forts.": that article began earlier and goes on here
            split += 1
            assert rest.endswith("forts.") and rest[: -len("forts.")] in titles, rest
            assert not starts_new, f"page {number} says {rest!r} but begins a new article"
            earlier = squash("".join(reference.pages_text()[: number - 1]))
            assert rest[: -len("forts.")] in earlier
        else:  # nothing continued: the page must begin with a heading
            assert starts_new, f"page {number} continues an article without saying so"
    assert split >= 1, "the reference splits an article over pages"


def test_no_heading_ends_a_page(reference: Rendered) -> None:
    """Headings are kept with what follows: the last text line of a page is never a heading."""
    loaded = reference.loaded
    titles = {squash(a.title) for s in loaded.issue.sections for a in s.articles}
    titles |= {squash(h) for h in section_headings(reference)}
    footer = squash(f"{loaded.title} · {loaded.period_label}")
    for number, text in enumerate(reference.pages_text()[2:], start=3):
        lines = [line for line in text.splitlines() if line.strip()]
        body = [line for line in lines if footer not in squash(line) and "av" not in line[-8:]]
        assert body and squash(body[-1]) not in titles, (number, body[-1])


def test_running_heads_and_footers_are_artifacts(reference: Rendered) -> None:
    total = len(reference.reader.pages)
    marks = dict((page, title) for title, page in reference.bookmarks())
    for index in range(1, total):
        artifact, content = reference.split_text(index)
        assert squash(f"side {index + 1} av {total}") in artifact
        assert squash(f"side {index + 1} av {total}") not in content
        if index + 1 > 3 and index + 1 not in marks:
            assert "forts." in artifact and "forts." not in content


def test_links_are_annotations_with_the_issues_urls(reference: Rendered) -> None:
    expected = yaml_link_addresses(
        reference.loaded
    )  # read from the YAML, not by the code under test
    assert "https://hudoc.echr.coe.int" in expected
    assert expected <= reference.uris()
    assert "#" not in reference.uris()  # placeholders stay text, not dead links


def test_all_fonts_embedded_and_lato(reference: Rendered) -> None:
    out = subprocess.run(
        [require_tool("pdffonts"), str(reference.path)], check=True, capture_output=True, text=True
    ).stdout
    rows = [line.split() for line in out.splitlines()[2:] if line.strip()]
    assert rows
    for row in rows:
        name, emb = row[0], row[-5]
        assert re.fullmatch(r"[A-Z]{6}\+Lato-\w+", name), name
        assert emb == "yes", row
