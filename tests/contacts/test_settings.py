"""Topics and the privacy-notice version come from the publication YAML; the docs cover every verb."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result

from nyhetsbrev.contacts.cli import contacts
from nyhetsbrev.contacts.model import DEFAULT_TOPICS, ListSettings, load_list_settings
from nyhetsbrev.errors import ContactsError

Run = Callable[..., Result]
REPO = Path(__file__).resolve().parents[2]


def test_defaults_without_a_publication_file(tmp_path: Path) -> None:
    assert load_list_settings(tmp_path) == ListSettings(DEFAULT_TOPICS, None)
    (tmp_path / "kom.yaml").write_text("name: KOM\n", encoding="utf-8")
    assert load_list_settings(tmp_path) == ListSettings(DEFAULT_TOPICS, None)


def test_publication_topics_and_privacy_notice(tmp_path: Path) -> None:
    (tmp_path / "kom.yaml").write_text(
        "name: KOM\ntopics: [nyhetsbrev, podkast]\nprivacy_notice_version: 2025.1\n",
        encoding="utf-8",
    )
    assert load_list_settings(tmp_path) == ListSettings(("nyhetsbrev", "podkast"), "2025.1")


@pytest.mark.parametrize(
    "text",
    ["topics: nyhetsbrev\n", "topics: []\n", "topics: [Nyhetsbrev]\n", "topics:\n  - {a: 1}\n"],
)
def test_bad_topics_are_reported_with_their_line(tmp_path: Path, text: str) -> None:
    (tmp_path / "kom.yaml").write_text("name: KOM\n" + text, encoding="utf-8")
    with pytest.raises(ContactsError) as caught:
        load_list_settings(tmp_path, "newsletters/kom.yaml")
    assert caught.value.message == (
        "newsletters/kom.yaml:2: topics: must be a list of topic names in lower case letters, "
        "digits and hyphens — e.g. [nyhetsbrev, rettsavgjorelser, tilstandsrapport]"
    )


def test_the_cli_uses_the_publications_topics(run: Run, workspace: Path) -> None:
    kom = workspace / "newsletters" / "kom.yaml"
    text = kom.read_text(encoding="utf-8")
    assert "\ntopics:\n" in text
    kom.write_text(text.replace("\ntopics:\n", "\ntopics:\n  - podkast\n"), encoding="utf-8")
    run("add", "p@example.org", "--topic", "Podkast")
    assert run("list", "--topic", "podkast", "--format", "csv").stdout.count("p@example.org") == 1


def test_the_docs_describe_every_command() -> None:
    docs = (REPO / "docs" / "contacts.md").read_text(encoding="utf-8")
    for name, command in contacts.commands.items():
        assert f"nyhetsbrev contacts {name}" in docs, name
        assert command.help, name
