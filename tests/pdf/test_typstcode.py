"""Content as Typst code: string literals round-trip through Typst itself; Markdown becomes calls."""

from __future__ import annotations

import json

import pytest
import typst
from hypothesis import given, settings
from hypothesis import strategies as st

from nyhetsbrev.render.typstcode import md_typst, typst_fmt, typst_str


@pytest.mark.parametrize(
    ("text", "literal"),
    [
        ("", '""'),
        ("æøå ÆØÅ – «»", '"æøå ÆØÅ – «»"'),
        ('si "hei"', r'"si \"hei\""'),
        ("a\\b", r'"a\\b"'),
        ("to\nlinjer\r\tinnrykk", r'"to\nlinjer\r\tinnrykk"'),
        ("bell\x07 esc\x1b del\x7f nel\x85", r'"bell\u{7} esc\u{1b} del\u{7f} nel\u{85}"'),
        ("#set $x$ *a* _b_ @c <d> ] // e /* f", '"#set $x$ *a* _b_ @c <d> ] // e /* f"'),
        ("\u2028\u2029", r'"\u{2028}\u{2029}"'),
        (None, '""'),
        (42, '"42"'),
    ],
)
def test_typst_str(text: object, literal: str) -> None:
    assert typst_str(text) == literal


def round_trip(texts: list[str]) -> list[str]:
    """What Typst itself reads back from our literals (one compile for the whole list)."""
    source = "#metadata((" + "".join(typst_str(t) + ", " for t in texts) + ")) <x>"
    result = typst.query(source.encode(), "<x>", field="value", one=True, ignore_system_fonts=True)
    return list(json.loads(result))


def test_literals_round_trip_through_typst() -> None:
    texts = ['"', "\\", '\\"', "\\u{41}", "\n\n", "\x00\x01\x1f", "} ] ) #{", "// no", "/* no"]
    texts += ["æøå", "😀 emoji", "\u200b zero width", "\ufeff bom", "a\tb", "x" * 500]
    assert round_trip(texts) == texts


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(exclude_categories=["Cs"])), max_size=30))
def test_any_text_round_trips(texts: list[str]) -> None:
    assert round_trip(texts) == texts


def test_markdown_becomes_calls_of_literals() -> None:
    code = md_typst('Se **fet #x** og *skrå* [her](https://a.no/?q="1").\n\n- én\n- to  \nlinje')
    assert code == (
        '{ par(("Se " + strong("fet #x") + " og " + emph("skrå") + " "'
        ' + link("https://a.no/?q=%221%22", "her") + "."));'
        ' list("én", ("to" + linebreak() + "linje")) }'
    )


def test_placeholder_links_stay_text_and_nesting_works() -> None:
    assert md_typst("se [her](#)") == '{ par(("se " + "her")) }'
    assert md_typst("1. a\n2. b\n\n   - c") == '{ enum("a", { par("b"); list("c") }) }'
    assert md_typst("") == "[]" and md_typst(None) == "[]"
    assert md_typst("<b>raw</b> stays text") == '{ par("<b>raw</b> stays text") }'


def test_labels_with_placeholders() -> None:
    assert typst_fmt("side {page} av {total}", page="str(p)", total="str(t)") == (
        '"side " + (str(p)) + " av " + (str(t))'
    )
    assert typst_fmt('"{n}"', n="n") == r'"\"" + (n) + "\""'
    assert typst_fmt("ingen") == '"ingen"'
    assert typst_fmt("") == '""'
    with pytest.raises(KeyError, match="page"):
        typst_fmt("side {page}")
