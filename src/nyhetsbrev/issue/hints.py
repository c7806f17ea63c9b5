"""What `check`'s editorial hints know about each language: link texts that say nothing about
where they lead, and the example of a good link a hint shows (in the issue's own language).

One table per language, every language with the same keys (tests check it), so a fifth language
is one more entry here.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LanguageHints:
    #: Link texts that do not say where the link leads (WCAG 2.4.4), compared casefolded, with
    #: surrounding punctuation and repeated spaces removed.
    vague_links: frozenset[str]
    #: A link whose words name its target, shown as the way to write it.
    good_link: str


HINTS: dict[str, LanguageHints] = {
    "nb": LanguageHints(
        vague_links=frozenset(
            {
                "her",
                "se her",
                "klikk her",
                "trykk her",
                "les mer",
                "les mer her",
                "mer",
                "mer her",
                "lenke",
                "lenken",
                "denne lenken",
                "link",
            }
        ),
        good_link="[Årsrapporten for 2024](https://…)",
    ),
    "nn": LanguageHints(
        vague_links=frozenset(
            {
                "her",
                "sjå her",
                "se her",
                "klikk her",
                "trykk her",
                "les meir",
                "les meir her",
                "les mer",
                "meir",
                "lenkje",
                "lenkja",
                "denne lenkja",
                "lenke",
            }
        ),
        good_link="[Årsmeldinga for 2024](https://…)",
    ),
    "en": LanguageHints(
        vague_links=frozenset(
            {
                "here",
                "see here",
                "click here",
                "click",
                "read more",
                "more",
                "more here",
                "link",
                "this link",
                "learn more",
            }
        ),
        good_link="[Annual report 2024](https://…)",
    ),
    "sv": LanguageHints(
        vague_links=frozenset(
            {
                "här",
                "se här",
                "klicka här",
                "tryck här",
                "läs mer",
                "läs mer här",
                "mer",
                "länk",
                "länken",
                "den här länken",
                "denna länk",
            }
        ),
        good_link="[Årsredovisningen för 2024](https://…)",
    ),
}

#: Vague in any language is vague: a bokmål issue may well quote an English "click here".
VAGUE_LINK_TEXT: frozenset[str] = frozenset().union(*(h.vague_links for h in HINTS.values()))


def hints(language: str) -> LanguageHints:
    """The hints of `language`; bokmål for a language without a table."""
    return HINTS.get(language, HINTS["nb"])


def is_vague_link(text: str) -> bool:
    return " ".join(text.strip(" .,:;!?…»«”“\"'").casefold().split()) in VAGUE_LINK_TEXT
