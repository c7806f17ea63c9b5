"""The language rules one by one: the `{lang=…}` syntax and its check, the masthead's fallback
and its warning, check's hints in the issue's language, dates, Accept-Language."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from nyhetsbrev import i18n
from nyhetsbrev.issue import markdown
from nyhetsbrev.issue.model import json_schemas
from nyhetsbrev.render.typstcode import md_typst
from nyhetsbrev.web.pages import negotiate
from tests.conftest import CliCaller
from tests.i18n.workspace import ISSUES


def test_a_span_and_a_paragraph_in_another_language() -> None:
    blocks = markdown.parse(
        "Konferansen «[Från **ord** till handling]{lang=sv}» i Stockholm.\n\n"
        "Whole paragraph in English. {lang=en-GB}\n\n- [Hej]{lang=sv} og ha det\n"
    )
    assert markdown.languages(blocks) == [("sv", 0), ("en-GB", 2), ("sv", 4)]
    assert markdown.blocks_html(blocks) == (
        '<p>Konferansen «<span lang="sv">Från <strong>ord</strong> till handling</span>» i '
        'Stockholm.</p>\n<p lang="en-GB">Whole paragraph in English.</p>\n'
        '<ul><li><span lang="sv">Hej</span> og ha det</li></ul>'
    )
    assert markdown.block_plain(blocks).startswith("Konferansen «Från ord till handling» i")
    code = md_typst("[Från ord]{lang=sv} og\n\nAll English. {lang=en-GB}")
    assert 'text(lang: "sv", "Från ord")' in code
    assert 'text(lang: "en", region: "GB", par("All English."))' in code


@pytest.mark.parametrize(
    "text",
    ["[Från ord]", "[Från ord] {lang=sv}x", "{lang=sv} at the start", "[x]{lang=}", "[x]{lang sv}"],
)
def test_what_is_not_a_language_mark_stays_text(text: str) -> None:
    blocks = markdown.parse(text)
    assert markdown.languages(blocks) == []
    assert markdown.block_plain(blocks) == text


def test_a_link_inside_a_span_is_still_a_link() -> None:
    blocks = markdown.parse("Se [[rapporten](https://nspm.se/r)]{lang=sv}.")
    [(link, _)] = markdown.links(blocks)
    assert link.href == "https://nspm.se/r"
    assert '<span lang="sv"><a href="https://nspm.se/r">rapporten</a></span>' in (
        markdown.blocks_html(blocks)
    )


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_check_rejects_an_unknown_language_code_at_its_place(
    languages_ws: Path, cli: CliCaller
) -> None:
    issue = languages_ws / "newsletters" / ISSUES["nb"] / "issue.yaml"
    _edit(issue, "{lang=sv}", "{lang=svenska}")
    result = cli("check", ISSUES["nb"])
    assert result.exit_code != 0
    line = next(n for n, t in enumerate(issue.read_text("utf-8").splitlines(), 1) if "{lang=" in t)
    col = issue.read_text("utf-8").splitlines()[line - 1].index("{lang=") + 1
    assert (
        f"newsletters/{ISSUES['nb']}/issue.yaml:{line}:{col}: error: "
        'sections[0].articles[0].body: "svenska" is not a language tag' in result.output
    )
    _edit(issue, "{lang=svenska}", "{lang=zz}")
    result = cli("check", ISSUES["nb"])
    assert result.exit_code != 0 and '"zz" is not a language Babel knows' in result.output


def test_a_missing_translation_falls_back_with_a_located_warning(
    languages_ws: Path, cli: CliCaller
) -> None:
    pub = languages_ws / "newsletters" / "srs.yaml"
    _edit(pub, "  sv: Till alla som arbetar med språk\n", "")
    result = cli("check", ISSUES["sv"])
    assert result.exit_code == 0, result.output
    line = pub.read_text("utf-8").splitlines().index("audience:") + 1
    assert (
        f"newsletters/srs.yaml:{line}:1: warning: audience: has no sv text, so this sv issue "
        "shows the nb one: add `sv: …` under it" in result.output
    )
    assert "audience" not in cli("check", ISSUES["en"]).output  # en has its own
    built = cli("build", ISSUES["sv"])
    assert built.exit_code == 0, built.output
    text = (languages_ws / "build" / ISSUES["sv"] / "email.txt").read_text("utf-8")
    assert "Til alle som arbeider med språk" in text and "Nyhetsbrev från SRS" in text


def test_a_per_language_text_must_have_the_publications_language(
    languages_ws: Path, cli: CliCaller
) -> None:
    pub = languages_ws / "newsletters" / "srs.yaml"
    _edit(pub, "  nb: Nyhetsbrev fra SRS\n", "")
    result = cli("check", ISSUES["en"])
    assert result.exit_code != 0
    line = pub.read_text("utf-8").splitlines().index("title:") + 1
    assert (
        f"newsletters/srs.yaml:{line}:1: error: title: has texts for nn, en, sv but not for nb"
        in result.output
    )


def test_the_schema_offers_each_language_and_a_plain_text() -> None:
    schema = json_schemas()["publication"]
    title = schema["properties"]["title"]["anyOf"]
    assert {"minLength": 1, "type": "string"} in title
    per_language = schema["$defs"]["PerLanguage"]
    assert sorted(per_language["properties"]) == ["en", "nb", "nn", "sv"]
    assert per_language["additionalProperties"] is False
    contact = schema["$defs"]["LocalizedTextBlock"]["properties"]["body"]
    assert contact["x-markdown"] is True


@pytest.mark.parametrize(
    ("language", "example", "foreign"),
    [
        ("nb", "[Årsrapporten for 2024](https://…)", "Årsredovisningen"),
        ("nn", "[Årsmeldinga for 2024](https://…)", "Annual report"),
        ("en", "[Annual report 2024](https://…)", "Årsrapporten"),
        ("sv", "[Årsredovisningen för 2024](https://…)", "Årsrapporten"),
    ],
)
def test_the_vague_link_hint_gives_an_example_in_the_issue_language(
    languages_ws: Path, cli: CliCaller, language: str, example: str, foreign: str
) -> None:
    issue = languages_ws / "newsletters" / ISSUES[language] / "issue.yaml"
    vague = {"nb": "se her", "nn": "les meir", "en": "click here", "sv": "se här"}[language]
    text = issue.read_text("utf-8")
    data = yaml.safe_load(text)
    body = data["sections"][0]["articles"][0]["body"]
    first = body.split("](")[0].split("[", 1)[1]
    _edit(issue, f"[{first}]", f"[{vague}]")
    result = cli("check", ISSUES[language])
    assert f'link text "{vague}" does not say where it leads' in result.output
    assert f"e.g. {example}" in result.output
    assert foreign not in result.output and "Veileder for identifisering" not in result.output


def test_court_decision_dates_cannot_be_misread() -> None:
    day = dt.date(2024, 10, 11)
    assert i18n.format_numeric(day, "en") == "11 October 2024"  # not 11/10/2024
    assert i18n.format_numeric(day, "nb") == "11.10.2024"
    assert i18n.format_numeric(day, "nn") == "11.10.2024"
    assert i18n.format_numeric(day, "sv") == "2024-10-11"


@pytest.mark.parametrize(
    ("header", "chosen"),
    [
        ("sv-SE,sv;q=0.9,en;q=0.8", "sv"),
        ("no", "nb"),
        ("nb-NO", "nb"),
        ("NN-no", "nn"),
        ("da, en-GB;q=0.8", "en"),
        ("en;q=0, sv;q=0.1", "sv"),
        ("de;q=x, sv;q=0.2", "sv"),
        ("fr-CA, de", None),
        ("*", None),
        ("", None),
    ],
)
def test_accept_language_negotiation(header: str, chosen: str | None) -> None:
    assert negotiate(header) == chosen


def test_check_rejects_an_unknown_language_code_in_the_masthead(
    languages_ws: Path, cli: CliCaller
) -> None:
    pub = languages_ws / "newsletters" / "srs.yaml"
    _edit(pub, "Write to [post@", "Write [to]{lang=english} [post@")
    result = cli("check", ISSUES["nb"])
    assert result.exit_code != 0
    lines = pub.read_text("utf-8").splitlines()
    line = next(n for n, t in enumerate(lines, 1) if "{lang=english}" in t)
    col = lines[line - 1].index("{lang=") + 1
    assert (
        f'newsletters/srs.yaml:{line}:{col}: error: contact.body.en: "english" is not a language tag'
        in result.output
    )


def test_a_language_the_masthead_does_not_know_is_named_with_the_allowed_ones(
    languages_ws: Path, cli: CliCaller
) -> None:
    pub = languages_ws / "newsletters" / "srs.yaml"
    _edit(pub, "  sv: Nyhetsbrev från SRS", "  se: Nyhetsbrev från SRS")
    result = cli("check", ISSUES["nb"])
    assert result.exit_code != 0
    line = pub.read_text("utf-8").splitlines().index("  se: Nyhetsbrev från SRS") + 1
    assert (
        f"newsletters/srs.yaml:{line}:3: error: title.se: unknown field `se`: "
        "allowed here: nb, nn, en, sv" in result.output
    )
    assert "expected text" not in result.output  # the plain-text branch is not the problem
