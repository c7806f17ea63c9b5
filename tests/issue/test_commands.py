"""The authoring verbs through the CLI: check (reference issue), new, schema, init, and the group."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from nyhetsbrev import __version__
from nyhetsbrev.issue.model import json_schemas

REPO = Path(__file__).resolve().parents[2]


def test_check_reference_reports_its_real_findings(workspace: Path, cli) -> None:
    result = cli("check", "2024-q4", env={"NYHETSBREV_TODAY": "2024-12-20"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    # grouped: one line per kind of problem, not sixty
    assert len(lines) == 5
    assert any(
        line.startswith("newsletters/2024-q4/issue.yaml:107:31: warning:")
        and '"side 2" refers to a page' in line
        and "name the section instead" in line
        for line in lines
    )
    placeholder = next(line for line in lines if 'link goes to "#"' in line)
    assert placeholder.startswith("newsletters/2024-q4/issue.yaml:")
    assert "and 50 more" in placeholder  # 59 "#" links in bodies + 4 event urls
    assert any('link text "her" does not say where it leads (WCAG 2.4.4)' in line for line in lines)
    assert any(line.startswith("newsletters/kom.yaml:") and "placeholder" in line for line in lines)
    assert lines[-1] == (
        "2024-q4: 0 errors, 121 warnings — ready to build (the warnings above are worth a look)"
    )


def test_check_json_lists_every_place(workspace: Path, cli) -> None:
    result = cli("check", "2024-q4", "--format", "json")
    data = json.loads(result.output)
    assert data["errors"] == 0
    links = next(f for f in data["findings"] if f["code"] == "placeholder-link")
    assert 1 + len(links["others"]) == 63
    assert all(o["line"] > 0 for o in links["others"])


def test_check_strict_fails_on_warnings(workspace: Path, cli) -> None:
    result = cli("check", "2024-q4", "--strict")
    assert result.exit_code == 1
    assert "ready to build" not in result.output  # it is not, with --strict
    assert result.output.splitlines()[-1] == (
        "2024-q4: 0 errors, 121 warnings — --strict stops on warnings: fix them, then check again"
    )


def test_check_and_build_print_findings_alike_in_colour(workspace: Path) -> None:
    """Both verbs print each finding as file:line:col with the level in yellow (a terminal)."""
    from click.testing import CliRunner

    from nyhetsbrev.cli import main

    runner = CliRunner()
    checked = runner.invoke(main, ["check", "2024-q4"], color=True)
    built = runner.invoke(main, ["build", "2024-q4"], color=True)
    assert checked.exit_code == 0 and built.exit_code == 0, built.output
    yellow = "\x1b[33m\x1b[1mwarning\x1b[0m"
    check_lines = [line for line in checked.stdout.splitlines() if yellow in line]
    build_lines = [line for line in built.stderr.splitlines() if yellow in line]
    assert len(check_lines) == 4 and build_lines == check_lines


def test_time_sensitive_warnings_follow_today(workspace: Path, cli) -> None:
    early = cli("check", "2024-q4", env={"NYHETSBREV_TODAY": "2024-12-20"}).output
    late = cli("check", "2024-q4", env={"NYHETSBREV_TODAY": "2026-01-01"}).output
    assert "deadline has passed" not in early and "event is already over" not in early
    assert "deadline has passed (today is 2026-01-01)" in late
    assert "(also at lines" in late.split("deadline has passed")[1].splitlines()[0]
    assert "event is already over (today is 2026-01-01)" in late


def test_lint_catches_each_editorial_problem(workspace: Path, cli) -> None:
    folder = workspace / "newsletters" / "2025-q1"
    folder.mkdir()
    (folder / "issue.yaml").write_text(
        "preheader: " + "x" * 140 + "\n"
        "sections:\n"
        "  - title: Tom\n"
        "  - title: Full\n"
        "    articles:\n"
        "      - title: Sak\n"
        "        body: |\n"
        "          Les [klikk her](http://www.regjeringen.no) og [rapporten](https://example.com/r)."
        "\n          TODO skriv mer.\n"
        "      - title: sak\n"
        "        deadline: 2025-01-10\n"
        "        events:\n"
        "          - title: Seminar\n"
        "            start: 2025-02-01\n",
        "utf-8",
    )
    result = cli("check", "2025-q1", env={"NYHETSBREV_TODAY": "2025-01-15"})
    out = result.output
    assert result.exit_code == 0
    for expected in (
        "issue.yaml:1:12: warning: preheader: preheader is 140 characters; inboxes show about 130",
        "issue.yaml:3:5: warning: sections[0]: section has no articles yet",
        'issue.yaml:8:15: warning: sections[1].articles[0].body: link text "klikk her" does not say',
        "issue.yaml:8:15: warning: sections[1].articles[0].body: link uses http://",
        'issue.yaml:8:57: warning: sections[1].articles[0].body: link goes to "https://example.com/r"',
        "warning: sections[1].articles[0].body: text still has a TODO/XXX marker",
        'warning: sections[1].articles[1].title: article title "sak" is used more than once',
        "warning: sections[1].articles[1].deadline: deadline has passed (today is 2025-01-15)",
        "warning: sections[1].articles[1].events[0]: event ends before this issue's period ends",
    ):
        assert expected in out, expected


def test_new_scaffolds_from_the_latest_issue(workspace: Path, cli) -> None:
    result = cli("new", "2025-q1")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == (
        "Created newsletters/2025-q1/issue.yaml from 2024-q4: 5 sections, 2 recurring articles "
        "kept, 4 upcoming events carried over."
    )
    text = (workspace / "newsletters" / "2025-q1" / "issue.yaml").read_text("utf-8")
    assert text.startswith("# yaml-language-server: $schema=../issue.schema.json\n")
    data = yaml.safe_load(text)
    assert data["period"] == {
        "start": __import__("datetime").date(2025, 1, 1),
        "end": __import__("datetime").date(2025, 3, 31),
    }
    titles = [s["title"] for s in data["sections"]]
    assert titles[0] == "Verdt å merke seg" and len(titles) == 5
    kept = [a["title"] for s in data["sections"] for a in s["articles"]]
    assert kept == ["KOM publikasjoner", "RVTS Øst"]
    assert "body: |" in text  # Markdown stays a literal block
    check = cli("check", "2025-q1", env={"NYHETSBREV_TODAY": "2024-12-20"})
    assert check.exit_code == 0
    assert "0 errors" in check.output
    assert "section has no articles yet" in check.output and "no preheader" in check.output


def test_new_drops_past_events_and_refuses_to_overwrite(workspace: Path, cli) -> None:
    assert cli("new", "2025-q3").exit_code == 0
    data = yaml.safe_load((workspace / "newsletters/2025-q3/issue.yaml").read_text("utf-8"))
    events = [e for s in data["sections"] for a in s["articles"] for e in a.get("events", [])]
    assert [e["start"].isoformat() for e in events] == ["2025-09-09", "2025-11-04"]
    again = cli("new", "2025-q3")
    assert again.exit_code == 1
    assert again.output == (
        "Error: newsletters/2025-q3/issue.yaml already exists: edit it, or remove it first to "
        "start over\n"
    )


def test_new_from_a_named_issue(workspace: Path, cli) -> None:
    assert cli("new", "2025-q1").exit_code == 0
    result = cli("new", "2025-q2", "--from", "2024-q4")
    assert "from 2024-q4" in result.output


def test_committed_schema_matches_the_model() -> None:
    for name, schema in json_schemas().items():
        committed = json.loads((REPO / "newsletters" / f"{name}.schema.json").read_text("utf-8"))
        assert committed == schema, f"run `nyhetsbrev schema`: {name}.schema.json is stale"


def test_schema_command_writes_and_checks(workspace: Path, cli) -> None:
    (workspace / "newsletters" / "issue.schema.json").write_text("{}", "utf-8")
    assert cli("schema", "--check").exit_code == 1
    assert cli("schema").exit_code == 0
    assert cli("schema", "--check").output == "schemas are up to date\n"


def test_every_issue_file_names_its_schema() -> None:
    for path in (REPO / "newsletters").glob("*/issue.yaml"):
        first = path.read_text("utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../issue.schema.json"


def test_init_makes_a_workspace_that_checks(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("NYHETSBREV_TODAY", "2026-05-02")
    result = cli("init", "mitt")
    assert result.exit_code == 0, result.output
    # The theme stays packaged (an upgrade brings its fixes); `theme copy` makes it editable.
    assert (tmp_path / "mitt/templates").is_dir()
    assert not (tmp_path / "mitt/templates/kom").exists()
    assert (tmp_path / "mitt/newsletters/2026-q2/issue.yaml").is_file()
    check = cli("--root", str(tmp_path / "mitt"), "check", "2026-q2")
    assert check.exit_code == 0, check.output
    assert "0 errors" in check.output
    assert cli("init", "mitt").exit_code == 1


def test_starter_masthead_is_the_repository_one() -> None:
    starter = REPO / "src/nyhetsbrev/starter/kom.yaml"
    assert starter.read_text("utf-8") == (REPO / "newsletters/kom.yaml").read_text("utf-8")


def test_outside_a_workspace_says_so_in_one_line(tmp_path: Path, cli, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NYHETSBREV_ROOT", raising=False)
    result = cli("check", "2024-q4")
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert "is not inside a nyhetsbrev workspace" in result.output


def test_version_help_and_usage_errors(cli) -> None:
    assert cli("--version").output == f"nyhetsbrev, version {__version__}\n"
    for verb in ("check", "new", "schema", "init"):
        assert cli(verb, "--help").exit_code == 0
    assert cli("check").exit_code == 2
    assert cli("check", "2024-q4", "--format", "xml").exit_code == 2


def test_unexpected_errors_are_one_line_unless_debug(workspace: Path, cli, monkeypatch) -> None:
    import nyhetsbrev.issue.check as checking  # where `check` looks it up when it runs

    def boom(*_: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(checking, "check_issue", boom)
    result = cli("check", "2024-q4")
    assert result.exit_code == 1
    assert result.output.startswith("Error: unexpected RuntimeError: disk on fire\n")
    assert "Traceback" not in result.output
    try:
        cli("--debug", "check", "2024-q4")
    except RuntimeError as exc:
        assert str(exc) == "disk on fire"
    else:  # pragma: no cover
        raise AssertionError("--debug should let the exception through")
