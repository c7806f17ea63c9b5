"""Every label a reader or an editor sees, per language, and a finder of another language's
labels in an output: the test that a Swedish page carries no bokmål word from the catalogue."""

from __future__ import annotations

import html
import re
from functools import cache

import yaml

from nyhetsbrev.issue.hints import HINTS
from nyhetsbrev.theme import default_theme
from nyhetsbrev.web.pages import LABELS_FILE

LANGUAGES = ("nb", "nn", "en", "sv")
_PLACEHOLDER = re.compile(r"\{[a-z_]+\}")
_TAG = re.compile(r"<(script|style)\b.*?</\1>|<[^>]+>", re.S | re.I)
MIN_FRAGMENT = 6  # shorter pieces ("PDF", "fel") are words of many languages


def _yaml(path: object) -> dict[str, dict[str, str]]:
    with open(str(path), encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    return {str(k): {str(a): str(b) for a, b in v.items()} for k, v in data.items()}


@cache
def catalogues() -> dict[str, dict[str, dict[str, str]]]:
    """name → language → key → text: the theme's edition labels, the web pages' labels and
    check's hints."""
    hints = {
        lang: {"good_link": h.good_link, **{f"vague:{t}": t for t in h.vague_links}}
        for lang, h in HINTS.items()
    }
    return {
        "theme labels.yaml": _yaml(default_theme().path / "labels.yaml"),
        "web/labels.yaml": _yaml(LABELS_FILE),
        "issue/hints.py": hints,
    }


def fragments(text: str) -> set[str]:
    """The literal pieces of a label (placeholders and line ends cut it), long enough to tell."""
    pieces = re.split(r"\{[a-z_]+\}|\n", text)
    return {p.strip(" .,:;()") for p in pieces if len(p.strip(" .,:;()")) >= MIN_FRAGMENT}


@cache
def foreign_fragments(language: str) -> frozenset[str]:
    """Label pieces of the other languages that are not pieces of this language's labels."""
    own: set[str] = set()
    other: set[str] = set()
    for name, table in catalogues().items():
        if name == "issue/hints.py":
            continue  # vague link texts are words an editor wrote, not labels we print
        for lang, labels in table.items():
            for text in labels.values():
                (own if lang == language else other).update(fragments(text))
    return frozenset(other - own)


def visible_text(markup: str) -> str:
    """The text of an HTML page as a reader sees it (tags out, entities decoded)."""
    return " ".join(html.unescape(_TAG.sub(" ", markup)).split())


def foreign_labels_in(text: str, language: str) -> list[str]:
    """The other languages' label pieces found (as whole words) in `text`."""
    flat = " ".join(text.split())
    return sorted(
        f for f in foreign_fragments(language) if re.search(rf"(?<!\w){re.escape(f)}(?!\w)", flat)
    )
