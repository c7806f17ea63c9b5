"""The plain-text edition: 72 columns, marked headings, numbered links, the whole footer."""

from __future__ import annotations

import re

from tests.render.conftest import Rendered

from nyhetsbrev.render import placeholders
from nyhetsbrev.render.text import WIDTH, _fill, render_text


def test_no_line_is_longer_than_72_unless_it_is_one_unbreakable_word(reference: Rendered) -> None:
    for line in reference.text("email.txt").splitlines():
        if len(line) > WIDTH:
            words = line.strip().split(" ")
            assert len(words) == 1 or re.match(r"\[\d+\] ", line.strip()), line


def test_urls_are_never_broken() -> None:
    url = "https://www.regjeringen.no/no/dokumenter/" + "veldig-lang-adresse-" * 4 + "slutt/"
    text = _fill(f"Se {url} for mer, og del gjerne videre til kolleger.", "", "")
    assert url in text.splitlines()
    assert all(len(line) <= WIDTH for line in text.splitlines() if url not in line)


def test_headings_are_underlined_sections_with_equals_articles_with_dashes(small: Rendered) -> None:
    text = small.text("email.txt")
    assert "\n\n\nVerdt å merke seg\n=================\n\nNytt fra KOM\n" in text
    assert "\nNy veileder om identifisering\n-----------------------------\n" in text


def test_links_are_numbered_and_listed_under_their_article(small: Rendered) -> None:
    text = small.text("email.txt")
    assert "Les veilederen på politiet.no [1]. Veilederen" in text
    article = text.split("Ny veileder om identifisering\n")[1].split("Kurs om utnyttelse")[0]
    assert article.rstrip().endswith("[1] https://www.politiet.no/menneskehandel/veileder")
    assert "- T.V. v. Spain [4] (application no. 22512/21, 10.10.2024)" in text
    assert "[4] https://hudoc.echr.coe.int/eng?i=001-236067" in text


def test_an_address_used_again_keeps_its_number(small: Rendered) -> None:
    text = small.text("email.txt")
    numbers = re.findall(r"\[(\d+)\] https://www\.politiet\.no/menneskehandel\n", text)
    assert len(numbers) == 2 and len(set(numbers)) == 1


def test_a_link_showing_its_own_address_gets_no_number(small: Rendered) -> None:
    text = small.text("email.txt")
    assert "kontakt oss på KOM.pod@politiet.no." in text
    assert "følg\nhttps://www.politiet.no/menneskehandel/rettsavgjorelser for nye dommer." in text


def test_bullets_hang_and_letters_stay_intact(small: Rendered) -> None:
    text = small.text("email.txt")
    assert (
        "- en oversikt over hvem du kan henvise til for bistand, beskyttelse og\n"
        "  veiledning om rettigheter, økonomisk støtte og trygt bosted\n" in text
    )
    assert "æ" in text and "ø" in text and "å" in text


def test_event_and_image_are_told_in_words(small: Rendered) -> None:
    text = small.text("email.txt")
    assert (
        "- 15.–16. mai 2025, digitalt\n"
        "  Grunnkurs om utnyttelse og menneskehandel [2] (Arrangør: RVTS Øst)\n" in text
    )
    assert "[Forsiden av veilederen, mørkeblå med et gult felt]" in text


def test_the_footer_says_how_to_join_and_leave(small: Rendered) -> None:
    text = small.text("email.txt")
    assert "\nOm KOM\n======\n" in text and "\nKOMs kontaktliste\n=================\n" in text
    assert f"Meld deg av: {placeholders.UNSUBSCRIBE_URL}\n" in text
    assert text.endswith("Les nyhetsbrevet i nettleseren:\nhttps://nyhetsbrev.kom.test/2025-q1/\n")
    assert "\nGod vår!\n" in text


def test_text_has_no_markup_and_no_trailing_spaces(reference: Rendered) -> None:
    text = reference.text("email.txt")
    assert "**" not in text and "<" not in text.replace("<https", "")
    assert all(line == line.rstrip() for line in text.splitlines())
    assert render_text(reference.loaded, reference.theme) == text
