"""Every label exists in every language, with the same placeholders: a key in one language
and not in another fails here, for the editions, the web pages and check's hints."""

from __future__ import annotations

import re

import pytest

from nyhetsbrev.issue.hints import HINTS, is_vague_link
from nyhetsbrev.theme import REQUIRED_LABEL_LANGUAGES
from nyhetsbrev.web.pages import LANGUAGE_NAMES
from nyhetsbrev.web.pages import LANGUAGES as PAGE_LANGUAGES
from tests.i18n.catalogue import LANGUAGES, catalogues

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@pytest.mark.parametrize("name", ["theme labels.yaml", "web/labels.yaml", "issue/hints.py"])
def test_every_label_is_in_every_language(name: str) -> None:
    table = catalogues()[name]
    assert sorted(table) == sorted(LANGUAGES), f"{name}: languages {sorted(table)}"
    if name == "issue/hints.py":  # its vague-link lists differ by nature; its fields do not
        keys = {
            lang: {k for k in labels if not k.startswith("vague:")}
            for lang, labels in table.items()
        }
    else:
        keys = {lang: set(labels) for lang, labels in table.items()}
    every = set().union(*keys.values())
    for lang in LANGUAGES:
        assert not every - keys[lang], f"{name}: missing in {lang}: {sorted(every - keys[lang])}"
    for key in keys["nb"]:
        wanted = {lang: set(PLACEHOLDER.findall(table[lang][key])) for lang in LANGUAGES}
        assert len({frozenset(v) for v in wanted.values()}) == 1, f"{name}: {key}: {wanted}"
        assert all(table[lang][key].strip() for lang in LANGUAGES), f"{name}: {key} is empty"


def test_the_languages_agree() -> None:
    assert tuple(REQUIRED_LABEL_LANGUAGES) == LANGUAGES == PAGE_LANGUAGES
    assert set(LANGUAGE_NAMES) == set(LANGUAGES) == set(HINTS)


@pytest.mark.parametrize(
    "text",
    [
        "se her",
        "se här",
        "see here",
        "her",
        "här",
        "here",
        "klikk her",
        "klicka här",
        "click here",
        "les meir",
        "läs mer",
        "read more",
        "les mer",
        "trykk her",
        "Se her.",
        "  Klicka  HÄR! ",
        "«les mer»",
    ],
)
def test_vague_link_texts_of_every_language(text: str) -> None:
    assert is_vague_link(text)


@pytest.mark.parametrize("text", ["Veileder for identifisering", "herredsrett", "Läs rapporten"])
def test_link_texts_that_name_their_target(text: str) -> None:
    assert not is_vague_link(text)
