"""Issue ids: ASCII digits, a sane year, nothing after (review finding 13); every refusal clean."""

from __future__ import annotations

from pathlib import Path

import pytest

from nyhetsbrev.errors import IssueError
from nyhetsbrev.issue.load import check_issue_id

BAD = [
    "２０２４-q1",
    "2024-q1\n",
    "2024-q1 ",
    "0000-q1",
    "0999-q4",
    "9999-q1",
    "2024-Q1",
    "٢٠٢٤-q1",
]


@pytest.mark.parametrize("issue_id", BAD)
def test_bad_ids_are_refused_with_the_format(issue_id: str) -> None:
    with pytest.raises(IssueError) as caught:
        check_issue_id(issue_id)
    assert "YYYY-qN" in caught.value.message or "year" in caught.value.message


@pytest.mark.parametrize("issue_id", BAD)
def test_new_refuses_them_cleanly_and_makes_no_folder(
    cli: object, workspace: Path, issue_id: str
) -> None:
    result = cli("new", issue_id)  # type: ignore[operator]
    assert result.exit_code == 1, result.output
    assert result.output.startswith("Error: ") and "unexpected" not in result.output
    assert sorted(p.name for p in (workspace / "newsletters").iterdir() if p.is_dir()) == [
        "2024-q4"
    ]


@pytest.mark.parametrize("issue_id", ["2024-q1", "1990-q2", "2099-q4"])
def test_good_ids_pass(issue_id: str) -> None:
    check_issue_id(issue_id)
