"""Every bad input gives one clear located line and never a traceback."""

from __future__ import annotations

import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nyhetsbrev.issue.findings import Finding
from nyhetsbrev.issue.load import load
from nyhetsbrev.workspace import Workspace

from .cases import CASES, GOOD

ISSUE = "newsletters/2025-q1/issue.yaml"


def write_issue(root: Path, content: str | bytes) -> Path:
    folder = root / "newsletters" / "2025-q1"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "bilde.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    path = folder / "issue.yaml"
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return path


def errors(root: Path) -> list[str]:
    issue, findings = load(Workspace(root), "2025-q1")
    assert_consistent(issue, findings)
    return [f.format() for f in findings if f.level == "error"]


def assert_consistent(issue: object, findings: list[Finding]) -> None:
    """No issue exactly when there is an error, and every finding points into a file."""
    has_errors = any(f.level == "error" for f in findings)
    assert (issue is None) == has_errors, (issue, findings)
    assert all(f.file and f.line >= 1 and f.col >= 1 for f in findings), findings


def test_several_problems_are_reported_at_once(workspace: Path) -> None:
    """Three unrelated mistakes in one file: all three come back from one load, in order."""
    broken = (
        GOOD.replace("language: nb", "language: no")
        .replace("preheader: Kort om kvartalet.", "preheader: Kort om kvartalet.\nforfatter: KOM")
        .replace("title: Første sak", "title: 2025")
    )
    write_issue(workspace, broken)
    found = errors(workspace)
    assert len(found) == 3, found
    assert [line.split(": error: ")[1].split(":")[0] for line in found] == [
        "language",
        "forfatter",
        "sections[0].articles[0].title",
    ]
    lines = [int(line.split(":")[1]) for line in found]
    assert lines == sorted(lines)


@pytest.mark.parametrize(("name", "content", "expected"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_reports_exactly(
    workspace: Path, name: str, content: str | bytes, expected: list[str]
) -> None:
    write_issue(workspace, content)
    assert errors(workspace) == [line.replace("F:", f"{ISSUE}:", 1) for line in expected]


@pytest.mark.parametrize(
    ("name", "content", "expected"), CASES[:12], ids=[c[0] for c in CASES[:12]]
)
def test_bad_input_through_the_cli(
    workspace: Path, cli, name: str, content: str | bytes, expected: list[str]
) -> None:
    write_issue(workspace, content)
    result = cli("check", "2025-q1")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    for line in expected:
        assert line.replace("F:", f"{ISSUE}:", 1) in result.output
    assert result.output.rstrip().endswith("fix the errors above")


def test_good_file_loads(workspace: Path) -> None:
    write_issue(workspace, GOOD)
    assert errors(workspace) == []


def test_huge_file_is_refused_in_one_line(workspace: Path) -> None:
    write_issue(workspace, GOOD + "# " + "x" * (50 * 1024 * 1024) + "\n")
    assert errors(workspace) == [
        f"{ISSUE}:1:1: error: file is 50.0 MB; a newsletter file is at most 2 MB — "
        "is this the right file?"
    ]


def test_utf8_bom_and_crlf_are_fine(workspace: Path) -> None:
    write_issue(workspace, b"\xef\xbb\xbf" + GOOD.replace("\n", "\r\n").encode("utf-8"))
    assert errors(workspace) == []


def test_errors_in_the_publication_are_located_there(workspace: Path) -> None:
    write_issue(workspace, GOOD)
    masthead = workspace / "newsletters" / "kom.yaml"
    masthead.write_text(
        masthead.read_text("utf-8").replace("short_name: KOM", "shortname: KOM"), "utf-8"
    )
    found = errors(workspace)
    assert len(found) == 2
    assert all(line.startswith("newsletters/kom.yaml:") for line in found)
    assert sum("`short_name` is required here" in line for line in found) == 1
    assert (
        sum(
            line.endswith(
                ': error: shortname: unknown field `shortname`: did you mean "short_name"?'
            )
            for line in found
        )
        == 1
    )


def test_missing_issue_and_bad_id(workspace: Path, cli) -> None:
    result = cli("check", "2031-q2")
    assert result.exit_code == 1
    assert result.output == (
        "Error: newsletters/2031-q2/issue.yaml does not exist: start it with "
        "`nyhetsbrev new 2031-q2`. Issues here: 2024-q4.\n"
    )
    result = cli("check", "2024-q5")
    assert result.exit_code == 1
    assert result.output == (
        'Error: "2024-q5" is not an issue id: write the year and quarter as YYYY-qN with ASCII '
        "digits, e.g. 2025-q1\n"
    )


YAMLISH = st.text(alphabet=string.printable + "æøåÆØÅ:-#&*!|>'\"[]{}%@`\t", max_size=400)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=YAMLISH)
def test_random_yaml_never_raises(workspace: Path, text: str) -> None:
    write_issue(workspace, text)
    issue, findings = load(Workspace(workspace), "2025-q1")
    assert_consistent(issue, findings)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=400))
def test_random_bytes_never_raise(workspace: Path, data: bytes) -> None:
    write_issue(workspace, data)
    issue, findings = load(Workspace(workspace), "2025-q1")
    assert_consistent(issue, findings)


@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    key=st.sampled_from(["title", "body", "deadline", "language", "events", "image", "recurring"]),
    value=st.one_of(st.text(max_size=30), st.integers(), st.booleans(), st.dates(), st.none()),
)
def test_random_values_in_an_article_never_raise(workspace: Path, key: str, value: object) -> None:
    import yaml

    doc = yaml.safe_load(GOOD)
    doc["sections"][0]["articles"][0][key] = value
    write_issue(workspace, yaml.safe_dump(doc, allow_unicode=True))
    issue, findings = load(Workspace(workspace), "2025-q1")
    assert_consistent(issue, findings)
