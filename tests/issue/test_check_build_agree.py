"""`check` knows what `build` refuses: over the whole bad-input table, check's exit code and
located messages, and build agreeing with it (refusing the same, leaving build/ untouched);
whatever check passes, build builds."""

from __future__ import annotations

from pathlib import Path

import pytest

from .cases import CASES, PASSING
from .test_load_errors import ISSUE, write_issue


def _tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.mark.parametrize(("name", "content", "expected"), CASES, ids=[c[0] for c in CASES])
def test_check_reports_and_build_refuses_alike(
    workspace: Path, cli, name: str, content: str | bytes, expected: list[str]
) -> None:
    write_issue(workspace, content)
    lines = [line.replace("F:", f"{ISSUE}:", 1) for line in expected]
    checked = cli("check", "2025-q1")
    assert checked.exit_code == 1, checked.output
    assert "Traceback" not in checked.output
    for line in lines:
        assert line in checked.output.splitlines(), (line, checked.output[-2000:])
    before = _tree(workspace / "build")
    built = cli("build", "2025-q1")
    assert built.exit_code == 1, built.output
    assert "Traceback" not in built.output
    for line in lines:
        assert line in built.output, (line, built.output[-2000:])
    assert _tree(workspace / "build") == before


@pytest.mark.parametrize(("name", "content"), PASSING, ids=[c[0] for c in PASSING])
def test_what_check_passes_build_builds(workspace: Path, cli, name: str, content: str) -> None:
    write_issue(workspace, content)
    checked = cli("check", "2025-q1")
    assert checked.exit_code == 0, checked.output
    built = cli("build", "2025-q1")
    assert built.exit_code == 0, built.output
    assert (workspace / "build" / "2025-q1" / "email.html").is_file()
